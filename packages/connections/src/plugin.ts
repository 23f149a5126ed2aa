/**
 * `connections({ redis, mongo })`: a handler plugin that hands each invocation healthy
 * clients as typed ctx members and logs, once per invocation, how each was obtained.
 */
import type { Plugin } from '@steadyfn/handler';
import type { ClientHandle } from './handle.js';
import { detectPlatform } from './profiles.js';
import { openRecords, recordsOf, type UseRecord } from './records.js';
import { closeOnSigterm } from './shutdown.js';

/** What a handle puts on ctx: its `contextValue` (Redis: commands with read retry) or the client itself. */
export type ContextValueOf<H> = H extends { contextValue(client: any): infer V } ? V : H extends ClientHandle<infer T> ? T : never;

export interface ConnectionsPluginOptions {
  /** Level of the per-invocation record, or false for none. Default `'info'`. */
  log?: 'info' | 'debug' | false;
  /** Close every client on SIGTERM. Default: on when a serverless platform is detected. */
  closeOnSigterm?: boolean;
}

export type ConnectionsRecord = Record<string, UseRecord>;

export function connections<const M extends Record<string, ClientHandle<any>>>(
  handles: M,
  options: ConnectionsPluginOptions = {},
): Plugin<{ [K in keyof M]: ContextValueOf<M[K]> }> {
  const entries = Object.entries(handles) as Array<[string, ClientHandle<unknown> & { contextValue?(client: unknown): unknown }]>;
  const names = new Set(entries.map(([, handle]) => handle.name));
  if (names.size !== entries.length) {
    // Records are kept per client name: two clients with one name would share a record.
    throw new TypeError('connections(): every client needs its own `name` (pass `name` to the factory)');
  }
  const level = options.log ?? 'info';
  let sigtermDecided = false;
  return {
    name: 'connections',
    async extend(ctx) {
      if (!sigtermDecided) {
        sigtermDecided = true;
        if (options.closeOnSigterm ?? detectPlatform() !== 'direct') closeOnSigterm();
      }
      openRecords(ctx);
      // All clients at once: a cold start pays the slowest connect, not their sum.
      const leases = await Promise.all(entries.map(([, handle]) => handle.acquire()));
      const members: Record<string, unknown> = {};
      entries.forEach(([key, handle], i) => {
        const client = leases[i]!.client;
        members[key] = handle.contextValue ? handle.contextValue(client) : client;
      });
      return members as { [K in keyof M]: ContextValueOf<M[K]> };
    },
    finally(ctx) {
      // The idle clock starts when the invocation ends, not when it began.
      for (const [, handle] of entries) handle.touch();
      const records = recordsOf(ctx);
      if (level === false || !records || records.size === 0) return;
      const clients: ConnectionsRecord = {};
      for (const [key, handle] of entries) {
        const record = records.get(handle.name);
        if (record) clients[key] = record;
      }
      ctx.log[level]('connections', { clients });
    },
  };
}
