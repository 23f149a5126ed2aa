/**
 * `terminalErrors: 'ack'` acknowledges a terminal error only when it is the message's own (a 4xx
 * status). `acknowledgedFailure` decides by status alone: every `ConfigurationError` is a 500
 * (its constructor takes no status, no subclass sets one), so a class test is not needed — and
 * would not know a `ConfigurationError` of another copy of the package (a bundle without kept
 * class names), which the status judges the same way.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acknowledgedFailure } from './batch.js';
import { ConfigurationError, SteadyError, TerminalError, toSteadyError } from './errors.js';
import { handler } from './index.js';

const ack = { terminalErrors: 'ack' } as const;

/** A `ConfigurationError` as another, unbranded copy of the package makes it: no class this copy knows. */
class ForeignConfigurationError extends Error {
  override name = 'ConfigurationError';
  code = 'CONFIG_INVALID';
  status = 500;
  retryable = false;
  expose = false;
}

/** Every `.ts` source (not test) under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe("terminalErrors: 'ack' and ConfigurationError", () => {
  it('a ConfigurationError (any code) is status 500, terminal, and never acknowledged', () => {
    for (const error of [new ConfigurationError('x', { field: 'f', expected: 'y' }), new ConfigurationError('x', { field: 'f', expected: 'y', code: 'LEASE_STORE_UNSUPPORTED' })]) {
      expect(error).toMatchObject({ status: 500, retryable: false });
      expect(acknowledgedFailure(ack, error)).toBe(false);
    }
  });

  it('no ConfigurationError subclass in the packages sets its own status (the invariant the status test relies on)', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const subclasses = sources(root)
      .map((path) => ({ path, text: readFileSync(path, 'utf8') }))
      .filter(({ text }) => /extends ConfigurationError\b/.test(text));
    // LeaseStoreUnsupportedError, LeaseRecordUnreadableError, AuthRefusedError at least.
    expect(subclasses.flatMap(({ text }) => text.match(/extends ConfigurationError\b/g) ?? []).length).toBeGreaterThanOrEqual(3);
    for (const { path, text } of subclasses) {
      for (const body of text.split(/extends ConfigurationError\b/).slice(1)) {
        const cls = body.slice(0, body.search(/\n}\n/));
        expect(cls, path).not.toMatch(/\bstatus\b\s*[:=]|readonly status/);
      }
    }
  });

  it("a ConfigurationError of another copy is judged by its status: reported failed; a TerminalError (422) is acknowledged", async () => {
    expect(acknowledgedFailure(ack, toSteadyError(new ForeignConfigurationError('x')))).toBe(false);
    expect(acknowledgedFailure(ack, new TerminalError('OUT_OF_STOCK', 'no stock'))).toBe(true);
    expect(acknowledgedFailure({ terminalErrors: 'fail' } as const, new TerminalError('OUT_OF_STOCK', 'no stock'))).toBe(false);
    const main = handler({ terminalErrors: 'ack', logSink: () => undefined }, (input) => {
      const { kind } = input as { kind: string };
      if (kind === 'config') throw new ForeignConfigurationError('missing option');
      if (kind === 'own') throw new SteadyError('BAD_ORDER', 'bad order', { status: 422, retryable: false });
      return 'ok';
    });
    const record = (id: string, kind: string) => ({ messageId: id, receiptHandle: id, body: JSON.stringify({ kind }), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q', awsRegion: 'us-east-1' });
    const res = await main.aws({ Records: [record('m1', 'config'), record('m2', 'own'), record('m3', 'fine')] }, { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 30_000 } as never);
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });
});
