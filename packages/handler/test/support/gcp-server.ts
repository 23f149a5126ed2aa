/**
 * The Functions Framework's own test server for a function registered under a fresh name,
 * listening on 127.0.0.1, closed with `closeServers()` after the file's tests.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';

const servers: Server[] = [];
let counter = 0;

/** Registers `fn` with `functions.http` / `functions.cloudEvent` and serves it; resolves to its base URL. */
export async function serve(kind: 'http' | 'cloudEvent', fn: (...args: any[]) => unknown): Promise<string> {
  const name = `fn-${kind}-${++counter}-${process.pid}`;
  if (kind === 'http') functions.http(name, fn as functions.HttpFunction);
  else functions.cloudEvent(name, fn as functions.CloudEventFunction);
  const server = getTestServer(name);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Serves `fn` with the framework's `event` signature (a background function called as
 * `fn(data, context)`), as `--signature-type=event` does. The declarative API registers only
 * `http` and `cloudevent` functions, so the framework's own `getServer` is loaded from its build.
 */
export async function serveBackground(fn: (data: unknown, context: unknown) => unknown): Promise<string> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@google-cloud/functions-framework');
  const { getServer } = require(join(dirname(main), 'server.js')) as { getServer: (fn: unknown, options: Record<string, unknown>) => Server };
  const server = getServer(fn, { signatureType: 'event', enableExecutionId: false, timeoutMilliseconds: 0, port: '0', target: '', sourceLocation: '', printHelp: false, ignoredRoutes: null });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}
