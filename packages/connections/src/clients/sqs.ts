/**
 * `sqs()`: an SQSClient built once per instance. Like S3 it has no thaw check (HTTP; the
 * SDK reconnects and retries socket errors itself).
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { defineClient, type ClientHandle } from '../handle.js';
import { AWS_CLIENT_DEFAULTS, handleOptions, type HandleOptions } from './options.js';

export interface SqsHandleOptions extends HandleOptions {
  config?: SQSClientConfig;
}

export type SqsHandle = ClientHandle<SQSClient>;

export function sqs(options: SqsHandleOptions = {}): SqsHandle {
  return defineClient<SQSClient>({
    ...handleOptions(options, 'sqs'),
    async create() {
      const { SQSClient } = await import('@aws-sdk/client-sqs');
      return new SQSClient({ ...AWS_CLIENT_DEFAULTS, ...options.config });
    },
    close: (client) => client.destroy(),
  });
}
