/**
 * The startup nodes of `redisCluster({ nodes })`, checked when the factory is called, and what
 * their URLs say for every node of the Cluster. ioredis gives a startup node's URL settings
 * (`redis://user:password@host:port`, `rediss://`) to that node's connection only: nodes found
 * through `CLUSTER SLOTS` get `redisOptions` alone, so a password in one startup URL (an
 * ElastiCache configuration endpoint) reached one node and commands for the others failed with
 * `NOAUTH` (redis/ioredis#837), and a `rediss://` node connected in plaintext (ioredis Cluster's
 * URL parsing never sets `tls`). Here the URLs' credentials and TLS become `redisOptions`.
 */
import type { ClusterNode, RedisOptions } from 'ioredis';
import { ConfigurationError } from '@steadyfn/handler/internal';
import { checkUrlCredentials } from './options.js';

const NODE_EXPECTED = 'a port (1 to 65535), "host:port", a redis:// or rediss:// URL, or { host, port }';

const isPort = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;

/** What a startup node's URL says for all nodes: its scheme (undefined without one) and credentials (decoded). */
interface NodeUrl {
  tls: boolean | undefined;
  username: string;
  password: string;
}

function invalidNode(i: number, why = 'got one that is not'): ConfigurationError {
  return new ConfigurationError(`redisCluster(): option "nodes.${i}" must be ${NODE_EXPECTED}; ${why} (value not shown)`, { field: `nodes.${i}`, expected: NODE_EXPECTED });
}

/**
 * Checks startup node `i`: a port, `"host:port"`, a `redis://` / `rediss://` URL (credentials
 * percent-encoded), or `{ host?, port? }`.
 * @returns what a URL (or `"host:port"`) says for all nodes; undefined for a port or an object.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `nodes.<i>`), never showing the value.
 */
function checkNode(node: unknown, i: number): NodeUrl | undefined {
  if (typeof node === 'number') {
    if (!isPort(node)) throw invalidNode(i);
    return undefined;
  }
  if (typeof node === 'string') {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(node)?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== 'redis' && scheme !== 'rediss') throw invalidNode(i, 'got a URL with another scheme');
    const url = scheme === undefined ? `redis://${node}` : node;
    if (node === '' || !URL.canParse(url)) throw invalidNode(i);
    const parsed = new URL(url);
    if (parsed.hostname === '' || (parsed.port !== '' && !isPort(Number(parsed.port)))) throw invalidNode(i);
    checkUrlCredentials('redisCluster', `nodes.${i}`, `option "nodes.${i}"`, parsed);
    return { tls: scheme === undefined ? undefined : scheme === 'rediss', username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  }
  if (typeof node !== 'object' || node === null) throw invalidNode(i);
  const { host, port } = node as { host?: unknown; port?: unknown };
  if (!((host === undefined || (typeof host === 'string' && host !== '')) && (port === undefined || isPort(port)))) throw invalidNode(i);
  return undefined;
}

/** The one value of `values` (ignoring empty ones), or a `CONFIG_INVALID` on `nodes` naming `what` when they differ. */
function sameForAll(values: string[], what: string): string | undefined {
  const given = [...new Set(values.filter((v) => v !== ''))];
  if (given.length > 1) {
    throw new ConfigurationError(`redisCluster(): the node URLs of option "nodes" name different ${what}s; a Cluster has one for all its nodes: use the same ${what} in every URL, or set options.redisOptions (values not shown)`, {
      field: 'nodes',
      expected: `one ${what} for all nodes`,
    });
  }
  return given[0];
}

/**
 * Checks option `nodes` (each node, as `checkNode`) and returns the `redisOptions` its URLs imply
 * for every node of the Cluster, under the ones given:
 * - the user name and password of the URLs, unless `given` sets `username` or `password`
 *   (URLs that name different ones are refused);
 * - `tls: {}` when the URLs are `rediss://`, unless `given` sets `tls` (`redis://` and `rediss://`
 *   together are refused; a `"host:port"` node follows the others).
 * @throws ConfigurationError (`CONFIG_INVALID`, field `nodes.<i>` or `nodes`), never showing a value.
 */
export function nodesRedisOptions(nodes: ReadonlyArray<ClusterNode>, given: RedisOptions | undefined): RedisOptions {
  const urls = nodes.map(checkNode).filter((u): u is NodeUrl => u !== undefined);
  const schemes = new Set(urls.map((u) => u.tls).filter((tls) => tls !== undefined));
  if (schemes.size > 1) {
    throw new ConfigurationError('redisCluster(): option "nodes" mixes redis:// and rediss:// URLs; a Cluster is reached with TLS on all its nodes or on none', {
      field: 'nodes',
      expected: 'redis:// URLs, or rediss:// URLs (TLS), not both',
    });
  }
  const username = sameForAll(
    urls.map((u) => u.username),
    'user name',
  );
  const password = sameForAll(
    urls.map((u) => u.password),
    'password',
  );
  const out: RedisOptions = {};
  if (schemes.has(true) && given?.tls === undefined) out.tls = {};
  // Credentials in redisOptions replace the URLs' (both: a user from one place, a password from the other, is no one's).
  if (given?.username === undefined && given?.password === undefined) {
    if (username !== undefined) out.username = username;
    if (password !== undefined) out.password = password;
  }
  return out;
}
