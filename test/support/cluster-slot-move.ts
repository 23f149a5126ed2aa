/**
 * A Redis Cluster of a test file's own (three masters on free ports) whose slot a test moves by
 * hand from one master to another, as `redis-cli --cluster reshard` does: the target IMPORTING,
 * the source MIGRATING, the keys MIGRATEd (the source then answers ASK for them), and last every
 * node told the slot's new owner (the source then answers MOVED). For the tests of a store on a
 * cluster whose slot map goes stale under it.
 */
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedisCluster, type OwnCluster } from './servers.js';

/** One slot on its way from the master that serves it to another one. */
export interface SlotMove {
  slot: number;
  /** The master serving the slot before the move, and the one it moves to. */
  from: Redis;
  to: Redis;
  /** Moves `keys` (whole keys, prefix included) of the slot to the target. */
  migrate(...keys: string[]): Promise<void>;
  /** The slot's keys a node holds, sorted (EXISTS on the source would answer ASK for a missing key). */
  keysOn(node: Redis): Promise<string[]>;
  /** Ends the move: every node assigns the slot to the target. */
  finish(): Promise<void>;
}

export interface MovableCluster {
  own: OwnCluster;
  /** The client under test, over the own cluster (`clusterRetryStrategy: () => null` and `options`). */
  cluster: Cluster;
  /** One plain client a node, by port, for the CLUSTER commands. */
  admin: Map<number, Redis>;
  /** Starts moving the slot of `key` to another master (IMPORTING, then MIGRATING). */
  beginMove(key: string): Promise<SlotMove>;
}

/**
 * Registers `beforeAll` (starts the cluster, connects `cluster` and `admin`) and `afterAll` (closes
 * them, stops the cluster) where it is called; read the fields inside tests.
 */
export function useMovableCluster(options: ClusterOptions = {}): MovableCluster {
  const admin = new Map<number, Redis>();
  const movable = { admin } as MovableCluster;
  movable.beginMove = (key) => beginMove(movable, key);
  beforeAll(async () => {
    movable.own = await startRedisCluster();
    movable.cluster = new Cluster(movable.own.nodes, { clusterRetryStrategy: () => null, ...options });
    for (const port of movable.own.ports) admin.set(port, new Redis({ host: '127.0.0.1', port }));
  }, 60_000);
  afterAll(async () => {
    movable.cluster?.disconnect();
    for (const client of admin.values()) client.disconnect();
    await movable.own?.stop();
  });
  return movable;
}

async function beginMove({ own, admin }: MovableCluster, key: string): Promise<SlotMove> {
  const any = admin.get(own.ports[0]!)!;
  const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key));
  const slots = (await any.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
  const owner = slots.find(([first, last]) => slot >= first && slot <= last)![2][1];
  const ids = new Map<number, string>();
  for (const [port, client] of admin) ids.set(port, String(await client.call('CLUSTER', 'MYID')));
  const target = own.ports.find((p) => p !== owner)!;
  const from = admin.get(owner)!;
  const to = admin.get(target)!;
  await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', ids.get(owner)!);
  await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', ids.get(target)!);
  return {
    slot,
    from,
    to,
    async migrate(...keys) {
      await from.call('MIGRATE', '127.0.0.1', target, '', 0, 5_000, 'KEYS', ...keys);
    },
    async keysOn(node) {
      return ((await node.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]).sort();
    },
    async finish() {
      for (const client of admin.values()) await client.call('CLUSTER', 'SETSLOT', slot, 'NODE', ids.get(target)!);
    },
  };
}
