/**
 * docker-compose.yml, checked without Docker (no engine runs here): parsed with a YAML
 * library, its services, health checks and port bindings checked, and the env file its `env`
 * service writes compared with what the tests read (test/services/env.ts, test/setup-env.ts)
 * and with what test/services/services.sh writes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VAR } from './services/env.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Service {
  image?: string;
  command?: string | string[];
  entrypoint?: string | string[];
  ports?: Array<string | { host_ip?: string; published?: string | number; target?: number }>;
  volumes?: string[];
  healthcheck?: { test: string | string[] };
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  privileged?: boolean;
}

const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const text = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join(' ') : (value ?? ''));

/** Host ports a service publishes, each with the address it is bound to. */
function published(service: Service): Array<{ ip: string; port: number }> {
  return (service.ports ?? []).flatMap((p) => {
    if (typeof p !== 'string') return [{ ip: p.host_ip ?? '0.0.0.0', port: Number(p.published) }];
    const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?(?:\/\w+)?$/.exec(p);
    if (!m) throw new Error(`unrecognised port mapping ${p}`);
    const [from, to] = [Number(m[2]), Number(m[3] ?? m[2])];
    return Array.from({ length: to - from + 1 }, (_, i) => ({ ip: m[1] ?? '0.0.0.0', port: from + i }));
  });
}

/** KEY=VALUE lines of the env file the `env` service writes (its heredoc), read as test/setup-env.ts reads them. */
function writtenEnv(): Record<string, string> {
  const script = text(services.env?.command);
  const body = /<<'EOF'\n([\s\S]*?)\nEOF/.exec(script)?.[1];
  if (body === undefined) throw new Error('the env service writes no heredoc');
  const out: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) throw new Error(`not a KEY=VALUE line: ${line}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The variables services.sh's write_env writes, and its default ports. */
const servicesSh = readFileSync(`${root}test/services/services.sh`, 'utf8');
const servicesShVars = [...(/write_env\(\) \{[\s\S]*?<<EOF\n([\s\S]*?)\nEOF/.exec(servicesSh)?.[1] ?? '').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
const defaultPort = (variable: string): number => Number(new RegExp(`\\$\\{${variable}:-(\\d+)\\}`).exec(servicesSh)?.[1]);

describe('docker-compose.yml', () => {
  it('runs Redis, a Redis Cluster, FerretDB, a MongoDB replica set, moto (S3 + SQS), gofakes3, fauxqs, ElasticMQ and the env writer', () => {
    expect(Object.keys(services).sort()).toEqual(['elasticmq', 'env', 'fauxqs', 'ferretdb', 'gofakes3', 'mongodb', 'moto', 'redis', 'redis-cluster']);
  });

  it('binds every published port to 127.0.0.1 only, and shares no host network', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const { ip, port } of published(service)) expect(`${name} ${ip}:${port}`).toBe(`${name} 127.0.0.1:${port}`);
      expect(service.network_mode, name).toBeUndefined();
      expect(service.privileged, name).toBeUndefined();
    }
  });

  it('publishes the ports services.sh uses, so either can serve the suite', () => {
    const ports = (name: string) => published(services[name]!).map((p) => p.port);
    expect(ports('redis')).toEqual([defaultPort('STEADYFN_REDIS_PORT')]);
    const cluster = defaultPort('STEADYFN_REDIS_CLUSTER_PORT');
    expect(ports('redis-cluster')).toEqual([cluster, cluster + 1, cluster + 2]);
    expect(ports('ferretdb')).toEqual([defaultPort('STEADYFN_FERRETDB_PORT')]);
    expect(ports('moto')).toEqual([defaultPort('STEADYFN_MOTO_PORT')]);
    expect(ports('gofakes3')).toEqual([defaultPort('STEADYFN_GOFAKES3_PORT')]);
    expect(ports('fauxqs')).toEqual([defaultPort('STEADYFN_FAUXQS_PORT')]);
    expect(ports('elasticmq')).toEqual([defaultPort('STEADYFN_ELASTICMQ_PORT')]);
  });

  it('runs MongoDB as a replica set that its health check initiates, with a member name the host can reach', () => {
    const mongodb = services.mongodb!;
    expect(mongodb.image).toMatch(/^mongo:\d/);
    expect(text(mongodb.command)).toMatch(/--replSet rs0\b/);
    expect(text(mongodb.command)).toMatch(/--port 27018\b/);
    expect(text(mongodb.healthcheck?.test)).toMatch(/rs\.initiate\(\{ _id: 'rs0', members: \[\{ _id: 0, host: '127\.0\.0\.1:27018' \}\] \}\)/);
    expect(published(mongodb).map((p) => p.port)).toEqual([27018]);
  });

  it('creates the cluster from nodes that announce 127.0.0.1 on the ports the host sees', () => {
    const script = text(services['redis-cluster']!.command);
    expect(script).toMatch(/--cluster-announce-ip 127\.0\.0\.1/);
    expect(script).toMatch(/--cluster create 127\.0\.0\.1:17001 127\.0\.0\.1:17002 127\.0\.0\.1:17003 --cluster-replicas 0/);
  });

  it('builds FerretDB and gofakes3 from the Go modules services.sh builds, and pins the moto and fauxqs versions services.sh pins', () => {
    expect(services.ferretdb!.volumes).toContain('./test/services/ferretdb:/src:ro');
    expect(text(services.ferretdb!.command)).toContain(`-tags ${/FERRETDB_TAGS="([^"]+)"/.exec(servicesSh)?.[1]}`);
    expect(services.gofakes3!.volumes).toContain('./test/services/gofakes3:/src:ro');
    expect(text(services.moto!.command)).toContain(/MOTO_REQUIREMENT="([^"]+)"/.exec(servicesSh)![1]!);
    expect(text(services.fauxqs!.command)).toContain(`fauxqs@${/FAUXQS_VERSION="?([\d.]+)"?/.exec(servicesSh)?.[1]}`);
  });

  it('runs the ElasticMQ version services.sh installs, with its configuration file, at the port its queue URLs name', () => {
    const pom = readFileSync(`${root}test/services/elasticmq/pom.xml`, 'utf8');
    const version = /<artifactId>elasticmq-server_2\.13<\/artifactId>\s*<version>([\d.]+)<\/version>/.exec(pom)?.[1];
    expect(services.elasticmq!.image).toBe(`softwaremill/elasticmq-native:${version}`);
    expect(services.elasticmq!.volumes).toContain('./test/services/elasticmq/elasticmq.conf:/opt/elasticmq.conf:ro');
    const conf = readFileSync(`${root}test/services/elasticmq/elasticmq.conf`, 'utf8');
    const port = defaultPort('STEADYFN_ELASTICMQ_PORT');
    expect(conf).toMatch(new RegExp(`bind-port = ${port}\\b`));
    expect(conf).toMatch(new RegExp(`node-address \\{[^}]*host = "127\\.0\\.0\\.1"[^}]*port = ${port}\\b`));
  });

  it('gives every service a health check, and writes the env file only once all are healthy', () => {
    const others = Object.keys(services).filter((n) => n !== 'env');
    for (const name of Object.keys(services)) expect(services[name]!.healthcheck?.test, `${name} has a health check`).toBeDefined();
    expect(services.env!.depends_on).toEqual(Object.fromEntries(others.map((n) => [n, { condition: 'service_healthy' }])));
    expect(services.env!.volumes).toEqual(['./.services:/out']);
    expect(text(services.env!.command)).toMatch(/mv \/out\/env\.tmp \/out\/env/);
  });

  describe('the env file it writes', () => {
    const env = writtenEnv();

    it('sets every variable test/services/env.ts reads, MONGODB_REPLSET_URI, and everything services.sh writes', () => {
      expect(servicesShVars.length).toBeGreaterThan(5);
      expect(Object.keys(env).sort()).toEqual([...new Set([...Object.values(ENV_VAR), ...servicesShVars, 'MONGODB_REPLSET_URI'])].sort());
    });

    it('points each endpoint at a port its service publishes on 127.0.0.1', () => {
      const serves = (name: string, host: string, port: number) => {
        expect(host, `${name} is on loopback`).toBe('127.0.0.1');
        expect(published(services[name]!).map((p) => p.port), `${name} publishes ${port}`).toContain(port);
      };
      const url = (v: string) => new URL(v);
      serves('redis', url(env.REDIS_URL!).hostname, Number(url(env.REDIS_URL!).port));
      for (const node of env.REDIS_CLUSTER_NODES!.split(',')) serves('redis-cluster', node.split(':')[0]!, Number(node.split(':')[1]));
      serves('ferretdb', url(env.MONGODB_URI!).hostname, Number(url(env.MONGODB_URI!).port));
      const replset = url(env.MONGODB_REPLSET_URI!);
      serves('mongodb', replset.hostname, Number(replset.port));
      expect(replset.searchParams.get('replicaSet')).toBe('rs0');
      for (const v of ['S3_ENDPOINT', 'SQS_ENDPOINT']) serves('moto', url(env[v]!).hostname, Number(url(env[v]!).port));
      serves('gofakes3', url(env.S3_ALT_ENDPOINT!).hostname, Number(url(env.S3_ALT_ENDPOINT!).port));
      serves('fauxqs', url(env.SQS_ALT_ENDPOINT!).hostname, Number(url(env.SQS_ALT_ENDPOINT!).port));
      serves('elasticmq', url(env.SQS_ELASTICMQ_ENDPOINT!).hostname, Number(url(env.SQS_ELASTICMQ_ENDPOINT!).port));
    });
  });
});
