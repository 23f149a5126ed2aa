/**
 * What a trigger schema of `@steadyfn/handler/schemas` costs per invocation: an S3 event
 * through the Lambda adapter with `input: storageObject()`, against the same function without
 * a schema and with a plain zod object of the same shape (no trigger check), measured in the
 * same run. Printed as ratios of the p50 latency.
 */
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { z } from 'zod';
import { handler } from '../src/index.js';
import { storageObject } from '../src/schemas.js';

const event = JSON.parse(readFileSync(new URL('../test/fixtures/aws/s3-put.json', import.meta.url), 'utf8')) as unknown;
const lambdaContext = { awsRequestId: 'req', functionName: 'bench', getRemainingTimeInMillis: () => 60_000 };
const silent = { logSink: () => undefined };
const fn = (upload: { key: string }) => upload.key;

const plainShape = z.object({
  op: z.enum(['created', 'deleted', 'updated']),
  bucket: z.string().min(1),
  key: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  etag: z.string().optional(),
  contentType: z.string().optional(),
  versionId: z.string().optional(),
  time: z.string().optional(),
});

const none = handler(silent, (input) => fn(input as { key: string }));
const plain = handler({ input: plainShape, ...silent }, fn);
const typed = handler({ input: storageObject(), ...silent }, fn);

type Name = 'S3 event, no schema' | 'S3 event, plain zod object' | 'S3 event, storageObject()';

test('trigger schema cost per invocation', async ({ bench }) => {
  const results = await bench.compare(
    bench('S3 event, no schema', async () => {
      await none.aws(event, lambdaContext);
    }),
    bench('S3 event, plain zod object', async () => {
      await plain.aws(event, lambdaContext);
    }),
    bench('S3 event, storageObject()', async () => {
      await typed.aws(event, lambdaContext);
    }),
  );
  const p50 = (name: Name) => ((results.get(name) as unknown as { latency: { p50?: number } }).latency.p50 ?? Number.NaN) * 1000;
  const base = p50('S3 event, no schema');
  const zodOnly = p50('S3 event, plain zod object');
  const schema = p50('S3 event, storageObject()');
  console.log(`[bench] S3 event, no schema: p50 ${base.toFixed(2)} µs`);
  console.log(`[bench] plain zod object: ${(zodOnly / base).toFixed(2)}× no schema (+${(zodOnly - base).toFixed(2)} µs)`);
  console.log(`[bench] storageObject(): ${(schema / base).toFixed(2)}× no schema, ${(schema / zodOnly).toFixed(2)}× the plain zod object (+${(schema - zodOnly).toFixed(2)} µs for the trigger check)`);
});
