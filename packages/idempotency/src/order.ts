/**
 * The plugin's place in `use` against a plugin that writes the function's effects in its own
 * `after` — the outbox, which marks them pending (`markEffectsPending` of
 * `@steadyfn/handler/internal`) in its `extend`: the idempotency plugin must come first, so its
 * `after` (run in reverse order) completes the record only once the write committed.
 */
import type { Context } from '@steadyfn/handler';
import { ConfigurationError, effectsPending } from '@steadyfn/handler/internal';

/**
 * The idempotency plugin listed after a plugin that writes the function's effects in its own
 * `after` (the outbox marks them pending in its `extend`): that `after` runs after this one's,
 * so the record would be completed before the write — and a failed write (a connection closed
 * under it) would lose the effects, the retry replaying an answer for nothing written.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`, field `use`) for that order, before any claim.
 */
export function refuseWriterFirst(ctx: Context): void {
  if (!effectsPending(ctx)) return;
  throw new ConfigurationError(
    'idempotency(): list idempotency() before outbox() in `use`: a plugin listed before it writes the function\'s effects after the record would be completed, so a failed write would lose them',
    { field: 'use', expected: 'idempotency()/inbox() listed before outbox()' },
  );
}
