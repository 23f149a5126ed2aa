/**
 * A TCP proxy in front of a real server, shared by the tests and benches of every package:
 * `cut()` takes the server away (a store that goes down); `delayMs` puts it a network away
 * (the state bench's distant stores, the outbox relay bench's distance view).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';


/** A TCP proxy on 127.0.0.1 in front of a real store; `cut()` closes it (connections drop, new ones are refused). */
export interface Proxy {
  port: number;
  cut(): Promise<void>;
}

/**
 * `delayMs` holds every chunk that long in each direction (order kept), to model a store
 * across a network: a round trip then costs at least 2 × delayMs.
 */
export async function startProxy(targetHost: string, targetPort: number, delayMs = 0): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket): void => {
    if (delayMs <= 0) {
      from.pipe(to);
      return;
    }
    // Same delay for every chunk and timers fire in order: the byte stream stays in order.
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
  };
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host: targetHost, port: targetPort });
    outbound.setNoDelay(true);
    inbound.setNoDelay(true);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    forward(inbound, outbound);
    forward(outbound, inbound);
    // Closing follows the delayed data, not overtakes it.
    inbound.on('close', () => setTimeout(() => outbound.destroy(), delayMs + 1));
    outbound.on('close', () => setTimeout(() => inbound.destroy(), delayMs + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  return {
    port: address.port,
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
