/**
 * A loopback TCP proxy that can break the connections passing through it the two ways a
 * frozen function meets them after a thaw: reset (the peer is gone: ECONNRESET) or
 * silently dead (a NAT mapping or firewall state expired: bytes vanish, nothing answers).
 * New connections after either are forwarded normally.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Resets every current connection (RST to the client). */
  resetAll(): void;
  /** Current connections stop forwarding in both directions and stay open. */
  blackholeAll(): void;
  /**
   * Current connections become half-open, as after a server restart the client did not see (its
   * instance was frozen): nothing is forwarded, and the client's next write is answered with a reset.
   */
  halfOpenAll(): void;
  close(): Promise<void>;
}

/**
 * @param targetPort - The loopback port it forwards to.
 * @param listenPort - Its own port; 0 (the default) picks a free one. A proxy closed and started
 *   again on the same port brings a server back for the clients that were using it.
 */
export async function startProxy(targetPort: number, listenPort = 0): Promise<FaultProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean; halfOpen: boolean }>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair = { client, upstream, dead: false, halfOpen: false };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (pair.halfOpen) {
        pairs.delete(pair);
        client.resetAndDestroy();
      } else if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => {
      if (!pair.dead) drop();
    });
    upstream.on('close', () => {
      if (!pair.dead) drop();
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    resetAll() {
      for (const pair of pairs) {
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    blackholeAll() {
      for (const pair of pairs) pair.dead = true;
    },
    halfOpenAll() {
      for (const pair of pairs) {
        pair.dead = true;
        pair.halfOpen = true;
        pair.upstream.destroy();
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
