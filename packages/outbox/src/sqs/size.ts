/**
 * Message size as SQS counts it against `MaximumMessageSize` and the batch limit: the body's
 * UTF-8 bytes plus, for every message attribute, the UTF-8 bytes of its name, of its data type
 * and of its value (SQS developer guide, "Amazon SQS message attributes": "the message size
 * … includes the message body and the message attributes (name, type and value)").
 */

/** One string attribute: name + `String` + value. */
export function attributeBytes(name: string, value: string, dataType = 'String'): number {
  return Buffer.byteLength(name, 'utf8') + Buffer.byteLength(dataType, 'utf8') + Buffer.byteLength(value, 'utf8');
}

/**
 * Size of one message as SQS counts it: body bytes plus every attribute's name, data type and
 * value bytes. Attributes here are strings (`DataType: "String"`).
 *
 * @example
 * messageBytes('héllo', { seq: '7' }) // 6 + (3 + 6 + 1) = 16
 */
export function messageBytes(body: string, attributes?: Readonly<Record<string, string>>): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  if (attributes !== undefined) {
    for (const name of Object.keys(attributes)) bytes += stringAttributeBytes(name, attributes[name]!);
  }
  return bytes;
}

/**
 * What one string attribute adds to a message's size (`messageBytes`): name + `String` + value,
 * in UTF-8 bytes; the name's part is counted once per name and kept.
 */
export function stringAttributeBytes(name: string, value: string): number {
  return nameAndTypeBytes(name) + Buffer.byteLength(value, 'utf8');
}

/** `String` in UTF-8. */
const STRING_TYPE_BYTES = 6;
/** Name + `String` bytes of names seen: every message of a relay carries the same few names (bounded like ids.ts's valid names). */
const nameBytes = new Map<string, number>();

function nameAndTypeBytes(name: string): number {
  let n = nameBytes.get(name);
  if (n === undefined) {
    n = Buffer.byteLength(name, 'utf8') + STRING_TYPE_BYTES;
    if (nameBytes.size < 1_024) nameBytes.set(name, n);
  }
  return n;
}
