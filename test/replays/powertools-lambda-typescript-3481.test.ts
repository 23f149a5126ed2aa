/**
 * aws-powertools/powertools-lambda-typescript#3481 ("Bug: DynamoDB Stream schema & envelope should
 * unmarshall payloads", fixed by PR #3482) and aws-powertools/powertools-lambda-python#2851
 * ("Bug: DynamoDBStreamEnvelope")
 * https://github.com/aws-powertools/powertools-lambda-typescript/issues/3481
 *
 * The parser's DynamoDB Streams envelope handed the user's schema `NewImage` as DynamoDB wrote
 * it — attribute values (`{ "S": "key1" }`, `{ "N": "1" }`) — so the python report's model
 * `{ id: str, value: int }` failed on the first record, and every function had to unmarshall
 * the image itself before validating it.
 *
 * steadyfn validates the image unmarshalled to plain JSON (`NewImage`; a `REMOVE`: `OldImage`),
 * with `ctx.trigger.key` the unmarshalled `Keys` and `ctx.trigger.before` the old image.
 * Replayed: the python report's `INSERT` validated by its model (`id` a string, `value` a
 * number), a `MODIFY` whose image holds every attribute type (map, list, boolean, null, string
 * and number sets, binary), and a `REMOVE`; each record runs once with plain values.
 */
import { handler, type Context } from '../../packages/handler/src/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lambdaContext, type Json } from './support.js';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/items/stream/2023-07-26T10:59:58.000';

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', seq: string, images: { NewImage?: Json; OldImage?: Json }, view = 'NEW_AND_OLD_IMAGES'): Json {
  return {
    eventID: `918a97d90a2cc231d8f6cb54243c${seq.slice(-4)}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: { ApproximateCreationDateTime: 1690369198.0, Keys: { id: { S: 'key1' } }, ...images, SequenceNumber: seq, SizeBytes: 92, StreamViewType: view },
    eventSourceARN: STREAM,
  };
}

describe('powertools-lambda-typescript#3481 / python#2851: a DynamoDB Streams image reaches the schema unmarshalled', () => {
  it("the python report's INSERT validates against { id: string, value: number }", async () => {
    const seen: unknown[] = [];
    const main = handler({ logSink: () => undefined, input: z.object({ id: z.string(), value: z.number().int() }) }, (item, ctx) => {
      seen.push({ item, trigger: ctx.trigger });
    });
    const insert = record('INSERT', '536700000000017398170841', { NewImage: { id: { S: 'key1' }, value: { N: '1' } } }, 'NEW_IMAGE');
    expect(await main.aws({ Records: [insert] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ item: { id: 'key1', value: 1 }, trigger: expect.objectContaining({ kind: 'change', source: 'dynamodb-streams', collection: 'items', op: 'insert', key: { id: 'key1' } }) }]);
  });

  it('every attribute type is plain JSON; a MODIFY carries the old image in ctx.trigger.before; a REMOVE gives the deleted item', async () => {
    const seen: Array<{ input: unknown; op: unknown; before: unknown }> = [];
    const main = handler({ logSink: () => undefined }, (input, ctx: Context) => {
      const trigger = ctx.trigger as { op?: unknown; before?: unknown };
      seen.push({ input, op: trigger.op, before: trigger.before });
    });
    const full = {
      id: { S: 'key1' },
      value: { N: '2.50' },
      tags: { SS: ['blue', 'red'] },
      sizes: { NS: ['1', '3'] },
      active: { BOOL: true },
      note: { NULL: true },
      address: { M: { city: { S: 'Oslo' }, floor: { N: '3' } } },
      history: { L: [{ S: 'created' }, { N: '1' }, { M: { by: { S: 'ops' } } }] },
      thumb: { B: Buffer.from('hi').toString('base64') },
    };
    const modify = record('MODIFY', '536700000000017398170900', { NewImage: full, OldImage: { id: { S: 'key1' }, value: { N: '1' } } });
    const remove = record('REMOVE', '536700000000017398171000', { OldImage: { id: { S: 'key1' }, value: { N: '2.50' } } });
    expect(await main.aws({ Records: [modify, remove] }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toHaveLength(2);
    const item = seen[0]!.input as Record<string, unknown>;
    expect(item).toMatchObject({ id: 'key1', value: 2.5, active: true, note: null, address: { city: 'Oslo', floor: 3 }, history: ['created', 1, { by: 'ops' }] });
    // Sets and binary: no attribute-value wrappers left (the exact representation is the handler's documented one).
    expect(JSON.stringify(item)).not.toMatch(/"(S|N|SS|NS|BOOL|NULL|M|L|B)":/);
    expect([...(item.tags as Iterable<string>)].sort()).toEqual(['blue', 'red']);
    expect(seen[0]!.op).toBe('update');
    expect(seen[0]!.before).toEqual({ id: 'key1', value: 1 });
    expect(seen[1]).toMatchObject({ input: { id: 'key1', value: 2.5 }, op: 'delete' });
  });
});
