/**
 * Reads up to `max` items ahead of the consumer, so that the next database batch (a getMore
 * round trip, and the server's work to produce it) overlaps with the consumer's work on the
 * current one instead of following it. Closing the consumer closes the source.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, max: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let queue: T[] = [];
  let head = 0;
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let space: (() => void) | undefined;
  let stopped = false;
  const pump = (async () => {
    try {
      while (!stopped) {
        while (queue.length - head >= max && !stopped) await new Promise<void>((resolve) => (space = resolve));
        if (stopped) break;
        const next = await iterator.next();
        if (next.done) break;
        queue.push(next.value);
        wake?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wake?.();
    }
  })();
  try {
    for (;;) {
      if (head < queue.length) {
        const value = queue[head]!;
        // Let go of it here: an item kept in the array after it was handed out would survive
        // young-generation collections and be promoted (the heap then grows with the data read).
        queue[head++] = undefined as T;
        if (head > 4096 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        space?.();
        yield value;
        continue;
      }
      if (failure) throw failure.error;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stopped = true;
    space?.();
    await pump;
    if (!done || failure === undefined) await iterator.return?.();
  }
}
