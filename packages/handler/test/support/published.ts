/**
 * Shared by the published-event suites: fixtures shaped after each provider's published
 * samples (test/fixtures/<provider>/published, see SOURCES.md there), a recorder that keeps
 * what the function saw, and a log sink that keeps parsed JSON lines.
 */
import { readFileSync } from 'node:fs';
import type { Context } from '../../src/index.js';

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
