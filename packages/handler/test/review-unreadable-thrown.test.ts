/**
 * A thrown value that throws when read — a Proxy whose traps throw, a revoked Proxy — escaped
 * the wrapper: `instanceof SteadyError` (its `Symbol.hasInstance` reads the prototype and the
 * brand) threw from `toSteadyError`, so an SQS batch was rejected whole (every message, the
 * ones that had succeeded too, retried), an HTTP call rejected (API Gateway's bare 502), and the
 * trap's own message reached the runtime as `errorMessage`; nothing was logged. A revoked Proxy
 * of a function (`typeof` 'function') was kept as the cause and threw in the failure log the
 * same way. Such a value is
 * an unexpected failure like any other: `INTERNAL`, retryable, its message never shown.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler, type Plugin } from '../src/index.js';

const SECRET = 'trap secret 4711';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/aws/${name}`, import.meta.url), 'utf8')) as { Records: Array<{ messageId: string }> };
const context = { awsRequestId: 'req-1', functionName: 'f', getRemainingTimeInMillis: () => 60_000 };

function unreadable(): Array<[string, () => unknown]> {
  return [
    ['a Proxy whose get trap throws', () => new Proxy({}, { get: () => { throw new Error(SECRET); } })],
    ['a revoked Proxy', () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy; }],
    // typeof 'function': kept as the cause, `cause instanceof Error` threw in the failure log.
    ['a revoked Proxy of a function', () => { const { proxy, revoke } = Proxy.revocable(function thrower() {}, {}); revoke(); return proxy; }],
    // Read once when converted, kept as the cause: the failure log's second read must not throw.
    ['an Error whose name throws from its second read', () => {
      let reads = 0;
      return new Proxy(new Error('x'), { get: (target, key, receiver) => { if (key === 'name' && ++reads > 1) throw new Error(SECRET); return Reflect.get(target, key, receiver) as unknown; } });
    }],
    ['a Proxy of an Error whose getPrototypeOf trap throws', () => new Proxy(new Error('x'), { getPrototypeOf: () => { throw new Error(SECRET); } })],
  ];
}

describe('a thrown value that throws when read', () => {
  for (const [name, make] of unreadable()) {
    it(`${name}: each SQS message fails alone as INTERNAL, logged; HTTP answers 500; invoke rejects INTERNAL`, async () => {
      const lines: string[] = [];
      const event = sample('sqs-standard-batch.json');
      const failing = event.Records[1]!.messageId;
      const main = handler({ logSink: (l) => lines.push(l) }, (_input, ctx) => {
        if (ctx.trigger.kind === 'queue' && ctx.trigger.messageId !== failing) return;
        throw make();
      });
      await expect(main.aws(event, context)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: failing }] });
      const http = sample('apigw-v2-post.json');
      const answer = (await main.aws(http, context)) as { statusCode: number; body: string };
      expect(answer.statusCode).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'INTERNAL' });
      await expect(main.invoke({})).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
      const failures = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'invocation failed');
      expect(failures).toHaveLength(3);
      for (const line of failures) expect(line).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect(lines.join('\n')).not.toContain(SECRET);
    });
  }

  it('thrown by an afterBatch hook: logged, and the batch is still answered', async () => {
    const lines: string[] = [];
    const [, make] = unreadable()[1]!;
    const settle: Plugin = { name: 'settle', afterBatch: () => { throw make(); } };
    const main = handler({ use: [settle], logLevel: 'warn', logSink: (l) => lines.push(l) }, () => undefined);
    await expect(main.aws(sample('sqs-standard-batch.json'), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ msg: 'plugin afterBatch hook failed', plugin: 'settle', code: 'INTERNAL' }));
  });
});
