/** A Redis-only function (see function-child.ts): `ctx.redis.ping()`. */
import { connections } from '../../src/index.js';
import { redis } from '../../src/redis.js';
import { serve } from './function-child.js';

const lines: string[] = [];
void serve(connections({ redis: redis() }, { closeOnSigterm: false }), async (ctx) => ({ pong: await ctx.redis.ping() }), lines);
