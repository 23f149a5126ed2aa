/**
 * Shared by the published-event suites: fixtures shaped after each provider's published
 * samples (test/fixtures/<provider>/published, see SOURCES.md there), a recorder that keeps
 * what the function saw, and a log sink that keeps parsed JSON lines.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { handler, type Context } from '../../src/index.js';
import { handler as awsHandler } from '../../src/aws.js';

export type Json = Record<string, any>;

/** A published-shape fixture of `provider`, parsed fresh on every call (tests may mutate it). */
export function published(provider: 'aws' | 'gcp' | 'azure' | 'openwhisk', name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/${provider}/published/${name}`, import.meta.url), 'utf8')) as Json;
}

/** A Lambda context as the runtime interface client builds it (the members the wrapper reads, and a few more). */
export function lambdaContext(id = 'c0ffee00-1111-4222-8333-444455556666') {
  return {
    awsRequestId: id,
    functionName: 'published-events',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:210987654321:function:published-events',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/published-events',
    logStreamName: '2025/03/02/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
  };
}

/** Records every call: the input and ctx the function saw; `result` decides what it answers. */
export function recorder(result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const seen: Array<{ input: unknown; ctx: Context }> = [];
  return { seen, fn: (input: unknown, ctx: Context) => (seen.push({ input, ctx }), result(input, ctx)) };
}

/** A log sink that keeps every line, parsed. */
export function logs() {
  const lines: Json[] = [];
  return { lines, logSink: (line: string) => void lines.push(JSON.parse(line) as Json) };
}

/** Throws for an input that asks to fail (`{ fail: true }`, or text ending in `-fails`). */
export function failWhenAsked(input: unknown): void {
  const text = typeof input === 'string' ? input : '';
  if ((typeof input === 'object' && input !== null && (input as Json).fail === true) || text.endsWith('-fails')) throw new Error('asked to fail');
}

/** A published sample as published (test/fixtures/samples/<provider>/<name>, see SOURCES.md there), parsed fresh on every call. */
export function sample(provider: 'aws' | 'gcp' | 'azure', name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/samples/${provider}/${name}`, import.meta.url), 'utf8')) as Json;
}

/** The `warn` line of an event run as `direct` because no trigger recognised it. */
export const NOT_RECOGNISED = 'event not recognised; running it as a direct invocation';

/**
 * Runs `event` through the root entry and `@steadyfn/handler/aws` with a Lambda context. Both
 * must agree: the answer (or the thrown error's code), what the function saw (input, trigger,
 * delivery id) and the shapes named in `event not recognised` warns. Returns the root entry's run.
 */
export async function runOnAwsEntries(event: unknown, result: (input: unknown, ctx: Context) => unknown = () => undefined) {
  const runs: Array<{ seen: ReturnType<typeof recorder>['seen']; answer: unknown; lines: Json[] }> = [];
  for (const entry of ['root', 'aws'] as const) {
    const { seen, fn } = recorder(result);
    const { lines, logSink } = logs();
    const main = entry === 'root' ? handler({ logSink, logLevel: 'debug' }, fn) : awsHandler({ logSink, logLevel: 'debug' }, fn);
    const answer = await Promise.resolve(main(structuredClone(event), lambdaContext())).then(
      (value) => value,
      (error: unknown) => ({ thrown: (error as { code?: string }).code }),
    );
    runs.push({ seen, answer, lines });
  }
  const [root, entry] = runs as [(typeof runs)[0], (typeof runs)[0]];
  expect(entry.answer).toEqual(root.answer);
  expect(entry.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId])).toEqual(root.seen.map((s) => [s.input, s.ctx.trigger, s.ctx.deliveryId]));
  const shapes = (lines: Json[]) => lines.filter((l) => l.msg === NOT_RECOGNISED).map((l) => l.shape);
  expect(shapes(entry.lines)).toEqual(shapes(root.lines));
  return root;
}

/**
 * The document Google's complex Firestore samples hold (the Functions Framework's
 * `firestore_complex-legacy-input.json` and google-cloudevents' `DocumentEventData-complex.json`):
 * every Firestore value type, decoded to plain JSON as the function sees it.
 */
export const FIRESTORE_COMPLEX_DOCUMENT = Object.freeze({
  arrayValue: [1, 2],
  booleanValue: true,
  doubleValue: 5.5,
  geoPointValue: { latitude: 51.4543, longitude: -0.9781 },
  intValue: 50,
  mapValue: { field1: 'x', field2: ['x', 1] },
  nullValue: null,
  referenceValue: 'projects/project-id/databases/(default)/documents/foo/bar/baz/qux',
  stringValue: 'text',
  timestampValue: '2020-04-23T14:23:53.241Z',
});
