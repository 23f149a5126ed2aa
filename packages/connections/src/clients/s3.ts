/**
 * `s3()`: an S3Client built once per instance. There is no thaw check: the SDK speaks HTTP,
 * opens a new socket when a kept-alive one is gone, and retries ECONNRESET itself, so a
 * ping would only add a round trip. A client that still fails with a connection error is
 * rebuilt before its next use.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { defineClient, type ClientHandle } from '../handle.js';
import { AWS_CLIENT_DEFAULTS, handleOptions, type HandleOptions } from './options.js';

export interface S3HandleOptions extends HandleOptions {
  /** SDK configuration; each value overrides the defaults below. */
  config?: S3ClientConfig;
}

export type S3Handle = ClientHandle<S3Client>;

export function s3(options: S3HandleOptions = {}): S3Handle {
  return defineClient<S3Client>({
    ...handleOptions(options, 's3'),
    async create() {
      const { S3Client } = await import('@aws-sdk/client-s3');
      return new S3Client({ ...AWS_CLIENT_DEFAULTS, ...options.config });
    },
    close: (client) => client.destroy(),
  });
}
