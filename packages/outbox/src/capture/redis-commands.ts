/**
 * The Redis-mode write's input, checked before any script is sent: the state commands it may
 * run and their arguments as Redis parses them, and the partition (hash tag) its keys share.
 * A refusal is `EventInvalidError` naming the field (`commands.<i>`, `keys`).
 */
import { EventInvalidError } from '../errors.js';
import { DEFAULT_PARTITION, hashTagOf } from '../stores/redis-keys.js';
import { isRedisScore } from './redis-score.js';

/** Commands a write may run, and the key type each needs (checked before writing). */
export const REDIS_COMMANDS = ['SET', 'DEL', 'HSET', 'HDEL', 'HINCRBY', 'INCRBY', 'SADD', 'SREM', 'ZADD', 'ZREM', 'RPUSH', 'LPUSH', 'PEXPIRE'] as const;
/** A command a Redis-mode write may run (`REDIS_COMMANDS`). */
export type RedisCommandName = (typeof REDIS_COMMANDS)[number];

/** One state command: `[name, key, ...args]`, e.g. `['HSET', 'order:{o-42}', 'status', 'paid']`. */
export type RedisCommand = readonly [RedisCommandName, string, ...Array<string | number>];

/**
 * Arguments as Redis parses them (`string2ll`, `strtod`): a check laxer than Redis lets the
 * script fail at that command after applying the ones before it, which no script can undo.
 * Integers: no leading zero, no `-0`, no sign `+`, no spaces.
 */
const INTEGER = /^(0|-?[1-9]\d{0,15})$/;
/** A positive expiry in ms (`SET … PX` refuses 0). */
const POSITIVE_MS = /^[1-9]\d{0,11}$/;
/** `PEXPIRE` takes 0 (the key expires at once). */
const EXPIRE_MS = /^(0|[1-9]\d{0,11})$/;

/** Refuses the write's input: `EventInvalidError` with `message`, naming `field`. */
export function bad(message: string, field: string): never {
  throw new EventInvalidError(`outbox: ${message}`, { issues: [{ field, message, expected: 'a valid Redis state command' }] });
}

/** An argument as the script sends it: a string, or a finite number as its decimal text; anything else refused, naming `field`. */
export function text(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return bad(`${field} must be a string or a finite number`, field);
}

/** Argument count rules, checked before a script is sent. */
export function checkCommand(command: RedisCommand, index: number): string[] {
  const [name, key, ...rest] = command;
  const field = `commands.${index}`;
  if (!(REDIS_COMMANDS as readonly string[]).includes(name)) bad(`command ${JSON.stringify(String(name))} is not supported (use one of ${REDIS_COMMANDS.join(', ')})`, field);
  if (typeof key !== 'string' || key.length === 0) bad('key must be a non-empty string', `${field}.key`);
  const args = rest.map((a, i) => text(a, `${field}.${i + 2}`));
  const n = args.length;
  const ok =
    name === 'SET' ? n === 1 || (n === 3 && args[1] === 'PX' && POSITIVE_MS.test(args[2]!))
    : name === 'DEL' ? n === 0
    : name === 'HSET' ? n >= 2 && n % 2 === 0
    : name === 'HINCRBY' ? n === 2 && INTEGER.test(args[1]!)
    : name === 'INCRBY' ? n === 1 && INTEGER.test(args[0]!)
    : name === 'ZADD' ? n >= 2 && n % 2 === 0 && args.every((a, i) => i % 2 === 1 || isRedisScore(a))
    : name === 'PEXPIRE' ? n === 1 && EXPIRE_MS.test(args[0]!)
    : n >= 1;
  if (!ok) bad(`${name} has the wrong arguments`, field);
  return args;
}

/**
 * The partition of a write: the hash tag all its state keys share, or the default partition
 * when none has one (standalone Redis only).
 */
export function partitionOf(keys: ReadonlyArray<string>, cluster: boolean): string {
  let tag: string | undefined;
  let untagged = false;
  for (const key of keys) {
    const t = hashTagOf(key);
    if (t === undefined) untagged = true;
    else if (tag === undefined) tag = t;
    else if (t !== tag) bad(`every key of one write must share one hash tag; found {${tag}} and {${t}}`, 'keys');
  }
  if (tag !== undefined && untagged) bad(`every key of one write must share the hash tag {${tag}}`, 'keys');
  if (tag === undefined && cluster && keys.length > 0) bad('on Redis Cluster every key of a write must carry a hash tag, e.g. order:{o-42}', 'keys');
  return tag ?? DEFAULT_PARTITION;
}
