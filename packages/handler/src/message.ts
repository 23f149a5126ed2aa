/**
 * Queue message bodies: JSON when they parse as JSON, otherwise the text itself, so a
 * schema can accept either. Providers that deliver bytes hand them over as base64.
 */

export function parseMessageBody(body: unknown, _field: string): unknown {
  if (typeof body !== 'string') return body;
  const trimmed = body.trimStart();
  const first = trimmed[0];
  if (first === '{' || first === '[' || first === '"' || trimmed === 'true' || trimmed === 'false' || trimmed === 'null' || /^-?\d/.test(trimmed)) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}

/** Decodes base64 (as Pub/Sub and Kafka feeds deliver data), then parses it as a message body. */
export function parseBase64MessageBody(data: unknown, field: string): unknown {
  if (typeof data !== 'string') return data;
  return parseMessageBody(Buffer.from(data, 'base64').toString('utf8'), field);
}
