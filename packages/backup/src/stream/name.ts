/**
 * A stream's name: part of its S3 keys (`streams/<name>/…`), so letters, digits, `.`, `_`
 * and `-` only. Checked the same wherever a stream is named: a name `streamBackup` refuses
 * can name no stream, and a snapshot marked with it could never be restored to a point in time.
 */
import { invalidOption, stringOption } from '@steadyfn/handler/internal';

/**
 * The stream name option `field` of `owner`.
 * @throws {ConfigurationError} not a non-empty string of letters, digits, `.`, `_` or `-`
 */
export function streamNameOption(owner: string, field: string, value: unknown): string {
  const name = stringOption(owner, field, value);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) invalidOption(owner, field, 'a stream name: letters, digits, ".", "_" or "-"', name);
  return name;
}
