/**
 * Byte-exact batch packing: which messages go into which `SendMessageBatch` call.
 *
 * First fit: each message goes into the first batch that still has an entry slot and room for
 * its bytes. A message of a group may only go into the batch of its group's previous message or
 * a later one, so a group's messages keep their order across batches and within each batch.
 *
 * Without `onePerGroup` messages are placed in input order. With `onePerGroup` (a batch holds at
 * most one message of each group) they are placed round-robin over the groups — every group's
 * first message, then every group's second, … (input order within each round, ungrouped
 * messages in the first) — and each batch lists its entries in input order again. In input
 * order, a group's k-th message could only go into a batch after its (k−1)-th, so a call's
 * groups ran out before its slots did: 25 groups of 10 messages took 30 calls, 5 of them half
 * full; placed round-robin they take 25 full ones. A group's order is the same either way.
 * Pure: no I/O; fuzzed in `sqs.fuzz.test.ts`, the round-robin fill in `pack.test.ts`.
 */

/** What the packer needs to know about one message. */
export interface PackItem {
  /** Size as SQS counts it (see `messageBytes`). */
  bytes: number;
  /** The message group, when order within it matters. */
  group?: string | undefined;
}

/** Limits for one batch. */
export interface PackLimits {
  /** Entries per batch. @default 10 */
  maxEntries: number;
  /** Sum of message sizes per batch. A message larger than this gets a batch of its own. */
  maxBytes: number;
  /** At most one message of a group per batch. @default false */
  onePerGroup?: boolean;
}

/**
 * Packs items into batches; returns each batch as the list of item indices, in input order.
 *
 * @example
 * packBatches([{ bytes: 600 }, { bytes: 600 }, { bytes: 300 }], { maxEntries: 10, maxBytes: 1000 })
 * // [[0, 2], [1]]
 */
export function packBatches(items: ReadonlyArray<PackItem>, limits: PackLimits): number[][] {
  const batches: number[][] = [];
  const used: number[] = [];
  const groupsIn: Array<Set<string>> = [];
  const lastBatchOf = new Map<string, number>();
  // Index of the first batch that may still have room: batches before it are full by count.
  let firstOpen = 0;
  for (const i of limits.onePerGroup ? roundRobin(items) : items.keys()) {
    const { bytes, group } = items[i]!;
    let b = group === undefined ? firstOpen : Math.max(firstOpen, lastBatchOf.get(group) ?? 0);
    for (; b < batches.length; b++) {
      if (batches[b]!.length >= limits.maxEntries) continue;
      if (used[b]! + bytes > limits.maxBytes) continue;
      if (limits.onePerGroup && group !== undefined && groupsIn[b]!.has(group)) continue;
      break;
    }
    if (b === batches.length) {
      batches.push([]);
      used.push(0);
      groupsIn.push(new Set());
    }
    batches[b]!.push(i);
    used[b]! += bytes;
    if (group !== undefined) {
      lastBatchOf.set(group, b);
      groupsIn[b]!.add(group);
    }
    while (firstOpen < batches.length && batches[firstOpen]!.length >= limits.maxEntries) firstOpen++;
  }
  // Placed round-robin, a batch's entries go out in input order all the same (one per group, so no group's order depends on it).
  if (limits.onePerGroup) for (const batch of batches) batch.sort((a, b) => a - b);
  return batches;
}

/**
 * The indices of `items` by their place in their group (a group's first message, then its
 * second, …), input order within each place; an ungrouped message counts as first of its own.
 */
function roundRobin(items: ReadonlyArray<PackItem>): number[] {
  const seen = new Map<string, number>();
  const rounds: number[][] = [];
  for (let i = 0; i < items.length; i++) {
    const group = items[i]!.group;
    const k = group === undefined ? 0 : (seen.get(group) ?? 0);
    if (group !== undefined) seen.set(group, k + 1);
    (rounds[k] ??= []).push(i);
  }
  return rounds.flat();
}
