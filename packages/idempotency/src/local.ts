/**
 * The plugin's side of the local cache (lru.ts): completed records remembered as they are
 * claimed, completed or joined, and read before any store call, so a warm duplicate makes none.
 */
import { IdempotencyKeyReusedError } from './errors.js';
import type { LocalEntry } from './lru.js';
import type { Settings } from './options.js';
import { replayDuplicate } from './proxy-replay.js';
import { decodeStored } from './record.js';
import { sameRequest, type IdempotencyState } from './state.js';

/** Keeps a completed record for warm replays (nothing with `localCache: false`). */
export function remember(s: Settings, key: string, entry: LocalEntry): void {
  s.local?.set(key, entry);
}

/** A warm duplicate's replay, read from the local cache (a different payload under its key is a 422). */
export function fromLocal(s: Settings, state: IdempotencyState): { answer: unknown } | undefined {
  const hit = s.local?.get(state.key!);
  if (!hit) return undefined;
  if (!sameRequest(state, hit.fingerprint)) throw new IdempotencyKeyReusedError();
  return { answer: replayDuplicate(state, decodeStored(hit.result)) };
}
