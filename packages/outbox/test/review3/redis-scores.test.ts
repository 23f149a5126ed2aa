/**
 * Review finding (ZADD scores): the Redis-mode argument check refused `inf`, `+inf`, `-inf`
 * and hexadecimal scores (`0x10`), which Redis takes — and took `1e-400`, which Redis refuses
 * (strtod underflow), so that write failed inside the script after applying the commands
 * before it. The check is now Redis's own rule (`isRedisScore`, compared with the server in
 * src/capture/redis-score.fuzz.test.ts); end to end on the real server here.
 */
import { handler } from '@steadyfn/handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { outbox, redisOutbox } from '../../src/index.js';
import { openRedis, type RedisBackend } from '../support.js';

let backend: RedisBackend;
beforeAll(async () => {
  backend = await openRedis('redis');
});
afterAll(async () => {
  await backend?.close();
});

const key = (name: string) => `${backend.prefix}${name}:{o-1}`;
const stream = () => `${backend.prefix}outbox:{o-1}:events`;
function writer() {
  const orders = outbox({ events: { Changed: { aggregateType: 'order', schema: z.object({}) } }, store: redisOutbox({ client: backend.client, prefix: `${backend.prefix}outbox:` }) });
  return handler({ use: [orders], logSink: () => undefined }, async (input: unknown, ctx) => {
    for (const command of (input as { commands: unknown[][] }).commands) (ctx.outbox.call as (...a: unknown[]) => void)(...command);
    ctx.outbox.add({ type: 'Changed', aggregateId: 'o-1', payload: {} });
    return 'ok';
  });
}

describe('Redis-mode ZADD scores as Redis 7 takes them', () => {
  it('inf, +inf, -inf and a hexadecimal score are written with the event', async () => {
    const commands = [['ZADD', key('z'), 'inf', 'top', '+inf', 'top2', '-inf', 'bottom', '0x10', 'sixteen']];
    await expect(writer().invoke({ commands }, { deliveryId: 'd-inf' })).resolves.toBe('ok');
    expect(await backend.client.zrange(key('z'), '0', '-1', 'WITHSCORES')).toEqual(['bottom', '-inf', 'sixteen', '16', 'top', 'inf', 'top2', 'inf']);
    expect(await backend.client.xlen(stream())).toBe(1);
  });

  it('1e-400 (Redis: not a valid float) is refused before the script: nothing written', async () => {
    const commands = [['INCRBY', key('first'), 1], ['ZADD', key('z2'), '1e-400', 'm']];
    await expect(writer().invoke({ commands }, { deliveryId: 'd-tiny' })).rejects.toMatchObject({ code: 'OUTBOX_EVENT_INVALID', retryable: false });
    expect(await backend.client.exists(key('first'))).toBe(0);
    expect(await backend.client.exists(key('z2'))).toBe(0);
  });
});
