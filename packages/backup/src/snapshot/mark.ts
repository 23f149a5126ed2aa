/**
 * A snapshot's marks (`mark`: the time, the source's clock, the stream's position) and its
 * stream mark: the named stream backup's checkpointed position when the snapshot
 * starts (and ends). Everything after the start mark is replayed on a point-in-time restore;
 * everything up to it was already in the database when the snapshot began reading.
 */
import type { PositionMark } from '../format/manifest.js';
import type { S3Location } from '../s3/client.js';
import { notBeforeS3 } from '../s3-clock.js';
import { readStreamCheckpoint } from '../stream/checkpoint.js';
import type { ResolvedSnapshotOptions } from './options.js';

/** A stream position as marks and checkpoints record it. */
export interface StreamMark {
  name: string;
  timeline: number;
  /** Number of the last object written on the timeline (0: none yet). */
  seq: number;
  /** Source position of the last archived record (null: none yet). */
  position: string | null;
}

/** The stream's current mark (its checkpoint), or the empty mark of timeline 1 when it has none yet. */
export async function streamMark(loc: S3Location, name: string, signal?: AbortSignal): Promise<StreamMark> {
  const found = await readStreamCheckpoint(loc, name, signal);
  return found ? { name, timeline: found.value.timeline, seq: found.value.seq, position: found.value.position } : { name, timeline: 1, seq: 0, position: null };
}

/**
 * The source's and the stream's positions now, and the time: the runner's clock, or — given
 * `clockKey`, a key whose GET reads S3's clock (see s3-clock.ts) — never earlier than S3's.
 */
export async function mark(options: ResolvedSnapshotOptions, loc: S3Location, signal?: AbortSignal, clockKey?: string): Promise<PositionMark> {
  const serverTime = await options.source.serverTime(signal).catch(() => undefined);
  const stream = options.stream === undefined ? undefined : await streamMark(loc, options.stream, signal);
  const time = clockKey === undefined ? Date.now() : await notBeforeS3(loc, clockKey, signal);
  return { time: new Date(time).toISOString(), ...(serverTime ? { serverTime } : {}), ...(stream ? { stream } : {}) };
}
