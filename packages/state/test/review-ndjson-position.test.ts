/**
 * Review: a broken JSON body is reported by the offset of its first wrong character, but a
 * broken NDJSON line only by its number ("line 3 is not valid JSON"): in a line of thousands of
 * characters (an export of records) nothing says where. The line's failure now carries the
 * offset within the line (from 0, after a leading BOM on line 1), found the same way as for
 * JSON — V8's own position, else jsonc-parser on the failure path — and never quotes the line.
 * Against moto (S3).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { defineState, StateError } from '../src/index.js';
import { s3Ndjson } from '../src/s3.js';
import { ownBucket, unique } from './support.js';

const rig = ownBucket('ndjsonpos');
const { bucket } = rig;

// [body, the broken line (from 1), the offset of its first wrong character within the line]
const broken: Array<[string, number, number]> = [
  // An unexpected token: V8 quotes the text and names no position.
  ['{"a":1}\n{"token":"hunter2",}\n', 2, 19],
  ['{"a":1}\r\n\r\n[1, 2, oops]\r\n', 3, 7],
  // A cut line: V8 names the position itself.
  ['{"a":1}\n{"a":1}\n{"token":"hunter2"', 3, 18],
  ['\uFEFF{"token": hunter2}\n', 1, 10],
];

describe('a broken NDJSON line is reported by line and position, not quoted', () => {
  it.each(broken)('s3Ndjson %j', async (body, line, at) => {
    const key = `${unique('obj')}.ndjson`;
    await rig.s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const error = await defineState({ sources: { rows: s3Ndjson({ client: rig.s3.client, bucket, key }) } })
      .get()
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    const message = (error as StateError).failures[0]!.message;
    expect(message).toContain(`line ${line} is not valid JSON (at character ${at})`);
    expect(message).not.toContain('hunter2');
  });
});
