/**
 * A redis-server owned by one test file (see `startRedis`), with an admin connection to it:
 * started before the file's tests, `afterEachTest` run after each of them (e.g. `closeAll`, so
 * no handle outlives its test), stopped and removed after the last. For tests that freeze, pause
 * (`CLIENT PAUSE`), kill or restart the server, which the shared services must never see.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type OwnServer } from './servers.js';

/** What `useOwnRedisServer` gives the file's tests (read inside a test: set in `beforeAll`). */
export interface OwnRedis {
  /** The server: `freeze()`/`thaw()` (SIGSTOP/SIGCONT), `stop()`/`start()`. */
  readonly server: OwnServer & { url: string };
  /** Its `redis://127.0.0.1:<port>` URL. */
  readonly url: string;
  /** A connection of the test's own (CLIENT LIST/KILL/PAUSE, INFO). */
  readonly admin: Redis;
}

/**
 * Registers the hooks that start, clean up after each test and stop one redis-server.
 *
 * @param options.args - redis-server config (e.g. `['--maxclients', '12']`). @default []
 * @param options.afterEachTest - Run after each test (the package's `closeAll`). @default none
 */
export function useOwnRedisServer(options: { args?: string[]; afterEachTest?: () => Promise<unknown> } = {}): OwnRedis {
  let server: (OwnServer & { url: string }) | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis(options.args);
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    server?.thaw(); // a test that failed while the server was frozen must not hang the next one
    await options.afterEachTest?.();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });
  const started = <V>(value: V | undefined): V => {
    if (value === undefined) throw new Error('useOwnRedisServer: read inside a test (the server starts in beforeAll)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get url() {
      return started(server).url;
    },
    get admin() {
      return started(admin);
    },
  };
}
