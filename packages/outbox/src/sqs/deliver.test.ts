/**
 * Throttling, server faults and per-entry server errors — answers no emulator gives on demand —
 * injected by a proxy in front of each real SQS server (test/fault-proxy.ts). Everything the
 * proxy forwards is sent to and answered by the real server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultRule } from '../../test/fault-proxy.js';
import { createQueue, deleteQueue, receiveAll, sqsClient, sqsServers } from '../../test/sqs-servers.js';
import { sqsSender } from './sender.js';

const fast = { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 5 };

describe.each(sqsServers({ elasticmq: true }))('retries through a fault proxy in front of $name', ({ name, endpoint }) => {
  const direct = sqsClient(endpoint);
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
    direct.destroy();
  });
  const setup = async (rule: FaultRule, fifo = false) => {
    const queueUrl = await createQueue(direct, `retry-${name}`, { maxBytes: 262_144, fifo });
    const proxy = await startFaultProxy(endpoint, rule);
    const client = sqsClient(proxy.endpoint);
    cleanup.push(async () => {
      client.destroy();
      await proxy.close();
      await deleteQueue(direct, queueUrl);
    });
    return { queueUrl, proxy, client };
  };
  const messages = (n: number, groupKey?: string) => Array.from({ length: n }, (_, i) => ({ id: `m-${i}`, body: `body-${i}`, ...(groupKey ? { groupKey } : {}) }));

  it('retries only the entries SQS failed as server faults, and delivers each once', async () => {
    const { queueUrl, proxy, client } = await setup((call) => (call === 1 ? { failEntries: ['m1', 'm4'], code: 'InternalError' } : undefined));
    const report = await sqsSender({ client, queueUrl, retry: fast }).send(messages(6));
    expect(report.failed).toEqual([]);
    expect(report.sent).toHaveLength(6);
    expect(report.retries).toBe(1);
    expect(report.batches).toBe(2);
    expect(proxy.calls).toBe(2);
    const bodies = (await receiveAll(direct, queueUrl, 6)).map((m) => m.Body).sort();
    expect(bodies).toEqual(messages(6).map((m) => m.body).sort());
  });

  it('sends a retried message as the entry built for its first call (built once, not per try)', async () => {
    const { queueUrl, client } = await setup((call) => (call === 1 ? { failEntries: ['m1'], code: 'InternalError' } : call === 2 ? { status: 500, type: 'InternalError' } : undefined));
    // The calls' entries as the sender handed them to the client (the client still sends them to the server).
    const calls: Array<ReadonlyArray<object>> = [];
    const send = client.send.bind(client);
    const recording = Object.create(client) as typeof client;
    recording.send = ((command: { input: { Entries?: object[] } }, ...rest: unknown[]) => {
      if (command.input.Entries) calls.push([...command.input.Entries]);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.send;
    const report = await sqsSender({ client: recording, queueUrl, retry: fast }).send(messages(3));
    expect(report.sent.map((s) => s.id).sort()).toEqual(['m-0', 'm-1', 'm-2']);
    // Call 1: all three, m1 failed; call 2 (a 5xx) and call 3 carry m1 again: the same object each time.
    expect(calls.map((c) => c.length)).toEqual([3, 1, 1]);
    expect(calls[1]![0]).toBe(calls[0]![1]);
    expect(calls[2]![0]).toBe(calls[0]![1]);
    expect(calls[2]![0]).toMatchObject({ Id: 'm1', MessageBody: 'body-1' });
  });

  it('retries a throttled or 5xx call as a whole', async () => {
    const { queueUrl, client } = await setup((call) => (call === 1 ? { status: 400, type: 'ThrottlingException' } : call === 2 ? { status: 500, type: 'InternalError' } : undefined));
    const report = await sqsSender({ client, queueUrl, retry: fast }).send(messages(3));
    expect(report.failed).toEqual([]);
    expect(report.retries).toBe(2);
    expect(report.batches).toBe(3);
  });

  it('reports entries still failing after the last retry as retryable, not sender faults, and blocks their groups', async () => {
    const { queueUrl, client } = await setup((_call, entries) => ({ failEntries: entries.filter((e) => e.MessageBody === 'body-0').map((e) => e.Id), code: 'ServiceUnavailable' }), true);
    const report = await sqsSender({ client, queueUrl, retry: { ...fast, retries: 2 }, onePerGroupPerBatch: true }).send([
      { id: 'm-0', groupKey: 'A', body: 'body-0' },
      { id: 'm-1', groupKey: 'A', body: 'body-1' },
      { id: 'm-2', groupKey: 'B', body: 'body-2' },
    ]);
    expect(report.sent.map((s) => s.id)).toEqual(['m-2']);
    expect(report.failed).toEqual([
      expect.objectContaining({ id: 'm-0', code: 'ServiceUnavailable', senderFault: false, retryable: true, judged: true }),
      expect.objectContaining({ id: 'm-1', code: 'OUTBOX_SQS_GROUP_BLOCKED', senderFault: false, retryable: true, judged: false }),
    ]);
    expect(report.retries).toBe(2);
  });

  it('fails every entry, not as a sender fault, when the whole call is refused for the queue (access denied)', async () => {
    const { queueUrl, client } = await setup(() => ({ status: 403, type: 'AccessDenied' }));
    const report = await sqsSender({ client, queueUrl, retry: fast }).send(messages(2));
    expect(report.failed.map((f) => [f.code, f.senderFault, f.retryable, f.judged])).toEqual([
      ['AccessDenied', false, false, false],
      ['AccessDenied', false, false, false],
    ]);
    expect(report.retries).toBe(0);
  });

  it('reports unsent entries as aborted when the signal aborts during the backoff', async () => {
    const { queueUrl, client } = await setup(() => ({ status: 500, type: 'InternalError' }));
    const controller = new AbortController();
    const sending = sqsSender({ client, queueUrl, maxMessageBytes: 262_144, retry: { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 200 } }).send(messages(2), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const report = await sending;
    expect(report.failed.map((f) => [f.id, f.code, f.retryable, f.judged])).toEqual([
      ['m-0', 'OUTBOX_SQS_ABORTED', true, false],
      ['m-1', 'OUTBOX_SQS_ABORTED', true, false],
    ]);
  });

  it('reports a whole call still failing after the retries (throttling, 5xx) as unjudged', async () => {
    const { queueUrl, client } = await setup(() => ({ status: 503, type: 'ServiceUnavailable' }));
    const report = await sqsSender({ client, queueUrl, retry: fast }).send(messages(2));
    expect(report.failed.map((f) => [f.code, f.retryable, f.judged])).toEqual([
      ['ServiceUnavailable', true, false],
      ['ServiceUnavailable', true, false],
    ]);
  });
});
