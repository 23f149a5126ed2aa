/**
 * Review finding: `handler({ timeout: 600_000 }, fn)` — a typo, or the name before `…Ms` — was
 * accepted and ignored, so the default stayed in force without a word (on Azure a 5-minute
 * deadline instead of 10). An option `handler()` does not know is a `ConfigurationError`
 * naming it, with the `…Ms` name when that is what was meant.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, handler } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { toMiddy } from '../src/middy.js';

function refusal(make: () => unknown): ConfigurationError {
  try {
    make();
  } catch (e) {
    return e as ConfigurationError;
  }
  throw new Error('did not throw');
}

describe('an option handler() does not know', () => {
  it('"timeout" is refused, pointing at timeoutMs', () => {
    const error = refusal(() => azureHandler({ timeout: 600_000 } as never, () => undefined));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'timeout' });
    expect(error.message).toContain('"timeoutMs"');
  });

  it('"deadlineMargin" and a misspelt "logsink" are refused too', () => {
    expect(refusal(() => handler({ deadlineMargin: 100 } as never, () => undefined)).message).toContain('"deadlineMarginMs"');
    expect(refusal(() => handler({ logsink: () => undefined } as never, () => undefined))).toMatchObject({ field: 'logsink' });
  });

  it('toMiddy() options go through the same check', () => {
    expect(refusal(() => toMiddy({ name: 'p' }, { timeoutMs: 1000, margin: 5 } as never))).toMatchObject({ field: 'margin' });
  });

  it('every documented option, and an undefined one, is accepted', () => {
    expect(() =>
      handler(
        { input: undefined, use: [], provider: 'direct', name: 'n', timeoutMs: 1000, deadlineMarginMs: 0, terminalErrors: 'ack', logSink: () => undefined, logLevel: 'error', body: 'auto', kinesisDeaggregate: false, kafkaBatchItemFailures: false, extra: undefined } as never,
        () => undefined,
      ),
    ).not.toThrow();
  });
});
