/**
 * A TCP gate in front of a real SQS server, on a port of its own, to stage an outage without
 * touching the shared server: `down()` closes the port (connections refused, as when SQS is
 * unreachable), `blackhole()` accepts connections and never answers (a network that drops
 * packets: calls hang until aborted), `up()` forwards bytes again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SqsGate {
  /** `http://127.0.0.1:<port>`: the SQS client's endpoint. */
  endpoint: string;
  up(): Promise<void>;
  down(): Promise<void>;
  blackhole(): Promise<void>;
  close(): Promise<void>;
}

export async function startSqsGate(target: string): Promise<SqsGate> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let mode: 'up' | 'blackhole' = 'up';
  let server: Server | undefined;
  let port = 0;

  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      if (mode === 'blackhole') return; // read nothing, answer nothing
      const out = connect(Number(upstream.port), upstream.hostname);
      sockets.add(out);
      out.on('close', () => sockets.delete(out));
      out.on('error', () => client.destroy());
      client.on('close', () => out.destroy());
      out.on('close', () => client.destroy());
      client.pipe(out).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server!.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    if (!server) return;
    const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closing;
    server = undefined;
  };

  await listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async up() {
      await stop();
      mode = 'up';
      await listen();
    },
    down: stop,
    async blackhole() {
      await stop();
      mode = 'blackhole';
      await listen();
    },
    close: stop,
  };
}
