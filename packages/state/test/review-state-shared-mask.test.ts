/**
 * Review (s53): the handler's validation errors now mask the caller's record, map and catchall
 * keys with the same walk `@steadyfn/state` used for its round failures (`maskedPath`, moved to
 * `@steadyfn/handler/internal` so there is one copy). State keeps its behaviour
 * (review-state-record-keys.test.ts, against real Redis) and gains what the shared walk adds:
 * below a catchall's key the value's declared keys are kept (`extra.*.limit`, was `extra.*.*`),
 * as below a record's. And both packages give one field for one schema and issue.
 */
import { toFieldIssues } from '@steadyfn/handler/internal';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { schemaFailures } from '../src/schema-issues.js';

const schema = z.object({
  cfg: z.object({
    tenants: z.record(z.string(), z.object({ limit: z.number() })),
    extra: z.object({ a: z.string() }).catchall(z.object({ limit: z.number() })),
  }),
});
const value = { cfg: { tenants: { acme_secret: { limit: 'x' } }, extra: { a: 'ok', pk_test_zyx987: { limit: 'y' } } } };

describe('state round failures use the shared mask', () => {
  it('a catchall value\'s declared key is kept below the masked key; no stored key is named', () => {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(false);
    const failures = schemaFailures(schema, parsed.error!.issues, ['cfg']);
    expect(failures.map((f) => f.field)).toEqual(['cfg.tenants.*.limit', 'cfg.extra.*.limit']);
    expect(JSON.stringify(failures)).not.toMatch(/acme_secret|pk_test_zyx987/);
  });

  it('the same fields as the handler reports for the same schema and value', async () => {
    const { handler } = await import('@steadyfn/handler');
    const main = handler({ input: schema, logSink: () => {} }, () => undefined);
    const error = (await main.invoke(value).then(
      () => undefined,
      (e: unknown) => e,
    )) as { errors?: Array<{ field: string }> };
    const parsed = schema.safeParse(value);
    expect(error.errors?.map((e) => e.field)).toEqual(schemaFailures(schema, parsed.error!.issues, ['cfg']).map((f) => f.field));
    // Unmasked, the handler's mapping alone would name the keys: the mask is what keeps them out.
    expect(toFieldIssues(parsed.error!.issues).map((i) => i.field)).toContain('cfg.tenants.acme_secret.limit');
  });
});
