import { describe, expect, it } from 'vitest';
import { ConfigurationError, ValidationError, toErrorSummary, toProblem } from './errors.js';

describe('public error shapes', () => {
  it('show the field issues of an exposed error (validation) to the caller', () => {
    const error = new ValidationError([{ field: 'qty', message: 'Too small', expected: 'number' }]);
    expect(toProblem(error).errors).toEqual([{ field: 'qty', message: 'Too small', expected: 'number' }]);
    expect(toErrorSummary(error).errors).toEqual([{ field: 'qty', message: 'Too small', expected: 'number' }]);
  });

  it('keep the issues of an unexposed error (a configuration error names options and values) out of answers', () => {
    const error = new ConfigurationError('mongo(): option "uri" must be a mongodb:// URL; got "mongodb://user:pass@db"', { field: 'uri', expected: 'a mongodb:// URL' });
    const problem = toProblem(error);
    expect(problem).toEqual({ type: 'urn:steadyfn:error:config_invalid', title: 'Internal Server Error', status: 500, code: 'CONFIG_INVALID' });
    expect(JSON.stringify(problem)).not.toContain('pass');
    expect(toErrorSummary(error)).toEqual({ code: 'CONFIG_INVALID', message: 'Internal error', retryable: false });
  });
});
