import type { ClientSpec } from '../handle.js';

/** Handle settings every typed factory accepts (see `defineClient`). */
export type HandleOptions = Partial<
  Pick<ClientSpec<unknown>, 'name' | 'idleThresholdMs' | 'pingTimeoutMs' | 'connectTimeoutMs' | 'closeTimeoutMs' | 'budget' | 'now' | 'logger'>
>;

export function handleOptions(options: HandleOptions, name: string): HandleOptions & { name: string } {
  const { name: given, idleThresholdMs, pingTimeoutMs, connectTimeoutMs, closeTimeoutMs, budget, now, logger } = options;
  const out: HandleOptions & { name: string } = { name: given ?? name };
  if (idleThresholdMs !== undefined) out.idleThresholdMs = idleThresholdMs;
  if (pingTimeoutMs !== undefined) out.pingTimeoutMs = pingTimeoutMs;
  if (connectTimeoutMs !== undefined) out.connectTimeoutMs = connectTimeoutMs;
  if (closeTimeoutMs !== undefined) out.closeTimeoutMs = closeTimeoutMs;
  if (budget !== undefined) out.budget = budget;
  if (now !== undefined) out.now = now;
  if (logger !== undefined) out.logger = logger;
  return out;
}

/** Parses Redis `INFO clients` into connections in use and the server's limit. */
export function parseRedisClientsInfo(info: string): { used: number; limit: number } | undefined {
  const used = /^connected_clients:(\d+)/m.exec(info)?.[1];
  const limit = /^maxclients:(\d+)/m.exec(info)?.[1];
  if (used === undefined || limit === undefined) return undefined;
  return { used: Number(used), limit: Number(limit) };
}

/** AWS SDK clients: fail a connect that hangs (a NAT mapping dropped while frozen) quickly, and retry it. */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 3, requestHandler: { connectionTimeout: 3_000 } } as const;
