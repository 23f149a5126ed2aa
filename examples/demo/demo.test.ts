// `npm run demo` must keep working: the orders scenario from examples/<provider>/ on all four
// providers, against the local services, with an account of each step and its numbers. The
// numbers are read back from what it printed and checked against what the scenario implies.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { requireService } from '../../test/services/env.js';

const PROVIDERS = ['AWS Lambda', 'Google Cloud Functions', 'Azure Functions', 'Apache OpenWhisk'];

it('runs the orders scenario on all four providers and gives an account of each, with the same outcome', async () => {
  await Promise.all([requireService('redis'), requireService('sqs'), requireService('s3')]);
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['run.mjs'], { cwd, timeout: 150_000 });
  const blocks = stdout.split('\n\n').filter((b) => PROVIDERS.some((p) => b.startsWith(p)));
  expect(blocks.map((b) => b.split(' (')[0]), stdout).toEqual(PROVIDERS);
  for (const block of blocks) {
    const row = (label: string) => block.split('\n').find((l) => l.trimStart().startsWith(label)) ?? '';
    expect(row('create order'), block).toMatch(/^ {2}create order +201 o-\S+, total 25\.00; order \+ OrderPlaced in one write, 1 event relayed; \d+ store calls/);
    expect(row('retry, same key'), block).toMatch(/201 replayed \(Idempotency-Replayed: true\), the same order, 1 order stored/);
    expect(row('on the queue'), block).toContain('OrderPlaced, then delivered 2 more times');
    expect(row('inbox, workflow'), block).toMatch(/5 deliveries handled; the order went placed → validated → paid → dispatched \(4 of 4 steps stamped\), 4 events in its history .*, 3 events relayed/);
    expect(row('outbox sweep'), block).toMatch(/^ {2}outbox sweep +0 events left behind/);
    expect(row('snapshot backup'), block).toMatch(/1 order → [1-9]\d* objects written, [\d,]+ bytes backed up; \d+ store calls \(Redis [1-9]\d*, SQS 0, S3 [1-9]\d*\)/);
    expect(row('restore drill'), block).toMatch(/passed: 1 of 1 restored and checked against the manifest in [\d,]+ ms, scratch removed/);
    const all = /(\d+) store calls \(Redis (\d+), SQS (\d+), S3 (\d+)\), 4 events relayed, (\d+) objects \(([\d,]+) bytes\) backed up, drill ([\d,]+) ms/.exec(row('in all'));
    expect(all, block).not.toBeNull();
    const [calls = 0, redis = 0, sqs = 0, s3 = 0, , bytes = 0] = all!.slice(1).map((x) => Number(x.replace(/,/g, '')));
    expect(calls).toBe(redis + sqs + s3);
    expect(redis).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(100);
  }
  expect(stdout).toContain('All 4 providers ran the same application to the same result');
}, 180_000);
