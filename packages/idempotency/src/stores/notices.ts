/**
 * What a store of this package learnt about its server that the plugin logs once, through the
 * invocation's logger (a store has none): the Redis store's `LEASE_STORE_EVICTS`. Kept beside
 * the store, not on it, so `IdempotencyStore` stays the interface users implement.
 */
import type { LeaseStoreNotice } from '@steadyfn/lease/internal';
import type { IdempotencyStore } from '../types.js';

/** Takes the store's notice not yet logged, if any: each is handed out once. */
export type TakeNotice = () => LeaseStoreNotice | undefined;

const sources = new WeakMap<IdempotencyStore, TakeNotice>();

/** `store`, its notices handed out by `take`. */
export function withNotices<S extends IdempotencyStore>(store: S, take: TakeNotice): S {
  sources.set(store, take);
  return store;
}

/** How to take `store`'s notices; `undefined` for a store that has none (memory, MongoDB, a user's own). */
export function noticesOf(store: IdempotencyStore): TakeNotice | undefined {
  return sources.get(store);
}

/** A holder a lease store's `notify` fills, and its `take`. */
export function noticeBox(): { notify(notice: LeaseStoreNotice): void; take: TakeNotice } {
  let pending: LeaseStoreNotice | undefined;
  return {
    notify(notice) {
      pending = notice;
    },
    take() {
      const notice = pending;
      pending = undefined;
      return notice;
    },
  };
}
