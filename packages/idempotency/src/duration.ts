import { SteadyError } from '@steadyfn/handler';

/** Milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'15m'`, `'24h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function toMs(value: Duration | undefined, field: string): number {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (match) ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    throw new SteadyError('IDEMPOTENCY_CONFIG_INVALID', `idempotency option "${field}" must be a positive duration`, {
      status: 500,
      retryable: false,
      issues: [{ field, message: 'Not a positive duration', expected: "milliseconds, or a string like '30s', '15m', '24h'" }],
    });
  }
  return Math.round(ms);
}
