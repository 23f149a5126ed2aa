/**
 * The buffers parts are built in, reused from part to part. A part is compressed straight into
 * one (no list of chunks and no concatenation), uploaded from it, and the buffer goes back here
 * when the upload returns. Since a new part waits for an upload slot, at most parts in flight
 * + 1 buffers ever exist: the pipeline's memory is allocated once, and does not churn (or
 * fragment the allocator) part after part, whatever the data size.
 */
export class PartBuffers {
  private readonly free: Buffer[] = [];
  private capacity = 0;

  /** A buffer of at least `capacity` bytes (a free one, or a new one). */
  acquire(capacity: number): Buffer {
    // The part size grows (every 1,000 parts): smaller buffers are dropped from then on.
    if (capacity > this.capacity) {
      this.capacity = capacity;
      this.free.length = 0;
    }
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
  }

  /** Gives a buffer back for the next part. */
  release(buffer: Buffer): void {
    if (buffer.length >= this.capacity && this.free.length < 64) this.free.push(buffer);
  }
}
