/**
 * A structured JSON logger: one line per entry, with the invocation's identity attached.
 * It never logs payloads by itself, and it masks fields whose names look like secrets.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose entries carry these fields too. */
  child(fields: Record<string, unknown>): Logger;
}

/** Where log lines go; defaults to stdout, which every provider collects. */
export type LogSink = (line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /authorization|password|passwd|secret|token|cookie|api[-_]?key|credential/i;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n');
};

function levelFromEnv(): LogLevel {
  const raw = (process.env.STEADYFN_LOG_LEVEL ?? '').toLowerCase();
  return raw in ORDER ? (raw as LogLevel) : 'info';
}

function mask(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : value;
  }
  return out;
}

function safeStringify(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Error) return { name: value.name, message: value.message };
      return value;
    });
  } catch {
    return JSON.stringify({ level: entry.level, time: entry.time, msg: entry.msg, logError: 'unserialisable fields' });
  }
}

export function createLogger(base: Record<string, unknown> = {}, sink: LogSink = stdoutSink, level: LogLevel = levelFromEnv()): Logger {
  const min = ORDER[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    sink(safeStringify({ level: lvl, time: new Date().toISOString(), msg, ...base, ...(fields ? mask(fields) : {}) }));
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ ...base, ...mask(fields) }, sink, level),
  };
}
