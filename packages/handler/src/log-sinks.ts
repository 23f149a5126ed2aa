/**
 * Log sinks for the loggers teams already run: each steadyfn entry (`ctx.log`, the adapters'
 * lines) goes to that logger, with the invocation's fields and steadyfn's masking, so one
 * log stream keeps one format. Types are structural: neither library is a dependency.
 */
import { invalidOption } from './internal/options.js';
import type { LogLevel, LogRecordSink } from './logger.js';

const LEVELS: ReadonlyArray<LogLevel> = ['debug', 'info', 'warn', 'error'];

/** The part of `@aws-lambda-powertools/logger`'s `Logger` the sink calls: `logger.info(message, extra)`. */
export interface PowertoolsLoggerLike {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/** The part of a pino logger the sink calls: `logger.info(fields, message)`. */
export interface PinoLoggerLike {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

function checkLogger(owner: string, logger: unknown): void {
  const l = logger as Record<string, unknown> | null;
  if (typeof l !== 'object' || l === null || LEVELS.some((level) => typeof l[level] !== 'function')) {
    invalidOption(owner, 'logger', 'a logger with debug, info, warn and error methods', logger);
  }
}

/**
 * A sink that writes every steadyfn entry through a Powertools for AWS Lambda `Logger`: the
 * message as its message, the fields (`fn`, `provider`, `requestId`, `deliveryId`,
 * `coldStart`, `trigger`, and the entry's own, masked) as extra keys of the line it writes —
 * beside its own `service`, `timestamp` and, with `injectLambdaContext`, the Lambda context
 * keys. Its log level applies after steadyfn's. Fields named `level`, `message`,
 * `sampling_rate`, `service` or `timestamp` are Powertools' own keys: it drops them (and warns).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `logger` lacks a level method.
 * @example
 * import { Logger } from '@aws-lambda-powertools/logger';
 * const logger = new Logger({ serviceName: 'orders' });
 * export const main = handler({ logSink: powertoolsLogSink(logger) }, fn);
 * // {"level":"INFO","message":"order received","timestamp":"…","service":"orders","fn":"orders","provider":"aws","requestId":"…","coldStart":true,"trigger":"http","qty":2}
 */
export function powertoolsLogSink(logger: PowertoolsLoggerLike): LogRecordSink {
  checkLogger('powertoolsLogSink', logger);
  return { write: (record) => logger[record.level](record.msg, record.fields) };
}

/**
 * A sink that writes every steadyfn entry through a pino logger: the fields (`fn`,
 * `provider`, `requestId`, `deliveryId`, `coldStart`, `trigger`, and the entry's own, masked)
 * merged into the line, the message as `msg`, pino's numeric `level` and its `time`. Its
 * level, bindings, redaction and transport apply after steadyfn's.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `logger` lacks a level method.
 * @example
 * import pino from 'pino';
 * export const main = handler({ logSink: pinoLogSink(pino()) }, fn);
 * // {"level":30,"time":1730000000000,"pid":1,"hostname":"…","fn":"orders","provider":"aws","requestId":"…","coldStart":true,"trigger":"http","msg":"order received"}
 */
export function pinoLogSink(logger: PinoLoggerLike): LogRecordSink {
  checkLogger('pinoLogSink', logger);
  return { write: (record) => logger[record.level](record.fields, record.msg) };
}
