/**
 * The snapshot in one S3 object. Apart from `snapshots.ts` because it reads through the S3
 * source, which loads `@aws-sdk/client-s3`: only the `@steadyfn/state/s3` entry reaches it.
 */
import { checkKnownKeys, invalidOption, isRecord, keysOf } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import { s3Source, type S3SourceOptions } from '../sources/s3.js';
import { booleanOption, bytesOption, functionOption } from '../options.js';
import { parseJson, withJsonPosition } from '../util.js';
import { SNAPSHOT_IF_CHANGED, type SnapshotIfChanged } from './snapshots.js';
import type { Snapshot, SnapshotStore } from './types.js';

/** Options of `s3Snapshot()`: the object (`client`, `bucket`, `key`, `maxBytes`) and how to read it. */
export interface S3SnapshotOptions<S, P> extends S3SourceOptions {
  /**
   * `true` (default): a missing object means no snapshot yet (every event is replayed from
   * `initial()`). `false`: a missing object fails the load.
   * @default true
   */
  optional?: boolean;
  /** Turns the parsed JSON into a snapshot. Default: the object is `{ "position": …, "state": … }`. */
  decode?: (json: unknown) => Snapshot<S, P>;
}

function defaultDecode<S, P>(json: unknown): Snapshot<S, P> {
  if (typeof json !== 'object' || json === null || !('position' in json) || !('state' in json)) {
    throw new SourceError('the snapshot must be a JSON object with "position" and "state"');
  }
  return json as Snapshot<S, P>;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const S3_SNAPSHOT_KEYS = keysOf<S3SnapshotOptions<unknown, unknown>>({ client: true, bucket: true, key: true, maxBytes: true, optional: true, decode: true });

/**
 * The snapshot in one S3 object (overwritten by whoever writes snapshots). A missing object means
 * none yet — or, with `optional: false`, fails the load.
 * @throws ConfigurationError (`CONFIG_INVALID`) as `s3Object()`, when `options` is not an object
 *   (field `options`), or when `decode` is not a function.
 */
export function s3Snapshot<S, P = string>(options: S3SnapshotOptions<S, P>): SnapshotStore<S, P> {
  if (!isRecord(options)) invalidOption('s3Snapshot', 'options', 'an object { client, bucket, key, maxBytes?, optional?, decode? }', options);
  checkKnownKeys('s3Snapshot', '', options, S3_SNAPSHOT_KEYS);
  functionOption('s3Snapshot', 'decode', options.decode, 'a function (json) => { position, state }');
  bytesOption('s3Snapshot', 'maxBytes', options.maxBytes);
  booleanOption('s3Snapshot', 'optional', options.optional);
  const decode = options.decode ?? defaultDecode<S, P>;
  const source = s3Source<Snapshot<S, P> | undefined>('s3Snapshot', {
    client: options.client,
    bucket: options.bucket,
    key: options.key,
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    // A missing object is no snapshot yet — unless `optional: false` says one must exist.
    optional: options.optional ?? true,
    decode: (text) => decode(parseJson(text, 'the snapshot')),
  });
  const ifChanged: SnapshotIfChanged<S, P> = async (tag, signal) => {
    try {
      // An ETag: a conditional GET (304 is unchanged); none (a missing object, or no ETag): a plain one.
      const result = typeof tag === 'string' ? await source.revalidate!({ value: undefined, version: tag } as Parameters<NonNullable<typeof source.revalidate>>[0], signal) : await source.load(signal);
      return result === 'unchanged' ? 'unchanged' : { snapshot: result.value, tag: result.version };
    } catch (error) {
      throw await withJsonPosition(error);
    }
  };
  const store: SnapshotStore<S, P> & { [SNAPSHOT_IF_CHANGED]: SnapshotIfChanged<S, P> } = {
    description: `snapshot ${source.description}`,
    read: async (signal) => {
      try {
        return (await source.load(signal)).value;
      } catch (error) {
        throw await withJsonPosition(error);
      }
    },
    [SNAPSHOT_IF_CHANGED]: ifChanged,
  };
  // Not enumerable: the store's keys stay those of SnapshotStore.
  Object.defineProperty(store, SNAPSHOT_IF_CHANGED, { enumerable: false });
  return store;
}

