/**
 * `DeleteMessageBatch` for `sqsSource`'s acknowledgements: entries SQS failed on its own side
 * are deleted again with backoff (p-retry); what still failed is returned, to be logged.
 */
import pRetry, { AbortError } from 'p-retry';

/** An entry of `DeleteMessageBatch`'s `Failed` list. */
export interface DeleteFailure {
  Id?: string;
  Code?: string;
  SenderFault?: boolean;
}

/**
 * Deletes `entries`, then deletes again those SQS listed under `Failed` on its own side
 * (`SenderFault: false`), with backoff (p-retry, 3 retries); an entry that failed by the
 * sender's fault (an invalid receipt handle) is not retried. Resolves to what still failed.
 */
export async function retryFailedDeletes<E extends { Id: string }>(entries: E[], deleteBatch: (batch: E[]) => Promise<DeleteFailure[]>, signal?: AbortSignal): Promise<DeleteFailure[]> {
  const permanent: DeleteFailure[] = [];
  let transient: DeleteFailure[] = [];
  let pending = entries;
  const left = new Error('deletes failed on the server side');
  await pRetry(
    async () => {
      let failed: DeleteFailure[];
      try {
        failed = await deleteBatch(pending);
      } catch (error) {
        // The request itself failed: the run's error, as before (typed by the stream run).
        throw new AbortError(error as Error);
      }
      permanent.push(...failed.filter((f) => f.SenderFault === true));
      transient = failed.filter((f) => f.SenderFault !== true);
      pending = pending.filter((e) => transient.some((f) => f.Id === e.Id));
      if (pending.length > 0) throw left;
    },
    { retries: 3, minTimeout: 100, maxTimeout: 1000, ...(signal ? { signal } : {}) },
  ).catch((error: unknown) => {
    // Retries spent: what is left is reported (logged), not thrown: the records are archived.
    if (error !== left) throw error;
  });
  return [...permanent, ...transient];
}
