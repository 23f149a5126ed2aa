/**
 * Review finding: `handler({ timeout: 600_000 }, fn)` — a typo, or the name before `…Ms` — was
 * accepted and ignored, so the default stayed in force without a word (on Azure a 5-minute
 * deadline instead of 10). An option `handler()` does not know is a `ConfigurationError`
 * naming it, with the `…Ms` name when that is what was meant.
 */
import { describe, expect, it } from 'vitest';
import { handler } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { toMiddy } from '../src/middy.js';
import { expectOptionRefused } from '../../../test/support/config-errors.js';

describe('an option handler() does not know', () => {
  it('"timeout" is refused, pointing at timeoutMs', () => {
    expectOptionRefused(() => azureHandler({ timeout: 600_000 } as never, () => undefined), 'handler', 'timeout', ['"timeoutMs"']);
  });

  it('"deadlineMargin" and a misspelt "logsink" are refused too', () => {
    expectOptionRefused(() => handler({ deadlineMargin: 100 } as never, () => undefined), 'handler', 'deadlineMargin', ['"deadlineMarginMs"']);
    expectOptionRefused(() => handler({ logsink: () => undefined } as never, () => undefined), 'handler', 'logsink');
  });

  it('toMiddy() options go through the same check, and a handler() option toMiddy does not take is refused too', () => {
    expectOptionRefused(() => toMiddy({ name: 'p' }, { deadlineMarginMs: 100, margin: 5 } as never), 'toMiddy', 'margin');
    expectOptionRefused(() => toMiddy({ name: 'p' }, { timeoutMs: 1000 } as never), 'toMiddy', 'timeoutMs');
  });

  it('every documented option, and an undefined one, is accepted', () => {
    expect(() =>
      handler(
        { input: undefined, use: [], provider: 'direct', name: 'n', timeoutMs: 1000, deadlineMarginMs: 0, terminalErrors: 'ack', logSink: () => undefined, logLevel: 'error', body: 'auto', kinesisDeaggregate: false, kafkaBatchItemFailures: false, principal: () => undefined, trustIdentityHeaders: [], extra: undefined } as never,
        () => undefined,
      ),
    ).not.toThrow();
  });
});
