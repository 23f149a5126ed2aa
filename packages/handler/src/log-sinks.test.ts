/**
 * steadyfn's entries written by the real `@aws-lambda-powertools/logger` and `pino`: the lines
 * those libraries actually write, with the invocation's fields and steadyfn's masking.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, handler, type Context } from './index.js';
import { pinoLogSink, powertoolsLogSink } from './logging.js';

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../test/fixtures/aws/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = () => ({ awsRequestId: 'req-7', functionName: 'orders', getRemainingTimeInMillis: () => 30_000 });

/** What the function logs: a field of its own, a secret by name, credentials in a URL. */
function logsAnOrder(_input: unknown, ctx: Context): string {
  ctx.log.info('order received', { qty: 2, headers: { authorization: 'Bearer abc' }, db: 'postgres://app:hunter2@db.internal/shop' });
  return 'ok';
}

/** Lines written to stdout and stderr while `fn` runs (Powertools writes through a Console on both). */
async function outputLines(fn: () => Promise<unknown>): Promise<Json[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) stream.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof stream.write;
  try {
    await fn();
  } finally {
    streams.forEach((stream, i) => (stream.write = writes[i]!));
  }
  return lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
}

describe('powertoolsLogSink', () => {
  it('writes each entry as a Powertools line carrying the invocation fields, masked', async () => {
    const logger = new Logger({ serviceName: 'orders', logLevel: 'DEBUG' });
    const main = handler({ logSink: powertoolsLogSink(logger), logLevel: 'debug' }, logsAnOrder);
    const lines = await outputLines(() => main.aws(fixture('sqs-standard-batch.json'), lambdaContext()));
    const line = lines.find((l) => l.message === 'order received')!;
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'orders',
      fn: 'orders',
      provider: 'aws',
      trigger: 'queue',
      qty: 2,
      headers: { authorization: '[redacted]' },
      db: 'postgres://[redacted]@db.internal/shop',
    });
    expect(line.requestId).toMatch(/^req-7:/);
    expect(typeof line.deliveryId).toBe('string');
    expect(typeof line.coldStart).toBe('boolean');
    expect(typeof line.timestamp).toBe('string');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('passes steadyfn’s own lines at their level (a failed invocation is an ERROR line)', async () => {
    const logger = new Logger({ serviceName: 'orders' });
    const main = handler({ logSink: powertoolsLogSink(logger), logLevel: 'info' }, () => {
      throw new Error('boom');
    });
    const lines = await outputLines(() => main.aws(fixture('apigw-v2-post.json'), lambdaContext()));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'invocation failed', code: 'INTERNAL', trigger: 'http', requestId: 'req-7' }));
    expect(JSON.stringify(lines)).not.toContain('boom');
  });
});

describe('pinoLogSink', () => {
  it('writes each entry as a pino line: numeric level, msg, the fields merged in, masked', async () => {
    const lines: Json[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Json) });
    const main = handler({ logSink: pinoLogSink(logger), logLevel: 'debug' }, logsAnOrder);
    await main.aws(fixture('apigw-v2-post.json'), lambdaContext());
    const line = lines.find((l) => l.msg === 'order received')!;
    expect(line).toMatchObject({
      level: 30,
      fn: 'orders',
      provider: 'aws',
      requestId: 'req-7',
      trigger: 'http',
      qty: 2,
      headers: { authorization: '[redacted]' },
      db: 'postgres://[redacted]@db.internal/shop',
    });
    expect(typeof line.time).toBe('number');
    expect(typeof line.coldStart).toBe('boolean');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('keeps pino’s own level: a warn-level pino drops steadyfn’s info entries', async () => {
    const lines: Json[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as Json) });
    await handler({ logSink: pinoLogSink(logger) }, logsAnOrder).aws(fixture('apigw-v2-post.json'), lambdaContext());
    expect(lines).toEqual([]);
  });
});

describe('sink options', () => {
  it('refuse a logger without the level methods, as handler() refuses a bad logSink', () => {
    expect(() => pinoLogSink({} as never)).toThrow(ConfigurationError);
    expect(() => powertoolsLogSink({ info: () => undefined } as never)).toThrow(/powertoolsLogSink\(\): option "logger"/);
    expect(() => handler({ logSink: { write: 1 } as never }, () => undefined)).toThrow(/logSink/);
  });
});
