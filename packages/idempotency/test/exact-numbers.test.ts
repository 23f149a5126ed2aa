/**
 * JSON bodies whose numbers a plain parse rounds (anything past 2^53, long decimals): the
 * function sees `12345678901234567891` and `12345678901234567892` as the same number, but they
 * are two requests — a payment to another account must not be answered with the first one's
 * replay. Through the real Lambda adapter (API Gateway HTTP API events) and the Functions
 * Framework's server (the body as the client sent it, in `rawBody`), on each real store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '@steadyfn/handler';
import { canonicalHash, idempotency, scopeOf, storeKey } from '../src/index.js';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { BACKENDS, httpEvent, lambdaContext, silentSink, useBackend } from './support.js';

afterAll(closeServers);

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };

/** An HTTP API event whose body is this exact text (not re-serialised). */
function rawJsonEvent(body: string, key?: string): Record<string, unknown> {
  return { ...httpEvent(key === undefined ? {} : { key }), body };
}

describe.each(BACKENDS)('numbers a JSON parse rounds, on %s', (name) => {
  const backend = useBackend(name);

  const make = (runs: string[]) =>
    handler({ name: `exact-${randomUUID()}`, logSink: silentSink(), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      runs.push(String((input as { accountId: number }).accountId));
      return { ok: true };
    });
  const call = async (main: ReturnType<typeof make>, event: Record<string, unknown>): Promise<LambdaHttp> => (await main.aws(event, lambdaContext())) as LambdaHttp;

  it('the input key tells apart two bodies that differ only in a digit past 2^53; the same body, reordered, is still a replay', async () => {
    const runs: string[] = [];
    const main = make(runs);
    const first = await call(main, rawJsonEvent('{"accountId":12345678901234567891,"amountCents":100}'));
    const other = await call(main, rawJsonEvent('{"accountId":12345678901234567892,"amountCents":100}'));
    const again = await call(main, rawJsonEvent('{ "amountCents": 100, "accountId": 12345678901234567891 }'));
    expect(first.statusCode).toBe(200);
    expect(other.statusCode).toBe(200);
    expect(other.headers['Idempotency-Replayed']).toBeUndefined();
    expect(again.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toHaveLength(2);
  });

  it('on the Functions Framework too: the exact text the client sent tells the two apart', async () => {
    const runs: string[] = [];
    const url = await serve('http', make(runs).gcpHttp);
    const post = (body: string) => fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const first = await post('{"accountId":12345678901234567891}');
    const other = await post('{"accountId":12345678901234567892}');
    const again = await post('{"accountId":12345678901234567891}');
    expect([first.status, other.status, again.status]).toEqual([200, 200, 200]);
    expect(other.headers.get('idempotency-replayed')).toBeNull();
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(runs).toHaveLength(2);
  });

  it('the same Idempotency-Key with a different long decimal is refused with 422, not replayed', async () => {
    const main = make([]);
    const key = randomUUID();
    const first = await call(main, rawJsonEvent('{"accountId":1,"rate":0.10000000000000000001}', key));
    const reused = await call(main, rawJsonEvent('{"accountId":1,"rate":0.10000000000000000002}', key));
    expect(first.statusCode).toBe(200);
    expect(reused.statusCode).toBe(422);
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('one number written another way (…891, …891.0, 1.…891e19) is the same request: a replay, not another run nor a 422', async () => {
    const runs: string[] = [];
    const main = make(runs);
    const key = randomUUID();
    const first = await call(main, rawJsonEvent('{"accountId":12345678901234567891,"amountCents":100}'));
    const decimal = await call(main, rawJsonEvent('{"amountCents":100.0,"accountId":12345678901234567891.0}'));
    const exponent = await call(main, rawJsonEvent('{"accountId":1.2345678901234567891e19,"amountCents":1e2}'));
    expect([first.statusCode, decimal.statusCode, exponent.statusCode]).toEqual([200, 200, 200]);
    expect([decimal.headers['Idempotency-Replayed'], exponent.headers['Idempotency-Replayed']]).toEqual(['true', 'true']);
    // Under one Idempotency-Key: the retry a client's other JSON writer sends is replayed, not refused.
    const keyed = await call(main, rawJsonEvent('{"accountId":-12345678901234567891,"amountCents":100}', key));
    const retried = await call(main, rawJsonEvent('{"accountId":-123456789012345678910e-1,"amountCents":100}', key));
    expect(keyed.statusCode).toBe(200);
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['Idempotency-Replayed']).toBe('true');
    expect(runs).toHaveLength(2);
  });

  it('a body whose numbers all survive the parse keeps the key it always had (records written before still match)', async () => {
    const runs: string[] = [];
    const fnName = `exact-${randomUUID()}`;
    const main = handler({ name: fnName, logSink: silentSink(), use: [idempotency({ store: backend.store, namespace: fnName, ttlMs: 3_600_000, localCache: false })] }, (input) => {
      runs.push(String((input as { accountId: number }).accountId));
      return { ok: true };
    });
    await call(main, rawJsonEvent('{"accountId":9007199254740991,"amountCents":100}'));
    const record = await backend.store.get(storeKey(scopeOf(fnName), { kind: 'input', value: canonicalHash(['POST', '/orders', { accountId: 9007199254740991, amountCents: 100 }]) }));
    expect(record).toBeDefined();
  });
});
