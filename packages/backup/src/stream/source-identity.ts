/**
 * Which source a stream backup's checkpoint belongs to. The checkpoint's `position` and
 * `sourceState` only mean something for the source that gave them: handed to another (a Redis
 * stream under another key, another collection or queue), the entries of the new source up to
 * the old position would be skipped without a gap ("gaps are never silent"). So the checkpoint
 * records the source (`kind` and `identity`), and a run with another source under the same
 * stream name is refused before it reads or writes anything: a new source needs a new name.
 * A checkpoint written before it recorded its source is taken as the configured source's, and
 * names it on its next save.
 */
import { z } from 'zod';
import { invalidOption } from '@steadyfn/handler/internal';
import type { StreamSource } from './types.js';

/** The source a checkpoint belongs to: its `kind` and its identity (a Redis stream's key, `<db>.<collection>` and field, an SQS queue). */
export const streamSourceSchema = z.object({ kind: z.string().min(1), identity: z.string() });

/** The source a checkpoint belongs to. */
export type StreamSourceIdentity = z.infer<typeof streamSourceSchema>;

/** The configured source's identity (`identity()` when it has one; else its kind alone). */
export async function identityOf(source: StreamSource, signal?: AbortSignal): Promise<StreamSourceIdentity> {
  return { kind: source.kind, identity: source.identity === undefined ? '' : await source.identity(signal) };
}

/**
 * Refuses a run whose source is not the one the checkpoint belongs to. The message names the
 * kinds only: a key, collection or queue name is the user's data.
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `name`) another kind or identity
 */
export function checkSameSource(name: string, stored: StreamSourceIdentity | undefined, current: StreamSourceIdentity): void {
  if (stored === undefined || (stored.kind === current.kind && stored.identity === current.identity)) return;
  const what = stored.kind === current.kind ? `a ${stored.kind} source of another ${noun(stored.kind)}` : `a ${stored.kind} source, not ${current.kind}`;
  invalidOption(
    'streamBackup',
    'name',
    `the name of this source's stream: streams/${name}/ holds the checkpoint of ${what}, whose position means nothing for the source given now (its entries up to that position would be skipped); a new source needs a new name (nothing was read or written)`,
    name,
  );
}

function noun(kind: string): string {
  if (kind === 'redis-stream') return 'key';
  if (kind === 'mongo-watermark') return 'collection or watermark field';
  if (kind === 'sqs') return 'queue';
  return 'identity';
}
