/**
 * Which MongoClient a driver network error belongs to, by the server addresses it names: with
 * several `mongo()` handles (or a MongoClient of the function's own) an error of the function's
 * direct use of `ctx.mongo` is typed only for the client that may have raised it.
 */
import { isIP } from 'node:net';
import type { MongoClient } from 'mongodb';
import { errorChain, errorName, MONGO_DRIVER_NETWORK_NAMES } from '@steadyfn/handler/internal';
import type { DriverErrorOwner } from '../closed.js';

/**
 * The MongoDB driver's errors for a connection that failed under an operation or could not be
 * made (`MONGO_DRIVER_NETWORK_NAMES`). Only this driver raises them, so one from the function's
 * direct use of `ctx.mongo` is a retryable `CONNECTION_LOST` (`CONNECTION_UNAVAILABLE` when it
 * proves the operation unsent), like a Redis command's, not the handler's `INTERNAL` — but only
 * for the client that raised it: with several `mongo()` handles (or a MongoClient of the
 * function's own) the error is tied to a client by the server address it names (`address` of a
 * pool error, "connection N to HOST closed / timed out", a server selection error's
 * `reason.servers`): `'yes'` when that is one of `client`'s servers, false when it is none of
 * them, `'maybe'` when the error names no server (a reset: "read ECONNRESET") — or names one
 * only by the IP its socket reached ("connection N to 127.0.0.1:27017 closed"), which cannot be
 * told apart from a client given host names (`localhost`, Atlas, `mongodb+srv`). Not the
 * closed-client errors (`MongoNotConnectedError`, `MongoTopologyClosedError`): those are typed
 * only on a client this package or the function closed, never on a MongoClient of its own.
 */
export function driverNetworkError(err: unknown, client: MongoClient): DriverErrorOwner {
  let network = false;
  for (const e of errorChain(err)) {
    if (!MONGO_DRIVER_NETWORK_NAMES.has(errorName(e))) continue;
    network = true;
    const named = serversNamed(e);
    if (named.length > 0) {
      const mine = serversOf(client);
      if (named.some((address) => mine.has(address))) return 'yes';
      // A connection's message names the IP its socket reached, never the host name the client
      // was given (`localhost`, an Atlas or `mongodb+srv` host): not this client's only when all
      // of its servers are IP addresses themselves.
      return !socketNamed(e) || [...mine].every(isIpAddress) ? false : 'maybe';
    }
  }
  return network ? 'maybe' : false;
}

/** The server addresses (`host:port`, lower case) a driver error names; none when it names none. */
function serversNamed(e: Record<string, unknown>): string[] {
  if (typeof e.address === 'string') return [e.address.toLowerCase()];
  const servers = (e.reason as { servers?: unknown } | null | undefined)?.servers;
  if (servers instanceof Map) return [...servers.keys()].filter((k): k is string => typeof k === 'string').map((k) => k.toLowerCase());
  const message = typeof e.message === 'string' ? e.message : '';
  const host = /^connection \S+ to (\S+) (?:closed|timed out)$/.exec(message)?.[1];
  return host === undefined ? [] : [host.toLowerCase()];
}

/** Whether `e` is a connection's error ("connection N to X closed / timed out"), X its socket's resolved IP (mongodb `streamIdentifier`). */
function socketNamed(e: Record<string, unknown>): boolean {
  return typeof e.address !== 'string' && !((e.reason as { servers?: unknown } | null | undefined)?.servers instanceof Map);
}

/** Whether `address` (`host:port`, `[v6]:port`) names its host by an IP address. */
function isIpAddress(address: string): boolean {
  const colon = address.lastIndexOf(':');
  const host = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : colon < 0 ? address : address.slice(0, colon);
  return isIP(host) !== 0;
}

/** The addresses of `client`'s servers: those its topology knows, and the URI's seed list. */
function serversOf(client: MongoClient): Set<string> {
  const out = new Set<string>();
  const known = (client as unknown as { topology?: { description?: { servers?: unknown } } }).topology?.description?.servers;
  if (known instanceof Map) for (const k of known.keys()) if (typeof k === 'string') out.add(k.toLowerCase());
  for (const host of client.options.hosts ?? []) out.add(String(host).toLowerCase());
  return out;
}
