/**
 * `@steadyfn/handler/logging`: send steadyfn's log entries to the logger you already run —
 * `powertoolsLogSink(logger)` for Powertools for AWS Lambda, `pinoLogSink(logger)` for pino —
 * as the handler's `logSink` (or `toMiddy`'s). Neither library is a dependency.
 *
 * @packageDocumentation
 */
export { powertoolsLogSink, pinoLogSink } from './log-sinks.js';
export type { PowertoolsLoggerLike, PinoLoggerLike } from './log-sinks.js';
export type { LogRecord, LogRecordSink, LogLevel } from './logger.js';
