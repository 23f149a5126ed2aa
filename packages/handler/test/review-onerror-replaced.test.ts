/**
 * A plugin's `onError` that throws replaces the invocation's error (by design: a plugin may
 * turn a driver failure into its own typed error). The error it replaced must still be
 * visible: before, a 400 `VALIDATION_FAILED` replaced by a bug in a hook (a TypeError →
 * retryable `INTERNAL`) left no trace of the 400 in the log.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handler, type Plugin } from '../src/index.js';

describe('onError that throws', () => {
  it('logs the code it replaced, with the plugin, and no message or payload', async () => {
    const lines: string[] = [];
    const buggy: Plugin = {
      name: 'buggy',
      onError: () => {
        throw new TypeError('cannot read properties of undefined (secret=hunter2)');
      },
    };
    const main = handler({ input: z.object({ n: z.number() }), use: [buggy], logSink: (l) => lines.push(l), logLevel: 'warn' }, async ({ n }) => n);
    await expect(main.invoke({ n: 'x' })).rejects.toMatchObject({ code: 'INTERNAL' });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const replaced = records.find((r) => r.msg === 'plugin onError hook replaced the error');
    expect(replaced).toMatchObject({ plugin: 'buggy', code: 'INTERNAL', replaced: 'VALIDATION_FAILED' });
    expect(lines.join('\n')).not.toMatch(/hunter2/);
  });

  it('logs nothing extra when no hook throws', async () => {
    const lines: string[] = [];
    const quiet: Plugin = { name: 'quiet', onError: () => undefined };
    const main = handler({ input: z.object({ n: z.number() }), use: [quiet], logSink: (l) => lines.push(l), logLevel: 'warn' }, async ({ n }) => n);
    await expect(main.invoke({ n: 'x' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).not.toContain('plugin onError hook replaced the error');
  });
});
