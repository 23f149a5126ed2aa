/**
 * Review finding: `mongo({ db })` checked only that `db` is a non-empty string. A name MongoDB
 * cannot have (`'orders/eu'`, `'my db'`, `'shop.v2'`, `'a$b'`, 64 bytes or more) was accepted by
 * the factory and failed later, differently each time: `'shop.v2'` as the retryable
 * `CONNECTION_UNAVAILABLE` (the driver's `client.db()` throws after the connect), the others as
 * the retryable `INTERNAL` of the function's first operation — a queue redelivers such a message
 * until its dead-letter queue, for a setting no retry can fix. Like every other invalid option,
 * it is a `ConfigurationError` (`CONFIG_INVALID`, field `db`) thrown by the factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { mongo } from '../src/mongodb.js';

afterEach(closeAll);

describe('mongo({ db }): a name MongoDB cannot have', () => {
  it.each(['orders/eu', 'orders\\eu', 'my db', 'shop.v2', 'a$b', 'quote"d', 'nul\u0000l', 'x'.repeat(64), 'é'.repeat(32)])('%j is refused by the factory with CONFIG_INVALID naming db', (db) => {
    try {
      mongo({ db });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: 'db', retryable: false });
    }
  });

  it('a valid name (63 bytes, dashes and underscores) connects and is used (FerretDB)', async () => {
    const db = `review_db-name_${'x'.repeat(48)}`;
    expect(Buffer.byteLength(db)).toBe(63);
    const store = mongo({ name: 'review-db-name', db });
    const main = handler({ use: [connections({ store })], logSink: () => undefined }, async (_input: unknown, ctx) => ctx.store.db.databaseName);
    expect(await main.invoke({})).toBe(db);
  });
});
