/**
 * Keys are scoped by the authenticated caller (`ctx.principal`): two callers that send the same
 * `Idempotency-Key` with the same request each run once and each get their own replay — never
 * the other's stored answer (nensii21/devlink#773; Stripe scopes keys per account). The same
 * caller still runs once. Identity headers a client can send (ALB OIDC, App Service, IAP) are
 * ignored unless `trustIdentityHeaders` names that platform. Through the real adapters with
 * published-shape events (the Lambda adapter; `@azure/functions` `HttpRequest` and
 * `InvocationContext` in test mode; the Functions Framework's test server), on real Redis,
 * Redis Cluster and FerretDB.
 */
import { randomUUID } from 'node:crypto';
import { HttpRequest, HttpResponse, trigger, type HttpResponseInit } from '@azure/functions';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { handler, type Context, type HandlerOptions } from '@steadyfn/handler';
import { expectOptionRefused } from '../../../test/support/config-errors.js';
import { controllerParams } from '../../handler/test/fixtures/openwhisk/controller.js';
import { invocationContext } from '../../handler/test/support/azure.js';
import { closeServers, serve } from '../../handler/test/support/gcp-server.js';
import { lambdaContext, published, type Json } from '../../handler/test/support/published.js';
import { idempotency, memoryStore, namedScope, principalScope, scopeOf, storeKey, type IdempotencyOptions } from '../src/index.js';
import { BACKENDS, eventually, silentSink, useBackend } from './support.js';

afterAll(closeServers);

type LambdaHttp = { statusCode: number; headers: Record<string, string>; body: string };
type Answer = { status: number; replayed: boolean; body: Json };

/** Sets the caller of a published event: the field the provider writes for `file`. */
const CALLER: Record<string, (event: Json, id: string) => void> = {
  'apigw-rest-lambda-authorizer.json': (e, id) => void (e.requestContext.authorizer.principalId = id),
  'apigw-rest-cognito.json': (e, id) => void (e.requestContext.authorizer.claims.sub = id),
  'apigw-http-v2-jwt.json': (e, id) => void (e.requestContext.authorizer.jwt.claims.sub = id),
  'apigw-http-v2-iam.json': (e, id) => void (e.requestContext.authorizer.iam.userArn = `arn:aws:iam::210987654321:user/${id}`),
  'function-url-iam.json': (e, id) => void (e.requestContext.authorizer.iam.userArn = `arn:aws:sts::210987654321:assumed-role/orders/${id}`),
};

/** An event of `file` from caller `id` with idempotency key `key` (header names as the fixture spells them). */
function awsEvent(file: string, key: string, caller?: string, extraHeaders: Record<string, string> = {}): Json {
  const event = published('aws', file);
  const name = Object.keys(event.headers).find((h) => h.toLowerCase() === 'idempotency-key') ?? 'idempotency-key';
  event.headers[name] = key;
  if (event.multiValueHeaders) event.multiValueHeaders[name] = [key];
  Object.assign(event.headers, extraHeaders);
  if (event.multiValueHeaders) for (const [k, v] of Object.entries(extraHeaders)) event.multiValueHeaders[k] = [v];
  if (caller !== undefined) CALLER[file]!(event, caller);
  return event;
}

describe.each(BACKENDS)('idempotency keys scoped by caller, %s store', (name) => {
  const backend = useBackend(name);

  /** A function that answers with who it ran for (the data a replay to another caller would leak). */
  const make = (options: Partial<IdempotencyOptions> = {}, handlerOptions: Omit<HandlerOptions<undefined, []>, 'use'> = {}) => {
    const runs: Array<string | null> = [];
    const fnName = `scope-${randomUUID()}`;
    const main = handler(
      { name: fnName, logSink: silentSink(), ...handlerOptions, use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false, ...options })] },
      (_input, ctx) => {
        const who = ctx.principal?.id ?? null;
        runs.push(who);
        return { ranFor: who, run: runs.length };
      },
    );
    return { main, runs, fnName };
  };

  const viaLambda = async (main: ReturnType<typeof make>['main'], event: Json): Promise<Answer> => {
    const res = (await main.aws(event, lambdaContext(randomUUID()))) as LambdaHttp;
    return { status: res.statusCode, replayed: res.headers['Idempotency-Replayed'] === 'true', body: JSON.parse(res.body) as Json };
  };

  it.each(Object.keys(CALLER))('Lambda, %s: caller A and caller B with the same key and body both run; each retry replays its own answer; the same caller runs once', async (file) => {
    const { main, runs } = make();
    const key = randomUUID();
    const a1 = await viaLambda(main, awsEvent(file, key, 'alice'));
    const b1 = await viaLambda(main, awsEvent(file, key, 'bob'));
    expect([a1.status, b1.status]).toEqual([200, 200]);
    expect(b1.replayed).toBe(false);
    expect(b1.body.ranFor).not.toBe(a1.body.ranFor);
    expect(b1.body.ranFor).toContain('bob');
    const a2 = await viaLambda(main, awsEvent(file, key, 'alice'));
    const b2 = await viaLambda(main, awsEvent(file, key, 'bob'));
    expect(a2).toEqual({ ...a1, replayed: true });
    expect(b2).toEqual({ ...b1, replayed: true });
    expect(runs).toHaveLength(2);
  });

  it('anonymous callers (no authorizer) share the function\'s records as before, under the unscoped store key', async () => {
    const { main, runs, fnName } = make();
    const key = randomUUID();
    const first = await viaLambda(main, awsEvent('apigw-http-v2.json', key));
    const again = await viaLambda(main, awsEvent('apigw-http-v2.json', key));
    expect(first.body.ranFor).toBeNull();
    expect(again).toEqual({ ...first, replayed: true });
    expect(runs).toEqual([null]);
    // The key a record had before scoping existed: records written by an earlier deployment still match.
    expect(await backend.store.get(storeKey(scopeOf(fnName), { kind: 'header', value: key }))).toMatchObject({ status: 'completed' });
  });

  it("the README's helpers give an authenticated caller's store key: storeKey(scopeOf(fn), key, principalScope(principal) | namedScope(value))", async () => {
    const key = randomUUID();
    const { main, fnName } = make();
    const first = await viaLambda(main, awsEvent('apigw-http-v2-jwt.json', key, 'alice'));
    const principal = { id: 'alice', issuer: 'https://orders.eu.auth0.com/', source: 'apigw-jwt' } as const;
    expect(first.body.ranFor).toBe('alice');
    expect(await backend.store.get(storeKey(scopeOf(fnName), { kind: 'header', value: key }, principalScope(principal)))).toMatchObject({ status: 'completed' });
    expect(await backend.store.get(storeKey(scopeOf(fnName), { kind: 'header', value: key }))).toBeUndefined();
    expect(await backend.store.get(storeKey(scopeOf(fnName), { kind: 'header', value: key }, principalScope({ ...principal, id: 'bob' })))).toBeUndefined();

    const byTenant = make({ scope: () => 'acme' });
    await viaLambda(byTenant.main, awsEvent('apigw-http-v2-jwt.json', key, 'alice'));
    expect(await backend.store.get(storeKey(scopeOf(byTenant.fnName), { kind: 'header', value: key }, namedScope('acme')))).toMatchObject({ status: 'completed' });
  });

  it('forged identity headers on API Gateway events are ignored: the second "caller" gets the first one\'s replay, as any anonymous caller', async () => {
    const { main, runs } = make({}, { trustIdentityHeaders: ['alb-oidc', 'azure-app-service', 'gcp-iap'] });
    const key = randomUUID();
    const forged = (id: string) => ({ 'x-amzn-oidc-identity': id, 'x-ms-client-principal-id': id, 'x-goog-authenticated-user-id': id });
    const a = await viaLambda(main, awsEvent('apigw-http-v2.json', key, undefined, forged('alice')));
    const b = await viaLambda(main, awsEvent('apigw-http-v2.json', key, undefined, forged('bob')));
    expect(b).toEqual({ ...a, replayed: true });
    expect(runs).toEqual([null]);
  });

  it('ALB: x-amzn-oidc-identity is ignored without the opt-in (one record for both); with it, each caller has their own', async () => {
    const albEvent = (key: string, id: string) => {
      const event = published('aws', 'alb-oidc.json');
      event.headers['idempotency-key'] = key;
      event.headers['x-amzn-oidc-identity'] = id;
      return event;
    };
    const plain = make();
    const key = randomUUID();
    const a = await viaLambda(plain.main, albEvent(key, 'alice'));
    expect(await viaLambda(plain.main, albEvent(key, 'bob'))).toEqual({ ...a, replayed: true });
    expect(plain.runs).toEqual([null]);

    const trusted = make({}, { trustIdentityHeaders: ['alb-oidc'] });
    const a1 = await viaLambda(trusted.main, albEvent(key, 'alice'));
    const b1 = await viaLambda(trusted.main, albEvent(key, 'bob'));
    expect([a1.body.ranFor, b1.body.ranFor, b1.replayed]).toEqual(['alice', 'bob', false]);
    expect(await viaLambda(trusted.main, albEvent(key, 'bob'))).toEqual({ ...b1, replayed: true });
    expect(trusted.runs).toEqual(['alice', 'bob']);
  });

  it('Azure: x-ms-client-principal-id is ignored without the opt-in; with it (App Service authentication on), each caller has their own record', async () => {
    const call = async (main: ReturnType<typeof make>['main'], key: string, id: string): Promise<Answer> => {
      const f = published('azure', 'http-easy-auth.json');
      const req = new HttpRequest({ ...f.request, headers: { ...f.request.headers, 'idempotency-key': key, 'x-ms-client-principal-id': id } });
      const res = new HttpResponse((await main.azure(req, invocationContext(f.context, trigger.http({ methods: ['POST'], authLevel: 'anonymous' })))) as HttpResponseInit);
      return { status: res.status, replayed: res.headers.get('idempotency-replayed') === 'true', body: (await res.json()) as Json };
    };
    const key = randomUUID();
    const plain = make();
    const a = await call(plain.main, key, 'alice');
    expect(await call(plain.main, key, 'mallory')).toEqual({ ...a, replayed: true });
    expect(plain.runs).toEqual([null]);

    const trusted = make({}, { trustIdentityHeaders: ['azure-app-service'] });
    const a1 = await call(trusted.main, key, 'alice');
    const b1 = await call(trusted.main, key, 'bob');
    expect([a1.status, b1.status, a1.body.ranFor, b1.body.ranFor, b1.replayed]).toEqual([200, 200, 'alice', 'bob', false]);
    expect(await call(trusted.main, key, 'alice')).toEqual({ ...a1, replayed: true });
    expect(trusted.runs).toEqual(['alice', 'bob']);
  });

  it('Cloud Functions: IAP headers are ignored without the opt-in; with it, each caller has their own record', async () => {
    const post = async (url: string, key: string, id: string): Promise<Answer> => {
      const f = published('gcp', 'http-iap.json');
      const res = await fetch(`${url}${f.path}`, { method: f.method, headers: { ...f.headers, 'idempotency-key': key, 'x-goog-authenticated-user-id': `accounts.google.com:${id}` }, body: f.body });
      return { status: res.status, replayed: res.headers.get('idempotency-replayed') === 'true', body: (await res.json()) as Json };
    };
    const key = randomUUID();
    const plain = make();
    const plainUrl = await serve('http', plain.main.gcpHttp);
    const a = await post(plainUrl, key, 'alice');
    expect(await post(plainUrl, key, 'mallory')).toEqual({ ...a, replayed: true });
    expect(plain.runs).toEqual([null]);

    const trusted = make({}, { trustIdentityHeaders: ['gcp-iap'] });
    const url = await serve('http', trusted.main.gcpHttp);
    const a1 = await post(url, key, 'alice');
    const b1 = await post(url, key, 'bob');
    expect([a1.body.ranFor, b1.body.ranFor, b1.replayed]).toEqual(['accounts.google.com:alice', 'accounts.google.com:bob', false]);
    expect(await post(url, key, 'bob')).toEqual({ ...b1, replayed: true });
    expect(trusted.runs).toHaveLength(2);
  });

  it("scope: 'none' shares keys across callers (one run); a scope function scopes by what it names", async () => {
    const key = randomUUID();
    const shared = make({ scope: 'none' });
    const a = await viaLambda(shared.main, awsEvent('apigw-http-v2-jwt.json', key, 'alice'));
    expect(await viaLambda(shared.main, awsEvent('apigw-http-v2-jwt.json', key, 'bob'))).toEqual({ ...a, replayed: true });
    expect(shared.runs).toHaveLength(1);

    // By tenant (a claim of the token): two users of one tenant share a record, another tenant has its own.
    const tenantOf = (ctx: Context) => ((ctx.raw as { event: Json }).event.requestContext.authorizer.jwt.claims.tenant as string | undefined);
    const byTenant = make({ scope: tenantOf });
    const event = (caller: string, tenant: string) => {
      const e = awsEvent('apigw-http-v2-jwt.json', key, caller);
      e.requestContext.authorizer.jwt.claims.tenant = tenant;
      return e;
    };
    const t1 = await viaLambda(byTenant.main, event('alice', 'acme'));
    expect(await viaLambda(byTenant.main, event('bob', 'acme'))).toEqual({ ...t1, replayed: true });
    expect((await viaLambda(byTenant.main, event('carol', 'globex'))).replayed).toBe(false);
    expect(byTenant.runs).toHaveLength(2);
  });

  it('HTTP API Lambda authorizer answering numeric ids (context: { principalId: 42 }): two callers, a record each', async () => {
    const { main, runs } = make();
    const key = randomUUID();
    const event = (id: number) => {
      const e = awsEvent('apigw-http-v2-lambda-authorizer.json', key);
      e.requestContext.authorizer.lambda.principalId = id;
      return e;
    };
    const a = await viaLambda(main, event(41));
    const b = await viaLambda(main, event(42));
    expect([a.body.ranFor, b.body.ranFor, b.replayed]).toEqual(['41', '42', false]);
    expect(await viaLambda(main, event(42))).toEqual({ ...b, replayed: true });
    expect(runs).toEqual(['41', '42']);
  });

  it("OpenWhisk: another namespace invoking the shared action with a victim's __ow_user does not get the victim's record", async () => {
    const { main, runs } = make();
    const key = randomUUID();
    const params = (user: string) => controllerParams({ method: 'POST', headers: { 'idempotency-key': key }, contentType: 'application/json', body: '{"orderId":"o-1"}' }, false, user);
    const call = async (activationNamespace: string, user: string): Promise<{ status: number; replayed: boolean; body: Json }> => {
      vi.stubEnv('__OW_ACTION_NAME', '/acme_prod/shared-orders/create');
      vi.stubEnv('__OW_NAMESPACE', activationNamespace);
      try {
        const res = (await main.openwhisk(params(user))) as { statusCode: number; headers: Record<string, string>; body: unknown };
        const body = typeof res.body === 'string' ? (JSON.parse(Buffer.from(res.body, 'base64').toString('utf8')) as Json) : (res.body as Json);
        return { status: res.statusCode, replayed: res.headers['Idempotency-Replayed'] === 'true', body };
      } finally {
        vi.unstubAllEnvs();
      }
    };
    // alice_ns calls the web action (it runs as its owner, acme_prod, with the controller's __ow_user).
    const alice = await call('acme_prod', 'alice_ns');
    expect(alice.body.ranFor).toBe('alice_ns');
    // mallory_dev invokes the shared action directly, passing alice's __ow_user and key.
    const mallory = await call('mallory_dev', 'alice_ns');
    expect(mallory.replayed).toBe(false);
    expect(mallory.body.ranFor).toBeNull();
    expect(await call('acme_prod', 'alice_ns')).toEqual({ ...alice, replayed: true });
    expect(runs).toEqual(['alice_ns', null]);
  });

  it('issuer and id cannot be shifted into each other: (iss "a|b", sub "c") and (iss "a", sub "b|c") — and the like with ":", "\\0", quotes — are two callers', async () => {
    const { main, runs } = make();
    const key = randomUUID();
    const event = (iss: string, sub: string) => {
      const e = awsEvent('apigw-rest-cognito.json', key, sub);
      e.requestContext.authorizer.claims.iss = iss;
      return e;
    };
    const pairs: Array<[string, string]> = [
      ['a|b', 'c'], ['a', 'b|c'],
      ['a:b', 'c'], ['a', 'b:c'],
      ['a\0b', 'c'], ['a', 'b\0c'],
      ['a","b', 'c'], ['a', 'b","c'],
    ];
    for (const [iss, sub] of pairs) expect((await viaLambda(main, event(iss, sub))).replayed, `${iss} / ${sub}`).toBe(false);
    expect(runs).toHaveLength(pairs.length);
  });

  it('no caller identity reaches the logs or the error responses (a failure, a 422 reuse, a 409 in progress)', async () => {
    const caller = `who-${randomUUID()}`;
    const lines: string[] = [];
    let release: () => void = () => undefined;
    let held = 0;
    const main = handler(
      { name: `scope-log-${randomUUID()}`, logSink: (line: string) => void lines.push(line), use: [idempotency({ store: backend.store, ttlMs: 3_600_000, localCache: false })] },
      async (input: unknown) => {
        if ((input as { fail?: boolean }).fail) throw new Error('boom');
        held++;
        await new Promise<void>((resolve) => (release = resolve));
        return { ok: true };
      },
    );
    const event = (key: string, body: Json) => {
      const e = awsEvent('apigw-rest-lambda-authorizer.json', key, caller);
      e.body = JSON.stringify(body);
      return e;
    };
    const answers: LambdaHttp[] = [];
    answers.push((await main.aws(event(randomUUID(), { fail: true }), lambdaContext(randomUUID()))) as LambdaHttp);
    const key = randomUUID();
    const first = main.aws(event(key, { n: 1 }), lambdaContext(randomUUID())) as Promise<LambdaHttp>;
    // It holds the key (a fixed 100 ms could end before its claim on a loaded machine: the duplicate then ran and hung).
    await eventually(() => held === 1);
    answers.push((await main.aws(event(key, { n: 1 }), lambdaContext(randomUUID()))) as LambdaHttp);
    answers.push((await main.aws(event(key, { n: 2 }), lambdaContext(randomUUID()))) as LambdaHttp);
    release();
    answers.push(await first);
    expect(answers.map((a) => a.statusCode)).toEqual([500, 409, 422, 200]);
    expect(lines.length).toBeGreaterThan(0);
    for (const text of [...lines, ...answers.map((a) => JSON.stringify(a))]) expect(text).not.toContain(caller);
  });

  it('no caller identity reaches the store: keys hold hashes only', async () => {
    const { main } = make();
    const caller = `who-${randomUUID()}`;
    await viaLambda(main, awsEvent('apigw-rest-lambda-authorizer.json', randomUUID(), caller));
    let keys: string[];
    if (backend.collection) keys = (await backend.collection.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
    else {
      const redis = backend.redis!;
      const nodes: Array<Redis> = 'nodes' in redis && typeof (redis as Cluster).nodes === 'function' && name === 'cluster' ? (redis as Cluster).nodes('master') : [redis as Redis];
      keys = (await Promise.all(nodes.map((n) => n.keys(`${backend.prefix}*`)))).flat();
    }
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).not.toContain(caller);
  });
});

describe('the scope option', () => {
  it('is checked up front', () => {
    expectOptionRefused(() => idempotency({ store: memoryStore(), ttlMs: 1000, scope: 'caller' as never }), 'idempotency', 'scope', ['"principal"']);
    expectOptionRefused(() => idempotency({ store: memoryStore(), ttlMs: 1000, scope: 42 as never }), 'idempotency', 'scope');
  });

  it('a scope function that returns a non-string fails the request with a terminal IDEMPOTENCY_SCOPE_INVALID 500, before the function runs', async () => {
    let ran = false;
    const main = handler({ logSink: silentSink(), use: [idempotency({ store: memoryStore(), ttlMs: 1000, scope: (() => 7) as never })] }, () => {
      ran = true;
      return {};
    });
    const res = (await main.aws(awsEvent('apigw-http-v2-jwt.json', randomUUID(), 'alice'), lambdaContext(randomUUID()))) as LambdaHttp;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'IDEMPOTENCY_SCOPE_INVALID' });
    expect(ran).toBe(false);
  });
});
