/**
 * Review finding: a delete the database made itself because the item's time to live ran out
 * could not be told from a client's delete. DynamoDB names its TTL process in the `REMOVE`
 * record's `userIdentity` (`{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`,
 * DynamoDB developer guide "DynamoDB Streams and Time to Live"); Cosmos DB's
 * all-versions-and-deletes feed sets `metadata.timeToLiveExpired` (`@azure/functions`
 * `CosmosDBv4ChangeFeedMetadata`). Neither reached `ctx.trigger`, so a function archiving
 * expired sessions but auditing user deletes had to dig through `ctx.raw` per batch index.
 * Now `ctx.trigger.expired` is `true` on those deletes and left out everywhere else.
 *
 * Replayed: `fixtures/aws/published/dynamodb-stream.json` (a TTL `REMOVE`, see its SOURCES.md);
 * aws/aws-lambda-go `events/testdata/dynamodb-event.json` and aws/aws-lambda-java-libs
 * `ddb/dynamo_event.json` as published (`fixtures/samples/SOURCES.md`), whose `INSERT` carries
 * the service identity too — only a `REMOVE` is an expiry.
 */
import { describe, expect, it } from 'vitest';
import { trigger } from '@azure/functions';
import { handler } from '../src/index.js';
import { handler as azureHandler } from '../src/azure.js';
import { invocationContext } from './support/azure.js';
import { published, recorder, runOnAwsEntries, sample } from './support/published.js';

const expiredOf = (run: { seen: Array<{ ctx: { trigger: object } }> }) => run.seen.map((s) => ('expired' in s.ctx.trigger ? s.ctx.trigger.expired : undefined));

describe('TTL deletions are marked expired', () => {
  it('DynamoDB Streams: the REMOVE by dynamodb.amazonaws.com is expired; client writes and deletes are not', async () => {
    const ttl = await runOnAwsEntries(published('aws', 'dynamodb-stream.json'));
    expect(ttl.seen.map((s) => s.ctx.trigger.kind === 'change' && s.ctx.trigger.op)).toEqual(['insert', 'update', 'delete']);
    expect(expiredOf(ttl)).toEqual([undefined, undefined, true]);
    // An INSERT with the service identity (as both published samples have it) is no expiry; nor a REMOVE without it.
    expect(expiredOf(await runOnAwsEntries(sample('aws', 'lgo-dynamodb-event.json')))).toEqual([undefined, undefined]);
    const java = await runOnAwsEntries(sample('aws', 'jl-dynamo-event.json'));
    expect(java.seen.map((s) => s.ctx.trigger.kind === 'change' && s.ctx.trigger.op)).toEqual(['insert', 'update', 'delete']);
    expect(expiredOf(java)).toEqual([undefined, undefined, undefined]);
  });

  it.each(['root', 'azure'] as const)('Cosmos DB all versions and deletes (%s entry): a delete with timeToLiveExpired is expired, an explicit one is not', async (entry) => {
    const options = trigger.cosmosDB({ connection: 'CosmosDB', databaseName: 'shop', containerName: 'sessions', createLeaseContainerIfNotExists: true, changeFeedMode: 'AllVersionsAndDeletes' } as Parameters<typeof trigger.cosmosDB>[0]);
    const changes = [
      // Only a delete is marked, even if another operation's metadata carried the flag.
      { current: { id: 's-1', userId: 'u-1', _rid: 'AAAA', _etag: '"0c00-1"', _ts: 1735689500 }, metadata: { operationType: 'create', lsn: 40, crts: 1735689500, timeToLiveExpired: true } },
      { metadata: { operationType: 'delete', lsn: 41, crts: 1735693100, previousImageLSN: 40, timeToLiveExpired: true, id: 's-1', partitionKey: { userId: 'u-1' } } },
      { metadata: { operationType: 'delete', lsn: 42, crts: 1735693200, previousImageLSN: 39, timeToLiveExpired: false, id: 's-0', partitionKey: { userId: 'u-1' } } },
    ];
    const { seen, fn } = recorder();
    const main = entry === 'root' ? handler({ logSink: () => undefined }, fn) : azureHandler({ logSink: () => undefined }, fn);
    await main(structuredClone(changes), invocationContext({ invocationId: '0d7c1e0a-2b3c-4d5e-8f90-a1b2c3d4e5f6', functionName: 'onSessionChange', triggerMetadata: {} }, options));
    expect(seen.map((s) => s.ctx.trigger)).toMatchObject([{ op: 'insert' }, { op: 'delete', key: 's-1' }, { op: 'delete', key: 's-0' }]);
    expect(expiredOf({ seen })).toEqual([undefined, true, undefined]);
  });
});
