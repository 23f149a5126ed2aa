/**
 * `@steadyfn/connections/redis`: ioredis clients (single node and Cluster). Importing this
 * entry needs `ioredis` installed; nothing else.
 *
 * @packageDocumentation
 */
export { redis } from './clients/redis.js';
export type { RedisClientOptions, RedisHandle } from './clients/redis.js';
export { redisCluster } from './clients/redis-cluster.js';
export { ReplyLostError } from './clients/cluster-replies.js';
export type { RedisClusterClientOptions, RedisClusterHandle } from './clients/redis-cluster.js';
export { READ_ONLY_COMMANDS, commandView } from './view.js';
