/**
 * Identifiers SQS restricts: `MessageGroupId` and `MessageDeduplicationId` (up to 128
 * characters, alphanumeric and punctuation, i.e. printable ASCII without space), batch entry
 * `Id`s (up to 80 of `[A-Za-z0-9_-]`) and message attribute names.
 * (SQS API reference, SendMessage and SendMessageBatchRequestEntry; developer guide, message attributes.)
 */
import { createHash } from 'node:crypto';
import { MAX_ATTRIBUTE_NAME_LENGTH, MAX_GROUP_ID_LENGTH } from './limits.js';

/** Printable ASCII without space: `a-z`, `A-Z`, `0-9` and ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``. */
const TOKEN = /^[\x21-\x7e]+$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Whether `value` may be sent as a `MessageGroupId` or `MessageDeduplicationId` as it is. */
export function isSqsToken(value: string, maxLength = MAX_GROUP_ID_LENGTH): boolean {
  return value.length > 0 && value.length <= maxLength && TOKEN.test(value);
}

/** Prefix of a hashed group id, so a reader can tell it from an aggregate id sent as is. */
export const HASHED_GROUP_PREFIX = 'sha256:';

/**
 * The `MessageGroupId` for a group key (the relay's: `aggregateType/aggregateId`): the key itself when SQS accepts it,
 * otherwise `sha256:` + base64url(SHA-256 of its UTF-8 bytes) — 50 characters, stable across
 * processes and releases, so one aggregate always maps to one group.
 *
 * @example
 * messageGroupId('order/42')      // 'order/42'
 * messageGroupId('Bestellung Nr. 42 – Müller') // 'sha256:…' (space and non-ASCII are not allowed)
 */
export function messageGroupId(groupKey: string): string {
  if (isSqsToken(groupKey) && !groupKey.startsWith(HASHED_GROUP_PREFIX)) return groupKey;
  return HASHED_GROUP_PREFIX + createHash('sha256').update(groupKey, 'utf8').digest('base64url');
}

/**
 * Why a message attribute name is not allowed, or `undefined` when it is: 1–256 characters of
 * `[A-Za-z0-9_.-]`, no leading or trailing `.`, no `..`, and not starting with the `AWS.` or
 * `Amazon.` prefixes SQS reserves (any case).
 */
export function attributeNameProblem(name: string): string | undefined {
  // Every message of a relay carries the same few names: each is checked once per process.
  if (goodNames.has(name)) return undefined;
  const problem = nameProblem(name);
  if (problem === undefined && goodNames.size < 1_024) goodNames.add(name);
  return problem;
}

/** Attribute names found valid (bounded: names are few; past the bound they are checked each time). */
const goodNames = new Set<string>();

function nameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_ATTRIBUTE_NAME_LENGTH) return `must be 1 to ${MAX_ATTRIBUTE_NAME_LENGTH} characters long`;
  if (!ATTRIBUTE_NAME.test(name)) return 'may only contain A-Z, a-z, 0-9, "_", "-" and "."';
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) return 'must not start or end with "." nor contain ".."';
  const lower = name.toLowerCase();
  if (lower.startsWith('aws.') || lower.startsWith('amazon.')) return 'must not start with the reserved prefixes "AWS." or "Amazon."';
  return undefined;
}
