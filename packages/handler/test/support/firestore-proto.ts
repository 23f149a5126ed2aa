/**
 * Encodes a Firestore `DocumentEventData` given in its proto3 JSON form (as googleapis/google-cloudevents
 * publishes its samples) into protobuf bytes, as Firestore triggers deliver it by default
 * (`application/protobuf`). Field numbers: google-cloudevents `proto/google/events/cloud/firestore/v1/data.proto`
 * (`DocumentEventData`, `Value`, `ArrayValue`, `MapValue`, `DocumentMask`) and googleapis
 * `google/firestore/v1/document.proto` (`Document`: name 1, fields 2, create_time 3, update_time 4).
 * Only for tests: a message set in the JSON (even `{}`) is written, as protobuf encoders do.
 */
type J = Record<string, any>;

function varint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const key = (field: number, wire: number): Buffer => varint(BigInt((field << 3) | wire));
const ld = (field: number, bytes: Buffer): Buffer => Buffer.concat([key(field, 2), varint(BigInt(bytes.length)), bytes]);
const str = (field: number, s: string): Buffer => ld(field, Buffer.from(s, 'utf8'));
const num = (field: number, n: bigint): Buffer => Buffer.concat([key(field, 0), varint(n)]);
function dbl(field: number, d: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return Buffer.concat([key(field, 1), b]);
}

/** RFC 3339 text → google.protobuf.Timestamp { seconds 1, nanos 2 }. */
function timestamp(text: string): Buffer {
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(text)!;
  const seconds = BigInt(Math.floor(Date.parse(`${m[1]}Z`) / 1000));
  const nanos = m[2] ? Number(m[2].padEnd(9, '0')) : 0;
  return Buffer.concat([seconds ? num(1, seconds) : Buffer.alloc(0), nanos ? num(2, BigInt(nanos)) : Buffer.alloc(0)]);
}

function mapEntries(field: number, fields: J | undefined): Buffer {
  return Buffer.concat(Object.entries(fields ?? {}).map(([k, v]) => ld(field, Buffer.concat([str(1, k), ld(2, value(v))]))));
}

function value(v: J): Buffer {
  if ('nullValue' in v) return num(11, 0n);
  if ('booleanValue' in v) return num(1, v.booleanValue ? 1n : 0n);
  if ('integerValue' in v) return num(2, BigInt(v.integerValue));
  if ('doubleValue' in v) return dbl(3, Number(v.doubleValue));
  if ('timestampValue' in v) return ld(10, timestamp(v.timestampValue));
  if ('stringValue' in v) return str(17, v.stringValue);
  if ('bytesValue' in v) return ld(18, Buffer.from(v.bytesValue, 'base64'));
  if ('referenceValue' in v) return str(5, v.referenceValue);
  if ('geoPointValue' in v) return ld(8, Buffer.concat([dbl(1, v.geoPointValue.latitude ?? 0), dbl(2, v.geoPointValue.longitude ?? 0)]));
  if ('arrayValue' in v) return ld(9, Buffer.concat((v.arrayValue.values ?? []).map((x: J) => ld(1, value(x)))));
  if ('mapValue' in v) return ld(6, mapEntries(1, v.mapValue.fields));
  throw new Error(`no encoding for ${Object.keys(v).join()}`);
}

function document(doc: J): Buffer {
  return Buffer.concat([
    doc.name ? str(1, doc.name) : Buffer.alloc(0),
    mapEntries(2, doc.fields),
    doc.createTime ? ld(3, timestamp(doc.createTime)) : Buffer.alloc(0),
    doc.updateTime ? ld(4, timestamp(doc.updateTime)) : Buffer.alloc(0),
  ]);
}

/** `DocumentEventData` { value 1, old_value 2, update_mask 3 } as protobuf bytes. */
export function documentEventDataProto(data: J): Buffer {
  return Buffer.concat([
    data.value ? ld(1, document(data.value)) : Buffer.alloc(0),
    data.oldValue ? ld(2, document(data.oldValue)) : Buffer.alloc(0),
    data.updateMask ? ld(3, Buffer.concat((data.updateMask.fieldPaths ?? []).map((p: string) => str(1, p)))) : Buffer.alloc(0),
  ]);
}
