/**
 * S3 `ctx.deliveryId` names the event class (review rvq). Restore, tagging, ACL, lifecycle
 * transition and Intelligent-Tiering events can carry the unchanged object's sequencer (it
 * orders only the PUT and DELETE events of a key: Amazon S3 User Guide, "Event message
 * structure"), so `bucket/key@sequencer` alone gave "Object Restore Completed" the id of
 * "Object Restore Initiated", and "Object Tags Added" the id of the upload: idempotency
 * (`'auto'` key) answered the second from the first and its effect was lost. Created and deleted
 * events keep `bucket/key@sequencer`; every other event adds `#<class>`, the same from a
 * notification's `eventName` and from the EventBridge `detail-type` S3 maps it to ("Amazon
 * EventBridge mapping and troubleshooting"). Built from the published samples in
 * test/fixtures/samples/aws.
 */
import { describe, expect, it } from 'vitest';
import { runOnAwsEntries, sample, type Json } from './support/published.js';

const OBJECT = 'example-bucket/IMG_m7fzo3.jpg@006408CAD69598B05E';

/** Powertools' EventBridge Object Restore Completed sample, as `detailType`. */
function eventBridge(detailType: string): Json {
  const event = sample('aws', 'ptpy-s3-eventbridge-restore-completed.json');
  event['detail-type'] = detailType;
  return event;
}

/** The same object's change as an S3 notification record (Powertools' s3-sqs sample's record), as `eventName`. */
function notification(eventName: string): Json {
  const body = JSON.parse(sample('aws', 'pt-s3-sqs-event.json').Records[0].body as string) as Json;
  const record = body.Records[0] as Json;
  record.eventName = eventName;
  record.s3.bucket.name = 'example-bucket';
  record.s3.object.key = 'IMG_m7fzo3.jpg';
  record.s3.object.sequencer = '006408CAD69598B05E';
  return body;
}

/** `body` in an SQS message (Powertools' s3-sqs sample's message). */
function inSqs(body: Json): Json {
  const event = sample('aws', 'pt-s3-sqs-event.json');
  event.Records[0].body = JSON.stringify(body);
  return event;
}

async function deliveryIdOf(event: Json): Promise<string | undefined> {
  const run = await runOnAwsEntries(event);
  expect(run.seen).toHaveLength(1);
  return run.seen[0]!.ctx.deliveryId;
}

/** S3 User Guide, "Amazon EventBridge mapping and troubleshooting": each eventName and its detail-type. */
const PAIRS: Array<[eventName: string, detailType: string, cls: string]> = [
  ['ObjectRestore:Post', 'Object Restore Initiated', 'restore-initiated'],
  ['ObjectRestore:Completed', 'Object Restore Completed', 'restore-completed'],
  ['ObjectRestore:Delete', 'Object Restore Expired', 'restore-expired'],
  ['ObjectTagging:Put', 'Object Tags Added', 'tags-added'],
  ['ObjectTagging:Delete', 'Object Tags Deleted', 'tags-deleted'],
  ['ObjectAcl:Put', 'Object ACL Updated', 'acl-updated'],
  ['LifecycleTransition', 'Object Storage Class Changed', 'storage-class-changed'],
  ['IntelligentTiering', 'Object Access Tier Changed', 'access-tier-changed'],
];

describe('S3 delivery ids per event class', () => {
  it('the published restore samples: a notification and an EventBridge event add #restore-completed', async () => {
    expect(await deliveryIdOf(sample('aws', 'lgo-s3-glacier-event.json'))).toBe('example-bucket/glacier-test.txt@0A1B2C3D4E5F678901#restore-completed');
    expect(await deliveryIdOf(sample('aws', 'ptpy-s3-eventbridge-restore-completed.json'))).toBe(`${OBJECT}#restore-completed`);
  });

  it('restore completed is not restore initiated, with the same sequencer', async () => {
    const initiated = await deliveryIdOf(eventBridge('Object Restore Initiated'));
    const completed = await deliveryIdOf(eventBridge('Object Restore Completed'));
    expect(initiated).toBe(`${OBJECT}#restore-initiated`);
    expect(completed).not.toBe(initiated);
  });

  it('tags added after the upload are another delivery than the upload', async () => {
    const created = await deliveryIdOf(sample('aws', 'pt-s3-eventbridge-created.json'));
    expect(created).toBe(OBJECT);
    expect(await deliveryIdOf(eventBridge('Object Tags Added'))).not.toBe(created);
    expect(await deliveryIdOf(notification('ObjectTagging:Put'))).not.toBe(created);
  });

  it.each(PAIRS)('%s and %s: one id, whichever route carried it', async (eventName, detailType, cls) => {
    const id = `${OBJECT}#${cls}`;
    expect(await deliveryIdOf(notification(eventName))).toBe(id);
    expect(await deliveryIdOf(notification(`s3:${eventName}`))).toBe(id);
    expect(await deliveryIdOf(inSqs(notification(eventName)))).toBe(id);
    expect(await deliveryIdOf(eventBridge(detailType))).toBe(id);
    expect(await deliveryIdOf(inSqs(eventBridge(detailType)))).toBe(id);
  });

  it('created and deleted events keep bucket/key@sequencer on every route', async () => {
    for (const eventName of ['ObjectCreated:Put', 'ObjectCreated:CompleteMultipartUpload', 'ObjectRemoved:Delete', 'ObjectRemoved:DeleteMarkerCreated', 'LifecycleExpiration:Delete', 'LifecycleExpiration:DeleteMarkerCreated']) {
      expect(await deliveryIdOf(notification(eventName))).toBe(OBJECT);
      expect(await deliveryIdOf(inSqs(notification(eventName)))).toBe(OBJECT);
    }
    expect(await deliveryIdOf(eventBridge('Object Created'))).toBe(OBJECT);
    expect(await deliveryIdOf(inSqs(eventBridge('Object Deleted')))).toBe(OBJECT);
  });

  it('an event EventBridge does not send (replication) is classed by its own name', async () => {
    expect(await deliveryIdOf(notification('Replication:OperationFailedReplication'))).toBe(`${OBJECT}#replication-operation-failed-replication`);
    expect(await deliveryIdOf(notification('ReducedRedundancyLostObject'))).toBe(`${OBJECT}#reduced-redundancy-lost-object`);
  });
});
