/**
 * The queue's `MaximumMessageSize` as a sender holds it: read once (`GetQueueAttributes`) and
 * cached, or fixed by the `maxMessageBytes` option; read again only after a refusal the cached
 * value may explain (see `SqsSenderOptions.maxMessageBytes`).
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { classifyCallError, errorCode } from './classify.js';
import { SqsQueueAttributesError } from './errors.js';
import { SERVICE_MAX_MESSAGE_BYTES, SERVICE_MIN_MESSAGE_BYTES } from './limits.js';

/** A sender's hold on its queue's message size limit. */
export interface QueueLimit {
  /** The cached limit, or the first read shared by every caller until it settles (a failed one is not cached). */
  read(signal?: AbortSignal): Promise<number>;
  /**
   * Reads the limit again after a refusal the cached value `used` may explain; undefined for a
   * fixed limit (never re-read).
   */
  reread(used: Promise<number>, signal?: AbortSignal): Promise<number> | undefined;
}

/**
 * The limit of `queueUrl`, read through `client`; `fixed`: the `maxMessageBytes` option's number,
 * never read from the queue.
 * @throws {SqsQueueAttributesError} from `read` / `reread` when the attributes cannot be read.
 */
export function queueLimit(client: SQSClient, queueUrl: string, fixed: number | undefined): QueueLimit {
  let queueMax: Promise<number> | undefined = fixed === undefined ? undefined : Promise.resolve(fixed);

  /** One `GetQueueAttributes` for `MaximumMessageSize`; a failure becomes {@link SqsQueueAttributesError}. */
  const fetchMax = (signal?: AbortSignal): Promise<number> =>
    client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }), signal === undefined ? undefined : { abortSignal: signal })
      .then((answer) => {
        const value = Number(answer.Attributes?.MaximumMessageSize);
        return Number.isInteger(value) && value >= SERVICE_MIN_MESSAGE_BYTES ? value : SERVICE_MAX_MESSAGE_BYTES;
      })
      .catch((error: unknown) => {
        const verdict = classifyCallError(error);
        throw new SqsQueueAttributesError(errorCode(error), verdict.kind === 'retry', error);
      });

  /** The cached limit, or the first read shared by every caller until it settles (a failed one is not cached). */
  const readMax = (signal?: AbortSignal): Promise<number> => {
    if (queueMax !== undefined) return queueMax;
    const reading: Promise<number> = fetchMax(signal).catch((error: unknown) => {
      if (queueMax === reading) queueMax = undefined;
      throw error;
    });
    queueMax = reading;
    return reading;
  };

  /** The re-read in flight and the cached value it would replace; `undefined` when none is. */
  let rereading: { replaces: Promise<number>; reading: Promise<number> } | undefined;

  /**
   * Re-reads the limit after a refusal the cached one may explain. Concurrent sends that used
   * the same cached value share one `GetQueueAttributes`; a fixed `maxMessageBytes` is never
   * re-read. Meanwhile every other caller (`send()`, `maxMessageBytes()`) goes on with the cached
   * value: it is replaced only once the re-read succeeds, and kept when it fails.
   */
  const rereadMax = (used: Promise<number>, signal?: AbortSignal): Promise<number> | undefined => {
    if (fixed !== undefined) return undefined;
    if (rereading?.replaces === used) return rereading.reading;
    // Another send's re-read already replaced `used`: its fresh value.
    if (queueMax !== used) return readMax(signal);
    const reading: Promise<number> = fetchMax(signal).then(
      (value) => {
        if (rereading?.reading === reading) rereading = undefined;
        if (queueMax === used) queueMax = reading;
        return value;
      },
      (error: unknown) => {
        if (rereading?.reading === reading) rereading = undefined;
        throw error;
      },
    );
    rereading = { replaces: used, reading };
    return reading;
  };

  return { read: readMax, reread: rereadMax };
}
