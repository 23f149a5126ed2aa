/**
 * The base of `@steadyfn/backup`'s typed errors (errors.ts re-exports every one): a stable
 * `code`, the list of objects at fault (`problems`), never a document, key value or secret.
 */
// From the internal entry: the root entry would load every provider adapter.
import { SteadyError } from '@steadyfn/handler/internal';
import { summary } from './error-summary.js';

/** Where a backup problem was found: an S3 key, with the part number or line when known. */
export interface BackupProblem {
  /** S3 key of the object at fault (the manifest, a segment, a stream object, an index). */
  key: string;
  /** What is wrong, in words (never the data). */
  message: string;
  /** Part number inside a segment, when the problem is one part. */
  part?: number;
}

/** Base class: a backup problem with the list of objects at fault. */
export class BackupError extends SteadyError {
  override readonly name: string = 'BackupError';
  /** Each object at fault. */
  readonly problems: ReadonlyArray<BackupProblem>;
  constructor(code: string, message: string, options: { retryable?: boolean; problems?: ReadonlyArray<BackupProblem>; cause?: unknown } = {}) {
    const problems = options.problems ?? [];
    super(code, summary(message, problems), {
      status: options.retryable ? 503 : 500,
      retryable: options.retryable ?? false,
      expose: false,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.problems = problems;
  }
}
