/**
 * Shared by the provider fuzz tests: random mutations of a fixture, and what a typed public
 * error must look like wherever a provider makes the wrapper throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

export type Path = ReadonlyArray<string>;

/** Every path to a value inside a JSON document, the root included. */
export function paths(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const inner = Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => paths(v, [...prefix, k]));
  return [prefix, ...inner];
}

/** A copy of `doc` with the value at `path` replaced or removed. */
export function mutate(doc: unknown, path: Path, replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : replacement;
  // An earlier mutation replaced the whole document.
  if (typeof doc !== 'object' || doc === null) return doc;
  const copy = structuredClone(doc) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    // An earlier mutation removed or replaced this branch.
    if (typeof next !== 'object' || next === null) return copy;
    node = next as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  // An earlier mutation made this branch an array: a member name of the sample (Azure's blob
  // `properties.length`) is no index of it, and setting an array's `length` to a non-number throws.
  if (Array.isArray(node) && !/^(0|[1-9][0-9]*)$/.test(String(last))) return copy;
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

/** One random replacement or removal somewhere in `doc`. */
export const mutation = (doc: unknown) =>
  fc.record({ path: fc.constantFrom(...paths(doc)), replacement: fc.jsonValue({ maxDepth: 2 }), remove: fc.boolean() });

/**
 * A thrown value is a typed public error: an Error with a string code (one of `codes` when
 * given), a boolean `retryable`, and a one-line stack (`CODE: message`) with no frames.
 */
export function expectPublicError(thrown: unknown, options: { codes?: ReadonlySet<string>; secret?: string } = {}): void {
  expect(thrown).toBeInstanceOf(Error);
  const e = thrown as Error & { code?: unknown; retryable?: unknown };
  expect(typeof e.code).toBe('string');
  if (options.codes) expect(options.codes.has(String(e.code))).toBe(true);
  expect(typeof e.retryable).toBe('boolean');
  expect(e.stack).toBe(e.message);
  expect(e.message.startsWith(`${e.name}: `)).toBe(true);
  if (options.secret) expect(e.message).not.toContain(options.secret);
}

/**
 * For event-source parser fuzz tests: a parse of a mutated event either yields items whose
 * payloads are produced or refused with a typed MALFORMED_EVENT, or is itself refused that way
 * — never any other throw.
 */
export function expectItemsOrMalformed(parse: () => ReadonlyArray<{ payload(): unknown; deliveryId: string | undefined; trigger: { kind: string } }>): void {
  let items: ReadonlyArray<{ payload(): unknown; deliveryId: string | undefined; trigger: { kind: string } }>;
  try {
    items = parse();
  } catch (thrown) {
    expectMalformed(thrown);
    return;
  }
  for (const item of items) {
    expect(typeof item.trigger.kind).toBe('string');
    expect(item.deliveryId === undefined || typeof item.deliveryId === 'string').toBe(true);
    try {
      item.payload();
    } catch (thrown) {
      expectMalformed(thrown);
    }
  }
}

export function expectMalformed(thrown: unknown): void {
  const e = thrown as { code?: unknown; status?: unknown; issues?: unknown };
  expect(thrown, String(thrown)).toBeInstanceOf(Error);
  expect(e.code, String(thrown)).toBe('MALFORMED_EVENT');
  expect(e.status).toBe(400);
  expect(Array.isArray(e.issues)).toBe(true);
}

/**
 * The fuzz suite of one event-source parser: one or two random mutations of a published-shape
 * sample, and arbitrary values, each give items or a typed MALFORMED_EVENT.
 */
export function fuzzEventParser(name: string, sample: unknown, parse: (doc: unknown) => ReadonlyArray<{ payload(): unknown; deliveryId: string | undefined; trigger: { kind: string } }>): void {
  describe(`${name} parser under malformed events`, () => {
    it('yields items or MALFORMED_EVENT for one or two mutations of the published shape', () => {
      fc.assert(
        fc.property(fc.array(mutation(sample), { minLength: 1, maxLength: 2 }), (changes) => {
          const doc = changes.reduce<unknown>((d, m) => mutate(d, m.path, m.replacement, m.remove), sample);
          expectItemsOrMalformed(() => parse(doc));
        }),
        { numRuns: 300 },
      );
    });

    it('yields items or MALFORMED_EVENT for arbitrary values', () => {
      fc.assert(fc.property(fc.anything(), (doc) => expectItemsOrMalformed(() => parse(doc))), { numRuns: 200 });
    });
  });
}
