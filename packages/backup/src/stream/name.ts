/**
 * A stream's name: part of its S3 keys (`streams/<name>/…`), so letters, digits, `.`, `_`
 * and `-` only. Checked the same wherever a stream is named: a name `streamBackup` refuses
 * can name no stream, and a snapshot marked with it could never be restored to a point in time.
 */
import { invalidOption, stringOption } from '@steadyfn/handler/internal';
import type { S3Location } from '../s3/client.js';
import { longestStreamKeyBytes } from './objects.js';

/**
 * The stream name option `field` of `owner`.
 * @throws {ConfigurationError} not a non-empty string of letters, digits, `.`, `_` or `-`
 */
export function streamNameOption(owner: string, field: string, value: unknown): string {
  const name = stringOption(owner, field, value);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) invalidOption(owner, field, 'a stream name: letters, digits, ".", "_" or "-"', name);
  return name;
}

/**
 * The stream name option `field` of `owner`, for a job that writes the stream's keys (or marks
 * a snapshot with it) under `loc`: its objects' keys must fit S3's 1,024 bytes with the prefix,
 * else every write of the stream would be refused (S3 and gofakes3; moto stores them).
 * @throws {ConfigurationError} not a stream name, or one whose keys under `loc` cannot fit 1,024 bytes
 */
export function writtenStreamNameOption(owner: string, field: string, value: unknown, loc: S3Location): string {
  const name = streamNameOption(owner, field, value);
  if (longestStreamKeyBytes(loc, name) > 1024) invalidOption(owner, field, 'a stream name whose S3 keys fit 1,024 bytes with the prefix (under streams/<name>/t<timeline>/<hour>/)', name);
  return name;
}
