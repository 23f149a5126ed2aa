/**
 * ISO date-times that say their zone. A string without one (`2026-11-30T10:00:00`) would be
 * read by `Date.parse` in the machine's local time — UTC on a function, hours off on a laptop —
 * so the package refuses it wherever it reads a time: a point-in-time restore's `at`, an outbox
 * envelope's `occurredAt`.
 */

/** An ISO date-time that says its zone: `Z` or an offset (`+01:00`, `-0500`). */
const ZONED_ISO = /^(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Epoch milliseconds of `text` when it is an ISO date-time with its zone (`Z` or an offset) on
 * a day the calendar has (`Date.parse` rolls 2026-02-30 over to 2 March); `NaN` otherwise.
 */
export function zonedIsoMs(text: string): number {
  const match = ZONED_ISO.exec(text.trim());
  if (!match) return NaN;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return NaN;
  return Date.parse(text.trim());
}
