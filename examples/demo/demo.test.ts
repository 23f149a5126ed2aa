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
    const calls = String.raw`Redis \d+, SQS \d+, S3 \d+ +[\d,]+ ms$`;
    expect(row('create order'), block).toMatch(new RegExp(String.raw`^ {2}create order +201 o-\S+ \(25\.00\): order \+ OrderPlaced in one write, 1 relayed +${calls}`));
    expect(row('retry, same key'), block).toMatch(new RegExp(String.raw`201 replayed, same order, 1 stored.* +${calls}`));
    expect(row('relayed'), block).toContain('OrderPlaced on the queue; put back 2 more times');
    expect(row('inbox, workflow'), block).toMatch(new RegExp(String.raw`5 deliveries → dispatched \(4/4 steps, 4 events, none twice\), 3 relayed +${calls}`));
    expect(row('outbox sweep'), block).toMatch(new RegExp(String.raw`^ {2}outbox sweep +0 events left behind +${calls}`));
    expect(row('snapshot backup'), block).toMatch(/1 order → [1-9]\d* objects, [\d,]+ bytes +Redis [1-9]\d*, SQS 0, S3 [1-9]\d* +[\d,]+ ms$/);
    expect(row('restore drill'), block).toMatch(new RegExp(String.raw`passed: 1/1 restored \+ checked in [\d,]+ ms, scratch removed +${calls}`));
    const all = /(\d+) store calls \(Redis (\d+), SQS (\d+), S3 (\d+)\), 4 events relayed, (\d+) objects \(([\d,]+) bytes\) backed up, drill ([\d,]+) ms/.exec(row('in all'));
    expect(all, block).not.toBeNull();
    const [storeCalls = 0, redis = 0, sqs = 0, s3 = 0, , bytes = 0] = all!.slice(1).map((x) => Number(x.replace(/,/g, '')));
    expect(storeCalls).toBe(redis + sqs + s3);
    expect(redis).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(100);
  }
  expect(stdout).toContain('All 4 providers ran the same application to the same result');
}, 180_000);
