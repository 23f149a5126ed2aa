import { describe, expect, it } from 'vitest';
import { detectProvider } from './detect.js';

const lambdaContext = { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 1000 };
const azureContext = { invocationId: 'i', functionName: 'f', options: { trigger: { type: 'httpTrigger' } }, triggerMetadata: {} };
const expressReq = { method: 'GET', headers: {} };
const expressRes = { status: () => expressRes, send: () => undefined };

describe('detectProvider', () => {
  it('recognises each runtime from its arguments, regardless of env', () => {
    expect(detectProvider([{}, lambdaContext], {})).toBe('aws');
    expect(detectProvider([{}, azureContext], {})).toBe('azure');
    expect(detectProvider([expressReq, expressRes], {})).toBe('gcp');
    expect(detectProvider([{ specversion: '1.0', type: 't', source: 's', id: '1' }], {})).toBe('gcp');
  });
  it('recognises OpenWhisk from its activation env and falls back to direct', () => {
    expect(detectProvider([{ a: 1 }], { __OW_ACTIVATION_ID: 'x' })).toBe('openwhisk');
    expect(detectProvider([{ a: 1 }], {})).toBe('direct');
    expect(detectProvider([], {})).toBe('direct');
  });
  it('prefers the arguments to a misleading env', () => {
    expect(detectProvider([{}, lambdaContext], { __OW_ACTIVATION_ID: 'x' })).toBe('aws');
  });
});
