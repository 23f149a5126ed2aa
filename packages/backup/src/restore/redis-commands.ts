/**
 * The commands a backed-up Redis record becomes on a restore target: `RESTORE … REPLACE ABSTTL`
 * for a DUMP record, plain commands for a typed one (chunk 0 replaces the key), a typed
 * stream's groups and counters (redis-stream-groups.ts), `PEXPIREAT` for its expiry — and what
 * an `XCLAIM` reply says of a pending entry it could not take back. Pure: the target (redis.ts)
 * checks every record with them before its first write, then sends them.
 */
import { streamFields, type RedisRecord } from '../format/records.js';
import { decodeBytes } from '../sources/redis-values.js';
import { streamGroupCommands, type StreamGroupSupport } from './redis-stream-groups.js';

/** Parts per element of a typed record: [offset, bytes], [field, value], [member], [member, score], [index, value], [id, fields]. */
const ARITY: Record<Exclude<RedisRecord['t'], 'dump'>, number> = { string: 2, hash: 2, set: 1, zset: 2, list: 2, stream: 2 };

/**
 * The commands that write `record` under `key`.
 * @throws {TypeError} a record whose elements do not fit its type (checked before anything is written)
 */
export function commandsFor(record: RedisRecord, key: Buffer, support: StreamGroupSupport): Array<Array<string | Buffer | number>> {
  if (record.t === 'dump') {
    const ttl = record.ttl > 0 ? record.ttl : 0;
    return [['RESTORE', key, ttl, Buffer.from(record.v, 'base64'), 'REPLACE', ...(ttl > 0 ? ['ABSTTL'] : [])]];
  }
  const type = record.t;
  const out: Array<Array<string | Buffer | number>> = [];
  // Chunk 0 replaces the key. A string's chunk 0 (offset 0) is a SET, not DEL + SETRANGE: an
  // empty string is a key Redis holds, and `SETRANGE k 0 ""` creates none.
  const setsString = type === 'string' && record.c === 0 && record.v[0]?.[0] === '0';
  if (record.c === 0 && !setsString) out.push(['DEL', key]);
  const elements = record.v.map((element) => {
    if (element.length !== ARITY[type]) throw new TypeError(`a ${type} element has ${element.length} parts`);
    return element.map(decodeBytes) as [Buffer, Buffer];
  });
  const whole = (b: Buffer, what: string, pattern: RegExp): string => {
    const text = b.toString('latin1');
    if (!pattern.test(text)) throw new TypeError(`a ${type} element has an invalid ${what}`);
    return text;
  };
  if (elements.length > 0) {
    switch (type) {
      case 'string':
        elements.forEach(([offset, bytes], i) => {
          const at = Number(whole(offset, 'offset', /^\d{1,15}$/));
          out.push(setsString && i === 0 ? ['SET', key, bytes] : ['SETRANGE', key, at, bytes]);
        });
        break;
      case 'hash':
        out.push(['HSET', key, ...elements.flat()]);
        break;
      case 'set':
        out.push(['SADD', key, ...elements.flat()]);
        break;
      case 'zset':
        out.push(['ZADD', key, ...elements.flatMap(([member, score]) => [whole(score, 'score', /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)$/i), member])]);
        break;
      case 'list':
        out.push(['RPUSH', key, ...elements.map(([, value]) => value)]);
        break;
      case 'stream':
        for (const [id, fields] of elements) out.push(['XADD', key, whole(id, 'entry id', /^\d+-\d+$/), ...streamFields(fields).map(decodeBytes)]);
        break;
    }
  } else if (type === 'stream' && record.c === 0) {
    // A stream whose entries were all deleted or trimmed is still a key: one entry added and
    // trimmed away in the same command leaves it empty (its last id is not in the backup).
    out.push(['XADD', key, 'MAXLEN', '0', '0-1', 'steadyfn', '']);
  }
  if (record.g !== undefined || record.gp !== undefined || record.s !== undefined) {
    if (type !== 'stream') throw new TypeError(`a ${type} record carries consumer groups`);
    out.push(...streamGroupCommands(key, record, support));
  }
  if (record.ttl > 0) out.push(['PEXPIREAT', key, record.ttl]);
  return out;
}

/** The key (without `prefix`) of an `XCLAIM` command `command` whose reply claimed nothing; undefined for any other. */
export function unclaimed(command: Array<string | Buffer | number>, reply: unknown, prefix: number): string | undefined {
  if (command[0] !== 'XCLAIM' || !Array.isArray(reply) || reply.length > 0) return undefined;
  return (command[1] as Buffer).subarray(prefix).toString('latin1');
}
