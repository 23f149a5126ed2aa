/**
 * `s3()`: an S3Client built once per instance. There is no thaw ping: the SDK speaks HTTP,
 * opens a new socket when a kept-alive one is gone, and retries ECONNRESET itself, so a
 * ping would only add a round trip. After the client idled past `idleThresholdMs`, its idle
 * kept-alive sockets (maybe silently dead after a freeze) are closed before the next request.
 * A client that still fails with a connection error is rebuilt before its next use.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { ClientHandle } from '../spec.js';
import { awsClientHandle } from './aws.js';
import { driverLoader } from './load.js';
import { keysOf } from '@steadyfn/handler/internal';
import { HANDLE_KEYS, type HandleOptions } from './options.js';

/** Options of `s3()`. */
export interface S3HandleOptions extends HandleOptions {
  /**
   * SDK configuration; each value overrides the defaults.
   * @default { maxAttempts: 3, requestHandler: { connectionTimeout: 3000 } }
   */
  config?: S3ClientConfig | undefined;
}

/** A handle on an S3Client. */
export type S3Handle = ClientHandle<S3Client>;

const loadS3 = driverLoader(() => import('@aws-sdk/client-s3'));
// Unknown keys are refused; `config` is the SDK's and is not looked into.
const S3_KEYS = keysOf<S3HandleOptions>({ ...HANDLE_KEYS, config: true });

/**
 * A cached S3Client (the `@aws-sdk/client-s3` package must be installed; it is loaded when this is called).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option; at first use (terminal) when the SDK finds no region,
 *   cannot parse `config.endpoint` or its constructor refuses `config` (`CONFIG_INVALID`),
 *   from a command when the SDK finds no credentials anywhere and instance metadata is disabled (`CONFIG_INVALID`, field `config.credentials`), or when `@aws-sdk/client-s3` is missing
 *   (`CONNECTION_DRIVER_MISSING`) or cannot load (`CONNECTION_DRIVER_LOAD_FAILED`).
 * @example
 * const files = s3({ config: { region: 'eu-west-1' } });
 * await files.run((c) => c.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'v' })));
 */
export function s3(options?: S3HandleOptions): S3Handle {
  return awsClientHandle('s3', '@aws-sdk/client-s3', loadS3(), (sdk, config: S3ClientConfig) => new sdk.S3Client(config), options, S3_KEYS);
}
