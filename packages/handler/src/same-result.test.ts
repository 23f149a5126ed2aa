/**
 * One wrapped function, the same business result whichever provider and route delivered the
 * event: the same object upload (S3 direct, via SNS, via SQS, via EventBridge; Azure Blob
 * trigger and Event Grid; Cloud Storage through the Functions Framework), and the same row
 * change (DynamoDB Streams, Cosmos DB, Firestore, CouchDB).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvocationContext, trigger, type FunctionTrigger } from '@azure/functions';
import { closeServers, serve } from '../test/support/gcp-server.js';
import request from 'supertest';
import { z } from 'zod';
import { handler } from './index.js';

type Json = Record<string, any>;
const fixture = (dir: string, name: string): Json => JSON.parse(readFileSync(new URL(`../test/fixtures/${dir}/${name}`, import.meta.url), 'utf8')) as Json;
const lambdaContext = { awsRequestId: 'req-1', functionName: 'thumbnails', getRemainingTimeInMillis: () => 30_000 };
afterAll(closeServers);

function azureContext(base: Json, options: FunctionTrigger): InvocationContext {
  return new InvocationContext({ ...base, options: { trigger: { ...options, direction: 'in' } as FunctionTrigger }, logHandler: () => undefined });
}

describe('the same upload', () => {
  it('gives the same thumbnail job from S3 (direct, SNS, SQS, EventBridge), Azure Blob, Event Grid and Cloud Storage', async () => {
    const jobs: unknown[] = [];
    // The business logic: which thumbnail to make for which uploaded image.
    const Upload = z.object({ op: z.literal('created'), bucket: z.string(), key: z.string(), size: z.number() });
    const thumbnails = handler({ input: Upload }, (upload) => {
      jobs.push({ source: `${upload.bucket}/${upload.key}`, target: `${upload.bucket}/thumbs/${upload.key.replace(/\.jpg$/, '.webp')}`, bytes: upload.size });
    });
    await thumbnails.aws(fixture('aws', 's3-put.json'), lambdaContext);
    await thumbnails.aws(fixture('aws', 'sns-s3.json'), lambdaContext);
    await thumbnails.aws(fixture('aws', 'sqs-s3.json'), lambdaContext);
    await thumbnails.aws(fixture('aws', 'eventbridge-s3-object-created.json'), lambdaContext);
    const blob = fixture('azure', 'blob-trigger.json');
    await thumbnails(Buffer.from(blob.content, 'base64'), azureContext(blob.context, trigger.storageBlob({ path: 'photos/{name}', connection: 'AzureWebJobsStorage' })));
    const grid = fixture('azure', 'event-grid-blob-created.json');
    await thumbnails(grid.event, azureContext(grid.context, trigger.eventGrid({})));
    const url = await serve('cloudEvent', thumbnails);
    const gcs = fixture('gcp', 'storage-photo-finalized.json');
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(gcs))).status).toBe(204);
    expect(jobs).toHaveLength(7);
    for (const job of jobs) expect(job).toEqual({ source: 'photos/2025/summer photo (1).jpg', target: 'photos/thumbs/2025/summer photo (1).webp', bytes: 48213 });
  });
});

describe('the same row change', () => {
  it('gives the same search-index update from DynamoDB Streams, Cosmos DB, Firestore and CouchDB', async () => {
    const updates: unknown[] = [];
    const Order = z.object({ orderId: z.string(), status: z.string(), total: z.number() });
    const indexer = handler({ input: Order }, (order, ctx) => {
      if (ctx.trigger.kind !== 'change' || ctx.trigger.op === 'delete') return;
      updates.push({ id: order.orderId, doc: { status: order.status, total: order.total } });
    });
    // DynamoDB: the MODIFY record of the batch (status placed → shipped).
    const stream = fixture('aws', 'dynamodb-streams-batch.json');
    stream.Records = [stream.Records[1]];
    expect(await indexer.aws(stream, lambdaContext)).toEqual({ batchItemFailures: [] });
    const cosmos = fixture('azure', 'cosmosdb-batch.json');
    await indexer([cosmos.documents[0]], azureContext(cosmos.context, trigger.cosmosDB({ connection: 'c', databaseName: 'shop', containerName: 'orders' })));
    const url = await serve('cloudEvent', indexer);
    const firestore = fixture('gcp', 'firestore-document-written.json');
    expect((await request(url).post('/').set('content-type', 'application/cloudevents+json').send(JSON.stringify(firestore))).status).toBe(204);
    await indexer.openwhisk(fixture('openwhisk', 'cloudant-change.json'));
    expect(updates).toHaveLength(4);
    for (const update of updates) expect(update).toEqual({ id: 'o-42', doc: { status: 'shipped', total: 19.99 } });
  });
});
