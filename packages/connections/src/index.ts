/**
 * `@steadyfn/connections`: the driver-free core — `defineClient`, the `connections` plugin,
 * errors, platform profiles, `closeAll`, `closeOnSigterm`. The typed clients live in
 * subpath entries, each loading only its own driver, so a bundle holds only the drivers a
 * function uses: `@steadyfn/connections/redis` (`redis`, `redisCluster`),
 * `@steadyfn/connections/mongodb` (`mongo`), `@steadyfn/connections/s3` (`s3`),
 * `@steadyfn/connections/sqs` (`sqs`).
 *
 * @packageDocumentation
 */
export { defineClient, forget } from './handle.js';
export type {
  AcquireState,
  BudgetOptions,
  BudgetReading,
  ClientHandle,
  ClientSpec,
  ClientStats,
  CreateContext,
  Lease,
  RunOptions,
  WaitOptions,
} from './spec.js';
export { connections, connectionsRecord } from './plugin.js';
export type { ConnectionsPluginOptions, ConnectionsRecord, ContextValueOf } from './plugin.js';
export type { UseRecord } from './records.js';
export { closeAll } from './registry.js';
export { closeOnSigterm } from './shutdown.js';
export type { SigtermOptions } from './shutdown.js';
export { boundedRetryStrategy, detectPlatform, profileFor, reconnectOnReadonly } from './profiles.js';
export type { MongoProfile, Profile, RedisProfile } from './profiles.js';
export {
  ConnectionBudgetError,
  ConnectionLostError,
  ConnectionUnavailableError,
  CONNECTION_AUTH_FAILED,
  CONNECTION_DRIVER_LOAD_FAILED,
  CONNECTION_DRIVER_MISSING,
  isConnectionError,
  wasNotSent,
} from './errors.js';
export type { ClosedBy } from './errors.js';
export type { HandleOptions } from './clients/options.js';
