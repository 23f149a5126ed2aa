/**
 * Running a Lua script on Redis by its SHA1 (`EVALSHA`), sending the source (`EVAL`, which also
 * caches it) only when the server answers `NOSCRIPT` — once per script per server, after a
 * restart or a failover. Shared by every steadyfn package that scripts Redis (the lease store,
 * the outbox), so there is one copy of this rule.
 */
import { abortCallbacks, abortReasonOf, nodeCrypto, raceSignal, throwIfAborted, type Abortable } from '@steadyfn/handler/internal';

/** A Lua script with the SHA1 `EVALSHA` names it by. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** The slice of an ioredis `Redis` or `Cluster` a script needs (structural: no driver types). */
export interface LuaScriptClient {
  evalsha(...args: any[]): Promise<unknown>;
  eval(...args: any[]): Promise<unknown>;
}

/**
 * Wraps Lua source with its SHA1, computed on first use: loading a package that defines scripts
 * must neither load `node:crypto` nor hash anything (cold start).
 * @example const script = luaScript("return redis.call('GET', KEYS[1])");
 */
export function luaScript(source: string): LuaScript {
  let sha: string | undefined;
  return {
    source,
    get sha() {
      return (sha ??= nodeCrypto().createHash('sha1').update(source).digest('hex'));
    },
  };
}

/** Redis's answer to `EVALSHA` for a script it does not have (yet): send the source with `EVAL`. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Runs `script` with `keys` and `args`: `EVALSHA`, then `EVAL` when the server does not have
 * the script yet. Gives up when `signal` aborts (rejecting with its reason; a command already
 * sent may still run on the server).
 *
 * @throws the driver's error (a Lua error reply, a connection error), or `signal.reason`.
 * @example await runLuaScript(redis, script, ['k'], [], { signal: ctx.signal })
 */
export async function runLuaScript(client: LuaScriptClient, script: LuaScript, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number | Buffer>, options: { signal?: AbortSignal | undefined } = {}): Promise<unknown> {
  const { signal } = options;
  throwIfAborted(signal);
  try {
    return await raceSignal(client.evalsha(script.sha, keys.length, ...keys, ...args), signal);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    throwIfAborted(signal);
    return raceSignal(client.eval(script.source, keys.length, ...keys, ...args), signal);
  }
}

/**
 * `runLuaScript` for one call on a hot path: `EVALSHA` sent at once, `EVAL` only on `NOSCRIPT`
 * (once per server), with no async frames of its own. `args` is what follows the script:
 * the key count, the keys, then the arguments. `read` turns the reply into the result in the
 * same step that catches `NOSCRIPT` and stops racing `signal` (one reaction per call: a
 * `raceSignal` and a `then` after it would be two); an error it throws rejects the call, and is
 * never taken for `NOSCRIPT`. Rejects like `runLuaScript`, with the driver's error (and an abort's
 * reason) passed through `fail` when given (in the same step: no promise more). `fail` may return
 * a promise instead (e.g. one that undoes what the call may have done, then rejects): the call
 * then settles as that promise does. The reply's path is the same either way.
 */
export function sendLuaScript<T = unknown>(
  client: LuaScriptClient,
  script: LuaScript,
  args: ReadonlyArray<string | number | Buffer>,
  signal: AbortSignal | Abortable | undefined,
  read?: (reply: unknown) => T,
  fail?: (error: unknown) => unknown,
): Promise<T> {
  let sent: Promise<unknown>;
  try {
    sent = client.evalsha(script.sha, ...args);
  } catch (error) {
    sent = Promise.reject(error);
  }
  const failed = (error: unknown): unknown => (fail === undefined ? error : fail(error));
  /** `fail`'s promise, or a rejection with what it answered. */
  const failure = (error: unknown): Promise<T> => {
    const answer = failed(error);
    return answer instanceof Promise ? answer : Promise.reject(answer);
  };
  const retry = (error: unknown): Promise<T> => {
    if (!isNoScript(error)) {
      const answer = failed(error);
      if (answer instanceof Promise) return answer as Promise<T>;
      throw answer;
    }
    throwIfAborted(signal);
    let again: Promise<unknown>;
    try {
      again = raceSignal(client.eval(script.source, ...args), signal);
    } catch (error) {
      again = Promise.reject(error);
    }
    if (fail !== undefined) again = again.catch(failure);
    return (read === undefined ? again : again.then(read)) as Promise<T>;
  };
  if (signal === undefined) return sent.then(read, retry) as Promise<T>;
  if (signal.aborted) {
    sent.catch(ignore);
    return failure(abortReasonOf(signal));
  }
  // `raceSignal`'s race, with `read` and `retry` run in its one reaction.
  const callbacks = abortCallbacks(signal);
  return new Promise<T>((resolve, reject) => {
    // Answered by the abort: a failure arriving later is not passed to `fail` again (its promise would go unawaited).
    let aborted = false;
    const abort = (): void => {
      aborted = true;
      sent.catch(ignore);
      const answer = failed(abortReasonOf(signal));
      if (answer instanceof Promise) resolve(answer as Promise<T>);
      else reject(answer);
    };
    callbacks.add(abort);
    sent.then(
      (reply) => {
        callbacks.delete(abort);
        try {
          resolve(read === undefined ? (reply as T) : read(reply));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        callbacks.delete(abort);
        if (aborted) return;
        try {
          resolve(retry(error));
        } catch (thrown) {
          reject(thrown);
        }
      },
    );
  });
}

const ignore = (): void => undefined;
