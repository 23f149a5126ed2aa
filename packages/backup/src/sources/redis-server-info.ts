/**
 * What a Redis node says about itself, for a backup's manifest and its resume checks: read from
 * `INFO server`, else — an ACL that refuses `INFO` (`-info`, common on managed Redis users that
 * may only read data) — from `HELLO`, which ACLs rarely deny (it authenticates; Redis 7 runs it
 * whatever the ACL says). The restore side reads a target's version the same way
 * (restore/redis-stream-groups.ts).
 *
 * https://redis.io/docs/latest/commands/info/ , /hello/
 */

/** The part of a Redis connection this module uses. */
interface CallsRedis {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** The `version` field of a `HELLO` reply (RESP2: a flat `[name, value, …]` list; RESP3: a map). */
export function helloVersion(reply: unknown): string | undefined {
  return helloField(reply, 'version');
}

/** A field of a `HELLO` reply (`server`, `version`, `proto`, `id`, `mode`, `role`, `modules`). */
function helloField(reply: unknown, name: string): string | undefined {
  if (reply instanceof Map) return reply.get(name) === undefined ? undefined : String(reply.get(name));
  if (!Array.isArray(reply)) return undefined;
  for (let i = 0; i + 1 < reply.length; i += 2) if (String(reply[i]) === name) return String(reply[i + 1]);
  return undefined;
}

/** What a source node told of itself, and by which command. */
export interface ServerFacts {
  /** `redis_version`, `undefined` when neither `INFO` nor `HELLO` gave one. */
  version: string | undefined;
  /** `valkey` when the server says so (`valkey_version`, `server_name:valkey`, HELLO's `server`). */
  engine: 'redis' | 'valkey';
  /**
   * The server's `run_id` (a new one after every restart): only `INFO` gives it, so a backup of a
   * node that refuses `INFO` cannot tell a restart from a resume (`undefined`).
   */
  runId: string | undefined;
  /** Where the facts came from: `HELLO` when `INFO` was refused, `none` when both were. */
  via: 'INFO' | 'HELLO' | 'none';
}

/**
 * Whether `error` is the server refusing this one command — an ACL (`NOPERM`), or a command a
 * managed Redis disabled or renamed (`ERR unknown command`) — rather than refusing the
 * connection (`WRONGPASS`, `NOAUTH`: the source's credentials, which `sourceErrorOf` makes a
 * terminal `SourceRefusedError`) or failing it (a lost connection): only those fall back.
 */
function commandRefused(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /^NOPERM\b/.test(message) || /^ERR unknown command\b/i.test(message);
}

/**
 * The facts of one node. Never throws for a refused `INFO` or `HELLO` (an ACL, a disabled
 * command): the caller records what is missing (`via`); the version is then unknown, which a
 * backup reports rather than fails on.
 *
 * @throws what `INFO` or `HELLO` threw for any other reason (credentials refused, connection
 *   lost): the caller's error mapping decides, as for any other command of the source.
 */
export async function serverFacts(node: CallsRedis): Promise<ServerFacts> {
  let info: string;
  try {
    info = String(await node.call('INFO', 'server'));
  } catch (infoError) {
    if (!commandRefused(infoError)) throw infoError;
    let reply: unknown;
    try {
      // No protocol argument: the connection's protocol (and its client's parser) is kept.
      reply = await node.call('HELLO');
    } catch (helloError) {
      if (!commandRefused(helloError)) throw helloError;
      return { version: undefined, engine: 'redis', runId: undefined, via: 'none' };
    }
    const version = helloVersion(reply);
    return { version, engine: helloField(reply, 'server') === 'valkey' ? 'valkey' : 'redis', runId: undefined, via: version === undefined ? 'none' : 'HELLO' };
  }
  return {
    version: /redis_version:([^\r\n]+)/.exec(info)?.[1],
    engine: /valkey_version:/.test(info) || /server_name:valkey/.test(info) ? 'valkey' : 'redis',
    runId: /run_id:([0-9a-f]+)/.exec(info)?.[1],
    via: 'INFO',
  };
}
