/**
 * Review s55 (rvl): `AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency` (a Lambda instance
 * initialised ahead of any invocation) was ignored: its first invocation said `coldStart: true`.
 * As Powertools for AWS Lambda counts it (TypeScript #3723 / PR #3724; Python, .NET, Java and the
 * OpenTelemetry Lambda instrumentation alike), it is warm; a SnapStart restore (`snap-start`) and
 * an on-demand instance stay cold. The cold start is module state: each run loads the package afresh.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './support/published.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('AWS_LAMBDA_INITIALIZATION_TYPE', () => {
  async function firstTwo(type: string | undefined): Promise<boolean[]> {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', type);
    vi.resetModules();
    const { handler } = await import('@steadyfn/handler');
    const seen: boolean[] = [];
    const main = handler({ logSink: () => undefined }, (_input, ctx) => void seen.push(ctx.coldStart));
    await main.aws({ orderId: 'o-1' }, lambdaContext('req-1'));
    await main.aws({ orderId: 'o-2' }, lambdaContext('req-2'));
    return seen;
  }

  it('provisioned-concurrency: the first invocation of a pre-initialised instance is not a cold start', async () => {
    expect(await firstTwo('provisioned-concurrency')).toEqual([false, false]);
  });

  it('on-demand, snap-start (a SnapStart restore) and unset: the first invocation is the cold start', async () => {
    for (const type of ['on-demand', 'snap-start', undefined]) expect(await firstTwo(type), String(type)).toEqual([true, false]);
  });
});
