// Helpers for tests that need the local services started by
// `bash test/services/services.sh start` (Redis, Redis Cluster, FerretDB, moto, gofakes3, fauxqs, ElasticMQ).
//
//   import { loadServiceEnv, requireService } from '../../test/services/env.js';
//   loadServiceEnv();                 // REDIS_URL, MONGODB_URI, S3_ENDPOINT, ... into process.env
//   await requireService('redis');    // fast TCP check; throws a helpful Error if it is down
//
// No dependencies beyond node:*.

import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type ServiceName = 'redis' | 'redis-cluster' | 'mongodb' | 's3' | 's3-alt' | 'sqs' | 'sqs-alt' | 'sqs-elasticmq';

const START_HINT = 'run `bash test/services/services.sh start`';

/** Absolute path of the repo root (this file lives in <root>/test/services/). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of the env file written by services.sh start. */
export const serviceEnvFile: string = join(repoRoot, '.services', 'env');

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Reads <repo>/.services/env and merges it into process.env without overriding
 * variables that are already set. Returns the values read from the file
 * (an empty object if the file does not exist).
 */
export function loadServiceEnv(): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(serviceEnvFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const values = parseEnvFile(text);
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  return values;
}

interface Endpoint {
  host: string;
  port: number;
}

/** The variable of .services/env that names each service's endpoint. */
export const ENV_VAR: Record<ServiceName, string> = {
  redis: 'REDIS_URL',
  'redis-cluster': 'REDIS_CLUSTER_NODES',
  mongodb: 'MONGODB_URI',
  s3: 'S3_ENDPOINT',
  's3-alt': 'S3_ALT_ENDPOINT',
  sqs: 'SQS_ENDPOINT',
  'sqs-alt': 'SQS_ALT_ENDPOINT',
  'sqs-elasticmq': 'SQS_ELASTICMQ_ENDPOINT',
};

const DEFAULT_PORT: Record<ServiceName, number> = {
  redis: 6379,
  'redis-cluster': 6379,
  mongodb: 27017,
  s3: 80,
  's3-alt': 80,
  sqs: 80,
  'sqs-alt': 80,
  'sqs-elasticmq': 80,
};

/** Parses "host:port", "[::1]:port" or "host" (with a default port). */
function parseHostPort(hostPort: string, defaultPort: number): Endpoint {
  const s = hostPort.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : defaultPort };
  const i = s.lastIndexOf(':');
  if (i > 0 && /^\d+$/.test(s.slice(i + 1))) {
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  }
  return { host: s, port: defaultPort };
}

function endpointsFor(name: ServiceName, value: string): Endpoint[] {
  const def = DEFAULT_PORT[name];
  switch (name) {
    case 'redis-cluster':
      return value
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => parseHostPort(s, def));
    case 'mongodb':
    case 'redis': {
      // scheme://[user:pass@]host[:port][,host2[:port]...][/...]
      const rest = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
      const hosts = rest.split(/[/?]/, 1)[0] ?? '';
      const first = hosts.slice(hosts.lastIndexOf('@') + 1).split(',')[0] ?? '';
      return [parseHostPort(first, def)];
    }
    case 's3':
    case 's3-alt':
    case 'sqs':
    case 'sqs-alt':
    case 'sqs-elasticmq': {
      const url = new URL(value);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      return [{ host: url.hostname.replace(/^\[|\]$/g, ''), port }];
    }
  }
}

function tcpCheck({ host, port }: Endpoint, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Quick TCP reachability check of a local test service. Loads .services/env
 * first (without overriding already-set vars). Throws an Error naming the
 * service and telling how to start it if it is not reachable within timeoutMs.
 */
export async function requireService(name: ServiceName, timeoutMs = 2000): Promise<void> {
  loadServiceEnv();
  const envVar = ENV_VAR[name];
  if (envVar === undefined) {
    throw new Error(`requireService: unknown service "${String(name)}"`);
  }
  const value = process.env[envVar];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      `test service "${name}" is not configured: ${envVar} is not set and ${serviceEnvFile} ` +
        `does not provide it; ${START_HINT}`,
    );
  }

  let endpoints: Endpoint[];
  try {
    endpoints = endpointsFor(name, value);
  } catch {
    throw new Error(`test service "${name}": cannot parse ${envVar}=${value}; ${START_HINT}`);
  }
  if (endpoints.length === 0) {
    throw new Error(`test service "${name}": ${envVar} lists no endpoints; ${START_HINT}`);
  }

  const results = await Promise.allSettled(endpoints.map((ep) => tcpCheck(ep, timeoutMs)));
  const failed = results
    .map((r, i) => ({ r, ep: endpoints[i]! }))
    .filter((x): x is { r: PromiseRejectedResult; ep: Endpoint } => x.r.status === 'rejected');
  if (failed.length > 0) {
    const detail = failed
      .map(({ r, ep }) => `${ep.host}:${ep.port} (${r.reason instanceof Error ? r.reason.message : String(r.reason)})`)
      .join(', ');
    throw new Error(`test service "${name}" is not reachable at ${detail}; ${START_HINT}`);
  }
}
