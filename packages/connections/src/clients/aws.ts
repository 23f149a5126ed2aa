/**
 * What `s3()` and `sqs()` share: an AWS SDK v3 client built once per instance with
 * `AWS_CLIENT_DEFAULTS`, closed with `destroy()`, and no thaw ping (the SDK speaks HTTP, opens a
 * new socket when a kept-alive one is gone and retries socket errors itself). Its idle kept-alive
 * sockets are closed before a request that comes after it idled past `idleThresholdMs`, and when
 * an invocation that used it was cut off by its deadline.
 */
import type { Socket } from 'node:net';
import { ConfigurationError } from '@steadyfn/handler/internal';
import { makeHandle } from '../handle.js';
import type { ClientHandle } from '../spec.js';
import { HANDLE_DEFAULTS } from '../validate.js';
import { useDriver } from './load.js';
import { AWS_CLIENT_DEFAULTS, factoryOptions, handleOptions, type HandleOptions } from './options.js';

/**
 * @param owner - The factory's name (`s3`), for errors and the default handle name.
 * @param pkg - The SDK package, named when it is missing.
 * @param driver - Its load, started by the factory.
 * @param build - Makes the client from the loaded module and the merged config.
 */
export function awsClientHandle<M, C extends { destroy(): void }, Config extends object>(
  owner: string,
  pkg: string,
  driver: Promise<M>,
  build: (module: M, config: Config) => C,
  options: (HandleOptions & { config?: Config | undefined }) | undefined,
  allowed: ReadonlyArray<string>,
): ClientHandle<C> {
  const o = factoryOptions(owner, options, allowed);
  return makeHandle<C>(
    {
      ...handleOptions(o, owner),
      async create() {
        const sdk = await useDriver(owner, pkg, driver);
        const client = buildClient(owner, () => build(sdk, { ...AWS_CLIENT_DEFAULTS, ...o.config } as Config));
        try {
          await checkResolvable(owner, client);
        } catch (err) {
          client.destroy();
          throw err;
        }
        closeStaleSockets(client, o.idleThresholdMs ?? HANDLE_DEFAULTS.idleThresholdMs, o.now ?? Date.now);
        closeSocketsAfterReset(client);
        typeMissingCredentials(owner, client);
        return client;
      },
      close: (client) => client.destroy(),
    },
    owner,
    {
      // A request of the function's own hung on a kept-alive socket until the deadline: the client's
      // other idle kept-alive sockets went through the same network and may be as dead (the SDK's
      // Node handler has no socket timeout), so the next request, even within the idle threshold,
      // opens a new one instead of hanging on the next of them.
      onCutOff: (client) => closeFreeSockets(client as SdkClient),
      // Only when a request was in flight: a client the function did not use keeps its sockets.
      inFlight: (client) => hasSocketsInUse(client as SdkClient),
    },
  );
}

const REGION_EXPECTED = 'a region: config.region, AWS_REGION or AWS_DEFAULT_REGION';

/**
 * Runs the SDK client's constructor. It does no I/O, so what it throws is about the configuration
 * — `config.region: ''` gives "Region is missing" — and is a terminal `ConfigurationError` carrying
 * the SDK's message (field `config.region` when it is about the region, else `config`), not a
 * retryable `CONNECTION_UNAVAILABLE` on every invocation.
 */
function buildClient<C>(owner: string, build: () => C): C {
  try {
    return build();
  } catch (err) {
    const reason = err instanceof Error ? err.message.slice(0, 160) : String(err);
    const region = /region/i.test(reason);
    throw new ConfigurationError(`${owner}(): the AWS SDK rejected option "config${region ? '.region' : ''}": ${reason}`, {
      field: region ? 'config.region' : 'config',
      expected: region ? REGION_EXPECTED : 'a configuration the AWS SDK accepts',
      cause: err,
    });
  }
}

/** The SDK's resolved configuration providers this checks (SDK v3 clients' `config`). */
interface ResolvedConfig {
  region?: unknown;
  endpoint?: unknown;
}

/**
 * Resolves the client's region and endpoint once, when it is built: the SDK checks neither in
 * its constructor, so a client without a region (none in `config`, `AWS_REGION`,
 * `AWS_DEFAULT_REGION` or the shared config file) or with an `endpoint` that is not a URL would
 * fail every command with a bare `Error` / `TypeError` — a retryable `INTERNAL` whose log names
 * nothing to fix. Each is a terminal `ConfigurationError` naming the option instead. Both are
 * local (environment, shared config file, URL parse; the SDK memoises them), no round trip.
 */
async function checkResolvable(owner: string, client: object): Promise<void> {
  const config = (client as { config?: ResolvedConfig }).config;
  if (config === undefined) return;
  for (const field of ['region', 'endpoint'] as const) {
    const provider = config[field];
    if (typeof provider !== 'function') continue;
    try {
      await (provider as () => Promise<unknown>)();
    } catch (err) {
      const reason = err instanceof Error ? err.message.slice(0, 160) : String(err);
      throw new ConfigurationError(`${owner}(): the AWS SDK cannot use option "config.${field}": ${reason}`, {
        field: `config.${field}`,
        expected: field === 'region' ? REGION_EXPECTED : 'an endpoint URL (https://…)',
        cause: err,
      });
    }
  }
}

/** The parts of an SDK v3 client `closeStaleSockets` uses (all public: `middlewareStack`, `HttpHandler#httpHandlerConfigs`). */
interface SdkClient {
  middlewareStack?: { add(middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'initialize' | 'build' | 'deserialize'; name: string; override: boolean }): void };
  config?: { requestHandler?: { httpHandlerConfigs?(): { httpAgent?: unknown; httpsAgent?: unknown } } };
}

/**
 * Before a request that comes more than `idleMs` after the client's last one started or ended,
 * closes the client's idle kept-alive sockets (those of its Node `http(s).Agent`s waiting for
 * reuse; never one in use), so the request opens a new one. The SDK's Node handler has no socket
 * timeout by default: a kept-alive socket that died silently while the instance was frozen (a NAT
 * mapping or firewall state expired; nothing sent a reset) would take the request and wait for an
 * answer until the invocation's deadline (test/review-aws-idle-sockets.test.ts). No round trip:
 * within `idleMs` the request reuses its socket as before. A request handler without Node agents
 * (a fetch handler) is left alone.
 *
 * @param now - The handle's clock (epoch ms), as for its own idle time.
 */
function closeStaleSockets(client: object, idleMs: number, now: () => number): void {
  const sdk = client as SdkClient;
  if (sdk.middlewareStack === undefined) return;
  let lastActive: number | undefined;
  sdk.middlewareStack.add(
    (next) => async (args) => {
      const at = now();
      if (lastActive !== undefined && at - lastActive > idleMs) closeFreeSockets(sdk);
      lastActive = at;
      try {
        return await next(args);
      } finally {
        lastActive = now();
      }
    },
    // The build step runs once per send, before the retry middleware (finalizeRequest).
    { step: 'build', name: 'steadyfnCloseStaleSockets', override: true },
  );
}

/** Errors of a request written to a kept-alive socket the peer no longer knows (`socket hang up` is `ECONNRESET`). */
const RESET_CODES: ReadonlySet<unknown> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * After an attempt failed with a reset (`ECONNRESET`, `EPIPE`), closes the client's idle kept-alive
 * sockets before the SDK's retry. A server restarted (or a NAT/load balancer that dropped its state)
 * while the instance was frozen leaves every kept-alive socket half-open, not just the one the
 * attempt took: each retry took the next of them and met the same reset, so with as many idle
 * sockets as `maxAttempts` the request failed (aws-sdk-js-v3#3905, "ECONNRESET triggers retries;
 * but the retry is not successful"), within the idle threshold where `closeStaleSockets` does not
 * act. The retry now opens a new socket. Sockets in use are never closed.
 */
function closeSocketsAfterReset(client: object): void {
  addErrorMiddleware(client, 'deserialize', 'steadyfnCloseSocketsAfterReset', (err) => {
    if (RESET_CODES.has((err as { code?: unknown } | null)?.code)) closeFreeSockets(client as SdkClient);
    return err;
  });
}

/**
 * Adds to the client's middleware stack (when it has one) a middleware that passes each result
 * through and throws what `onError` returns for each error: the same error after a side effect,
 * or a typed one in its place.
 *
 * @param step - `deserialize` wraps each attempt's HTTP request, inside the retry middleware
 *   (finalizeRequest); `initialize` wraps the whole command, with its retries and the serialize
 *   step, where the SDK resolves the credentials (httpAuthSchemeMiddleware).
 * @param name - The middleware's name in the stack (`override: true`: added once per name).
 */
function addErrorMiddleware(client: object, step: 'initialize' | 'deserialize', name: string, onError: (err: unknown) => unknown): void {
  const sdk = client as SdkClient;
  if (sdk.middlewareStack === undefined) return;
  sdk.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw onError(err);
      }
    },
    { step, name, override: true },
  );
}

/** The client's Node agents (none for a request handler without them, e.g. a fetch handler). */
function agentsOf(client: SdkClient): unknown[] {
  const configs = client.config?.requestHandler?.httpHandlerConfigs?.();
  return [configs?.httpAgent, configs?.httpsAgent];
}

/**
 * Whether a request of the client holds a socket (`Agent#sockets`: in use, not kept alive for
 * reuse). Without Node agents, true: nothing tells.
 */
function hasSocketsInUse(client: SdkClient): boolean {
  let agents = 0;
  for (const agent of agentsOf(client)) {
    const inUse = (agent as { sockets?: unknown } | undefined)?.sockets;
    if (typeof inUse !== 'object' || inUse === null) continue;
    agents++;
    for (const sockets of Object.values(inUse as Record<string, Socket[] | undefined>)) if ((sockets?.length ?? 0) > 0) return true;
  }
  return agents === 0;
}

/** Destroys the sockets the client's agents keep alive for reuse (`Agent#freeSockets`); Node skips destroyed ones. */
function closeFreeSockets(client: SdkClient): void {
  for (const agent of agentsOf(client)) {
    const free = (agent as { freeSockets?: unknown } | undefined)?.freeSockets;
    if (typeof free !== 'object' || free === null) continue;
    for (const sockets of Object.values(free as Record<string, Socket[] | undefined>)) for (const socket of sockets ?? []) socket.destroy();
  }
}

/** Container credential variables: with one set, the SDK's chain asks a remote endpoint (a fetch that may fail transiently). */
const REMOTE_CREDENTIAL_VARIABLES = ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'] as const;

/**
 * True when `err` is the SDK default chain's last link — a `CredentialsProviderError` "Could not
 * load credentials from any providers" with `tryNextLink: false` — and the chain asked no remote
 * endpoint: no container credential variable is set and instance metadata is disabled
 * (`AWS_EC2_METADATA_DISABLED=true`). The chain (`@smithy/core` `chain`) ends with that same error
 * after an instance or container metadata fetch that failed (a timeout, a refused connect, a
 * throttle), and keeps nothing of the earlier failure; that case stays the SDK's error, retryable.
 */
function noCredentialsAnywhere(err: unknown): boolean {
  const e = err as { name?: unknown; tryNextLink?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.name !== 'CredentialsProviderError' || e.tryNextLink !== false) return false;
  if (typeof e.message !== 'string' || !e.message.startsWith('Could not load credentials from any providers')) return false;
  return process.env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true' && REMOTE_CREDENTIAL_VARIABLES.every((name) => !process.env[name]);
}

/**
 * Makes a command that fails because the SDK found no credentials anywhere (`noCredentialsAnywhere`)
 * a terminal `ConfigurationError` (`CONFIG_INVALID`, field `config.credentials`) saying so, instead of
 * the SDK's error, which an invocation answered as the retryable `INTERNAL` on every attempt. The
 * message names where the SDK looks, no value. Any other error is the SDK's, unchanged.
 */
function typeMissingCredentials(owner: string, client: object): void {
  addErrorMiddleware(client, 'initialize', 'steadyfnTypeMissingCredentials', (err) =>
    noCredentialsAnywhere(err)
      ? new ConfigurationError(
          `${owner}(): could not find AWS credentials (none in config.credentials, the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), the shared config and credentials files, a web identity token or a credential process, and instance metadata is disabled)`,
          { field: 'config.credentials', expected: 'AWS credentials (config.credentials, environment variables, a profile, or a role of the runtime)', cause: err },
        )
      : err,
  );
}
