/**
 * The Redis relay store marks events and releases their lease in one script on its own server
 * (`@steadyfn/lease`'s settle fragment): the lease store must keep its keys there. Checked once,
 * by a probe, before the first `begin`.
 */
import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import type { RelayLease } from '../relay/types.js';
import type { RedisLike } from './redis-client.js';

/**
 * Whether `lease`'s keys are on `client`'s server and database: a probe key claimed through the
 * lease store (10 s), looked for through `client`, then removed. Three round trips, once per store.
 */
async function leaseSeesSameKeys(client: RedisLike, lease: RelayLease & Required<Pick<RelayLease, 'settleCall'>>): Promise<boolean | undefined> {
  const key = `outbox-lease-probe:${randomUUID()}`;
  const owner = randomUUID();
  const claim = await lease.claim({ key, owner, leaseMs: 10_000 });
  // Not claimed (a fresh random key): nothing learnt — undefined, probed again next round.
  if (!claim.claimed) return undefined;
  const redisKey = lease.settleCall({ key, owner, fence: claim.fence }).key;
  let seen = false;
  try {
    seen = Number(await client.call('EXISTS', redisKey)) === 1;
    return seen;
  } finally {
    // Seen: removed outright (a released lease key would be kept for the store's retainMs).
    if (seen) await client.call('DEL', redisKey).catch(() => undefined);
    else await lease.settle({ key, owner, fence: claim.fence }).catch(() => undefined);
  }
}

/** What `relay.lease` must be with a Redis outbox, and how to make one (the refusal's "expected"). */
const SAME_REDIS_LEASE = "a lease store on the outbox's own Redis server and database: redisLeaseStore({ client }) with the client given to redisOutbox (or another client to the same server and database number)";

/**
 * The check of `settleLease` (undefined: none to check): a function that probes, once, whether
 * the lease store's keys are on `client`'s server and database (a probe that failed or learnt
 * nothing is tried again by the next call); it answers undefined when there is no lease to check.
 * @throws ConfigurationError (`field: 'relay.lease'`) from the promise when they are not.
 */
export function leaseCheck(settleLease: RelayLease | undefined): (client: RedisLike) => Promise<void> | undefined {
  let leaseChecked: Promise<void> | undefined;
  return (client: RedisLike): Promise<void> | undefined => {
    if (!settleLease) return undefined;
    leaseChecked ??= leaseSeesSameKeys(client, settleLease as RelayLease & Required<Pick<RelayLease, 'settleCall'>>).then(
      (same) => {
        if (same === undefined) leaseChecked = undefined;
        if (same !== false) return;
        throw new ConfigurationError(
          `outbox(): option "relay.lease" must be ${SAME_REDIS_LEASE}; got a Redis lease store whose keys the outbox's client does not see (another server, or another database number): the outbox marks events and releases their lease in one script on its own server, which would find no lease there and mark nothing (every event sent again each lease)`,
          { field: 'relay.lease', expected: SAME_REDIS_LEASE },
        );
      },
      (error: unknown) => {
        leaseChecked = undefined;
        throw error;
      },
    );
    return leaseChecked;
  };
}
