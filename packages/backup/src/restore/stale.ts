/**
 * Which stale outbox records a snapshot already holds. A record is `stale` when its `seq` was at
 * or below its aggregate's last archived `seq` (`stale` is that `seq`) — on a standard queue, a
 * redelivered copy or an older event that arrived late. A point-in-time restore replays the
 * records after the snapshot's mark over the snapshot, which reflects every event archived
 * before the mark (an outbox event is sent after its change commits, and the snapshot reads
 * after its mark). Replaying a stale record whose later `seq` was archived before the mark would
 * roll the document back (or bring a deleted one back), so it is skipped. A stale record whose
 * later `seq` came after the mark is left to `replacesKept` (change-order.ts), as before: with a
 * target time between the two events, the older one is the document's state.
 */
import type { StreamRecord } from '../stream/types.js';
import { aggregateOrder } from './change-order.js';

/**
 * Reads the records after a snapshot's mark in the order they were archived (every one, whatever
 * its time) and says which stale ones the snapshot holds.
 */
export class HeldBySnapshot {
  /** Per aggregate, the highest `seq` archived before the mark, where known (its first record after the mark was stale). */
  private readonly before = new Map<string, number>();
  /** Per aggregate, the `seq`s first archived after the mark (records not stale). */
  private readonly after = new Map<string, Set<number>>();

  /** Whether `record` (the next in archive order) is a stale event whose later `seq` the snapshot already holds. */
  holds(record: StreamRecord): boolean {
    const order = aggregateOrder(record);
    if (!order) return false;
    const first = !this.before.has(order.aggregate) && !this.after.has(order.aggregate);
    let raised = this.after.get(order.aggregate);
    if (!raised) this.after.set(order.aggregate, (raised = new Set()));
    if (record.stale === undefined) {
      raised.add(order.seq);
      return false;
    }
    // The first record of its aggregate after the mark, stale: what it was stale against was archived before the mark.
    if (first) this.before.set(order.aggregate, record.stale);
    const before = this.before.get(order.aggregate);
    // Its later seq was archived before the mark unless a record after the mark first archived it.
    return (before !== undefined && order.seq <= before) || !raised.has(record.stale);
  }
}
