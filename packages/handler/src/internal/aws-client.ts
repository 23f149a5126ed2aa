/**
 * Which AWS service a client talks to. An `SQSClient` given where an `S3Client` belongs has a
 * `send` like the right one, so a duck-type check lets it through and every call then fails at
 * run time with the other service's "unknown operation". An AWS SDK v3 client names its service
 * in `config.serviceId` (`'S3'`, `'SQS'`): checked up front.
 */
import { ConfigurationError } from '../errors.js';
import { invalidOption } from './options.js';
import { isRecord } from './record.js';

/** The service an AWS SDK v3 client is for (`config.serviceId`), or undefined for a client that does not say (a test double). */
export function serviceIdOf(client: unknown): string | undefined {
  const config = isRecord(client) ? client.config : undefined;
  return isRecord(config) && typeof config.serviceId === 'string' ? config.serviceId : undefined;
}

/**
 * Checks that `value` is a client for `serviceId` (`'S3'`, `'SQS'`): an object with `send`, and
 * — when it names its service, as every AWS SDK v3 client does — that service. An object with
 * `send` that names no service (a test double) is accepted.
 *
 * @param what - The expected client in words, e.g. `an S3Client from @aws-sdk/client-s3`.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `field`) otherwise, naming the service it got.
 */
export function awsClientOption(owner: string, field: string, value: unknown, serviceId: 'S3' | 'SQS', what: string): asserts value is object {
  if (!isRecord(value) || typeof value.send !== 'function') invalidOption(owner, field, what, value);
  const service = serviceIdOf(value);
  if (service !== undefined && service !== serviceId) {
    throw new ConfigurationError(`${owner}(): option "${field}" must be ${what}; got a client for ${service} (its config.serviceId is "${service}")`, { field, expected: what });
  }
}
