/**
 * s55-fxo (review rvm2): `serviceBusNamespace` kept a port — `Endpoint=sb://host:5671/` gave
 * `host:5671` while the identity setting `__fullyQualifiedNamespace` = `host` gave `host` — so
 * moving a connection from a connection string to an identity (or back) changed every delivery
 * id, and with it the idempotency keys of messages already processed. The namespace is now the
 * host name, a port dropped, whichever setting names it.
 */
import { describe, expect, it } from 'vitest';
import { serviceBusNamespace } from '../src/providers/azure-messages.js';

const HOST = 'contoso.servicebus.windows.net';

describe('serviceBusNamespace: a port is not part of the namespace', () => {
  it('a connection string with a port names the same namespace as the identity setting without one', () => {
    const env = {
      STRING: `Endpoint=sb://${HOST}:5671/;SharedAccessKeyName=k;SharedAccessKey=secret`,
      STRING_NO_SLASH: `Endpoint=sb://Contoso.ServiceBus.Windows.Net:5671;SharedAccessKey=secret`,
      IDENTITY__fullyQualifiedNamespace: HOST,
    };
    expect(serviceBusNamespace('STRING', env)).toBe(HOST);
    expect(serviceBusNamespace('STRING_NO_SLASH', env)).toBe(HOST);
    expect(serviceBusNamespace('IDENTITY', env)).toBe(HOST);
  });

  it('an identity setting with a port (or a scheme and a port) is the host too', () => {
    const env = {
      A__fullyQualifiedNamespace: `${HOST}:5671`,
      B__fullyQualifiedNamespace: `sb://${HOST}:443/`,
      C__fullyQualifiedNamespace: `${HOST}:5671/`,
      D__fullyQualifiedNamespace: '[::1]:5672',
      E__fullyQualifiedNamespace: '[::1]',
    };
    expect(['A', 'B', 'C', 'D', 'E'].map((c) => serviceBusNamespace(c, env))).toEqual([HOST, HOST, HOST, '[::1]', '[::1]']);
  });
});
