/**
 * `sqs()`: an SQSClient built once per instance. Like S3 it has no thaw ping (HTTP; the
 * SDK reconnects and retries socket errors itself); after it idled past `idleThresholdMs`, its
 * idle kept-alive sockets are closed before the next request.
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { ClientHandle } from '../spec.js';
import { awsClientHandle } from './aws.js';
import { driverLoader } from './load.js';
import { keysOf } from '@steadyfn/handler/internal';
import { HANDLE_KEYS, type HandleOptions } from './options.js';

/** Options of `sqs()`. */
export interface SqsHandleOptions extends HandleOptions {
  /**
   * SDK configuration; each value overrides the defaults.
   * @default { maxAttempts: 3, requestHandler: { connectionTimeout: 3000 } }
   */
  config?: SQSClientConfig | undefined;
}

/** A handle on an SQSClient. */
export type SqsHandle = ClientHandle<SQSClient>;

const loadSqs = driverLoader(() => import('@aws-sdk/client-sqs'));
// Unknown keys are refused; `config` is the SDK's and is not looked into.
const SQS_KEYS = keysOf<SqsHandleOptions>({ ...HANDLE_KEYS, config: true });

/**
 * A cached SQSClient (the `@aws-sdk/client-sqs` package must be installed; it is loaded when this is called).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid option; at first use (terminal) when the SDK finds no region,
 *   cannot parse `config.endpoint` or its constructor refuses `config` (`CONFIG_INVALID`),
 *   from a command when the SDK finds no credentials anywhere and instance metadata is disabled (`CONFIG_INVALID`, field `config.credentials`), or when `@aws-sdk/client-sqs` is missing
 *   (`CONNECTION_DRIVER_MISSING`) or cannot load (`CONNECTION_DRIVER_LOAD_FAILED`).
 * @example
 * const queue = sqs({ config: { endpoint: process.env.SQS_ENDPOINT } });
 * await queue.run((c) => c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{}' })));
 */
export function sqs(options?: SqsHandleOptions): SqsHandle {
  return awsClientHandle('sqs', '@aws-sdk/client-sqs', loadSqs(), (sdk, config: SQSClientConfig) => new sdk.SQSClient(config), options, SQS_KEYS);
}
