import { describe, expect, it } from 'vitest';
import { errorFacts } from './scrub.js';

describe('errorFacts', () => {
  it('an Error: its class name and code', () => {
    expect(errorFacts(Object.assign(new TypeError('m'), { code: 'E_X' }))).toEqual({ cause: 'TypeError', causeCode: 'E_X' });
  });

  it('a value that throws when read: its typeof only, never a throw', () => {
    const object = Proxy.revocable({}, {});
    const fn = Proxy.revocable(function thrower() {}, {});
    object.revoke();
    fn.revoke();
    const trap = new Proxy(new Error('x'), { get: () => { throw new Error('trap'); } });
    expect(errorFacts(object.proxy)).toEqual({ cause: 'object' });
    expect(errorFacts(fn.proxy)).toEqual({ cause: 'function' });
    expect(errorFacts(trap)).toEqual({ cause: 'object' });
  });
});
