/**
 * A loopback proxy in front of a standalone MongoDB-wire server (the shared FerretDB) that makes
 * it look like the primary of a one-member replica set: every `hello` / `ismaster` reply gets a
 * `setName`, so the driver sees an `RSPrimary` and runs its retryable writes (a second attempt
 * after a network error) as it does against Atlas. FerretDB accepts the `txnNumber` those
 * writes carry. It can also lose the reply of one command (forwarded, answered by the server,
 * then the connection dropped before the reply reaches the client: applied, reply lost) and then
 * refuse every new connection (a primary gone, no new one elected yet) until `accept()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { BSON } from 'mongodb';

const OP_REPLY = 1;
const OP_MSG = 2013;

export interface PrimaryProxy {
  port: number;
  /** The next client message whose command is `command` is applied, its reply dropped with the connection; new connections are then refused. */
  loseReplyOf(command: string): Promise<void>;
  /** Accepts connections again. */
  accept(): void;
  close(): Promise<void>;
}

/** Splits a stream of wire messages (int32 length first) into whole messages. */
function framer(onMessage: (message: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readInt32LE(0);
      if (pending.length < length) return;
      onMessage(pending.subarray(0, length));
      pending = pending.subarray(length);
    }
  };
}

/** Offset of the first BSON document of an OP_MSG (kind 0 section) or OP_REPLY; undefined otherwise. */
function bodyOffset(message: Buffer): number | undefined {
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG && message[20] === 0) return 21;
  if (opCode === OP_REPLY) return 36;
  return undefined;
}

/** The message with its first document replaced by `rewrite(document)` (lengths fixed; no OP_MSG checksum is kept). */
function rewriteBody(message: Buffer, rewrite: (doc: Record<string, unknown>) => Record<string, unknown> | undefined): Buffer {
  const at = bodyOffset(message);
  if (at === undefined) return message;
  const size = message.readInt32LE(at);
  const doc = BSON.deserialize(message.subarray(at, at + size), { promoteValues: false, promoteBuffers: false, promoteLongs: false });
  const next = rewrite(doc);
  if (!next) return message;
  const body = Buffer.from(BSON.serialize(next));
  const head = Buffer.from(message.subarray(0, at));
  const tail = message.subarray(at + size);
  if (message.readInt32LE(12) === OP_MSG) head.writeUInt32LE(head.readUInt32LE(16) & ~1, 16); // checksumPresent off
  const out = Buffer.concat([head, body, message.readInt32LE(12) === OP_MSG && (message.readUInt32LE(16) & 1) === 1 ? tail.subarray(0, tail.length - 4) : tail]);
  out.writeInt32LE(out.length, 0);
  return out;
}

/** The command name of a client message (the first key of its body), or undefined. */
function commandOf(message: Buffer): string | undefined {
  const at = bodyOffset(message);
  if (at === undefined || message.readInt32LE(12) !== OP_MSG) return undefined;
  const size = message.readInt32LE(at);
  return Object.keys(BSON.deserialize(message.subarray(at, at + size), { promoteValues: false }))[0];
}

export async function startPrimaryProxy(targetPort: number): Promise<PrimaryProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let lose: { command: string; done: () => void } | undefined;
  let port = 0;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    let losing: (() => void) | undefined;
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on(
      'data',
      framer((message) => {
        if (lose && commandOf(message) === lose.command) {
          losing = lose.done;
          lose = undefined;
        }
        upstream.write(message);
      }),
    );
    upstream.on(
      'data',
      framer((message) => {
        if (losing) {
          // The server has answered (applied it): the reply is lost with the connection, and the "primary" is gone.
          refusing = true;
          drop();
          for (const s of sockets) s.destroy();
          sockets.clear();
          losing();
          losing = undefined;
          return;
        }
        const host = `127.0.0.1:${port}`;
        client.write(
          rewriteBody(message, (doc) =>
            'isWritablePrimary' in doc || 'ismaster' in doc ? { ...doc, setName: 'rs0', setVersion: 1, hosts: [host], primary: host, me: host } : undefined,
          ),
        );
      }),
    );
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
  port = address.port;
  return {
    port,
    loseReplyOf: (command) => new Promise<void>((resolve) => (lose = { command, done: resolve })),
    accept: () => {
      refusing = false;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
