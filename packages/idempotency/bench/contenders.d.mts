/** Types of contenders.mjs (plain JS so that built-driver.mjs runs it in plain Node). */
import type { Redis } from 'ioredis';
import type { handler } from '@steadyfn/handler';
import type { idempotency, redisStore } from '@steadyfn/idempotency';
import type { redisLeaseStore } from '@steadyfn/lease';

export interface Event {
  orderId: string;
  amount: number;
}
/** Our modules, from source (vitest) or from dist (built-driver.mjs). */
export interface SteadyModules {
  handler: typeof handler;
  idempotency: typeof idempotency;
  redisStore: typeof redisStore;
}
/** A Lambda context as the runtime passes it (a type alias, so it meets index-signature shapes). */
export type BenchLambdaContext = {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis: () => number;
  done: () => undefined;
  fail: () => undefined;
  succeed: () => undefined;
};
export declare const lambdaContext: () => BenchLambdaContext;
export declare const work: (input: unknown) => Promise<{ charged: number; orderId: string }>;
export declare const duplicateEvent: Event;
export declare const fresh: () => Event;
export declare function powertoolsClient(redis: Redis): {
  get: (name: string) => Promise<string | null>;
  set: (name: string | Uint8Array, value: unknown, options?: unknown) => Promise<string | null>;
  del: (keys: string[]) => Promise<number>;
};
export declare function makeSteady(modules: SteadyModules, redis: Redis, localCache?: boolean): (event: Event) => Promise<unknown>;
/** The duplicate path with a one-command claim: a prototype, not a product path (see contenders.mjs). */
export declare function makeOneCommandSteady(modules: SteadyModules, redis: Redis): Promise<() => Promise<unknown>>;
export declare function makePowertools(redis: Redis): (event: Event) => Promise<unknown>;
/** The duplicate path's floors against two bare commands (see contenders.mjs). */
export declare function makeFloors(
  redis: Redis,
  leaseStore: typeof redisLeaseStore,
): Promise<{ oneCommand: () => Promise<unknown>; twoCommands: () => Promise<void>; scriptClaim: () => Promise<unknown> }>;
