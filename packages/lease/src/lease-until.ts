/**
 * When a lease claimed for one invocation ends: shared by the idempotency plugin and the outbox
 * inbox, which both hold a key while the function runs. A lease shorter than the run lets a
 * duplicate (a retry, a redelivered message) take the key over and run the effect alongside it.
 */
import { MAX_DURATION_MS } from './validate.js';

/** The lease with `leaseMs` unset and no deadline known: 5 minutes, the default timeout of GCF, Cloud Run and Azure's Consumption plan. */
export const NO_DEADLINE_LEASE_MS = 5 * 60_000;

/** What `leaseUntil` needs of the invocation (a steadyfn `ctx`). */
export interface LeaseInvocation {
  /** Epoch ms when the invocation is cut off; `Infinity` when not known. */
  readonly deadline: number;
  readonly provider: string;
  readonly log: { warn(message: string, fields?: Record<string, unknown>): void };
}

/** A plugin's lease option and the warnings it already gave (each once per plugin instance). */
export interface LeaseSettings {
  /** The `leaseMs` option; undefined: the lease follows the invocation's deadline. */
  readonly leaseMs: number | undefined;
  readonly noted: { leaseShort: boolean; noDeadline: boolean };
}

/** Who warns: the message's first word (`idempotency`, `inbox`) and the codes' prefix (`IDEMPOTENCY`, `INBOX`). */
export interface LeaseOwnerNames {
  readonly label: string;
  readonly code: string;
}

/**
 * When a lease claimed now ends: the invocation's deadline — as long as the function can run,
 * so a duplicate never takes over a run still going — or `leaseMs` from now when set and
 * sooner; `NO_DEADLINE_LEASE_MS` with no deadline known. Either case a run could outlast warns
 * once per `settings` (`<code>_LEASE_SHORT`, `<code>_LEASE_NO_DEADLINE`; not under `invoke()`,
 * provider `direct`, for no deadline).
 * @param now - `Date.now()`, epoch ms.
 * @returns epoch ms, at most `MAX_DURATION_MS` from now when following the deadline.
 */
export function leaseUntil(settings: LeaseSettings, ctx: LeaseInvocation, now: number, names: LeaseOwnerNames): number {
  const deadline = ctx.deadline;
  if (settings.leaseMs === undefined) {
    // At most the longest lease the lease stores accept (a far-off deadline given to `invoke()`).
    if (deadline < Number.POSITIVE_INFINITY) return Math.min(deadline, now + MAX_DURATION_MS);
    if (!settings.noted.noDeadline && ctx.provider !== 'direct') {
      settings.noted.noDeadline = true;
      ctx.log.warn(
        `${names.label} knows no deadline for this invocation: a running invocation holds its key for ${NO_DEADLINE_LEASE_MS} ms; set leaseMs to the function's timeout if it can run longer (said once)`,
        { code: `${names.code}_LEASE_NO_DEADLINE`, leaseMs: NO_DEADLINE_LEASE_MS },
      );
    }
    return now + NO_DEADLINE_LEASE_MS;
  }
  const until = now + settings.leaseMs;
  if (until >= deadline) return deadline;
  if (!settings.noted.leaseShort && deadline < Number.POSITIVE_INFINITY) {
    settings.noted.leaseShort = true;
    const remainingMs = Math.round(deadline - now);
    ctx.log.warn(
      `${names.label} leaseMs (${settings.leaseMs} ms) is shorter than the invocation's remaining time (${remainingMs} ms): a run longer than leaseMs loses its key and a retry may run alongside it; leave leaseMs unset to hold the key until the deadline (said once)`,
      { code: `${names.code}_LEASE_SHORT`, leaseMs: settings.leaseMs, remainingMs },
    );
  }
  return until;
}
