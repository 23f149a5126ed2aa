/**
 * `watchRedis` counts commands with MONITOR on the shared Redis, where other test files send
 * commands at the same time (CI runs every file in parallel). Starting MONITOR while another
 * client is busy must not kill the test file (ioredis's `monitor()` took a feed line that came
 * with MONITOR's `+OK` for a command reply: "Command queue state error").
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../../test/services/env.js';
import { redisClient, unique, watchRedis } from './support.js';

let redis: Redis;
let busy: Redis;

beforeAll(async () => {
  await requireService('redis');
  redis = await redisClient();
  busy = await redisClient();
});

afterAll(async () => {
  await redis?.quit();
  await busy?.quit();
});

describe('watchRedis while another client is busy on the same Redis', () => {
  it('starts, counts only its own client, and stops, 40 times over', async () => {
    const key = unique('watched');
    let stop = false;
    // Another client's steady traffic (bounded: it ends with the test).
    const load = (async () => {
      for (let i = 0; !stop && i < 200_000; i++) await Promise.all([busy.get('noise'), busy.get('noise'), busy.get('noise')]);
    })();
    try {
      for (let round = 0; round < 40; round++) {
        const log = await watchRedis(redis);
        await redis.get(key);
        expect(await log.take()).toEqual([['get', key]]);
        await log.stop();
      }
    } finally {
      stop = true;
      await load;
    }
  });

  it('gives back arguments as sent, quotes, backslashes and non-ASCII included', async () => {
    const log = await watchRedis(redis);
    const odd = unique('say "hi"\\ ünïcødé 😀\n');
    await redis.get(odd);
    expect(await log.take()).toEqual([['get', odd]]);
    await log.stop();
  });
});
