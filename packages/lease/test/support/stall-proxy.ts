/**
 * A TCP proxy in front of a real S3 server (moto) that can stall: while `stalled`, every byte
 * from the client is held and never forwarded, so a request sent then is never answered — an
 * endpoint that stopped answering, with no timing to race. `held()` resolves when the next byte
 * is held: the request is on the wire, so an abort after it lands mid-call.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface StallProxy {
  port: number;
  /** While true, what clients send is held (never forwarded). */
  stalled: boolean;
  /** Resolves when the proxy next holds bytes (a request sent while stalled). */
  held(): Promise<void>;
  close(): Promise<void>;
}

export async function startStallProxy(targetHost: string, targetPort: number): Promise<StallProxy> {
  const sockets = new Set<Socket>();
  let waiters: Array<() => void> = [];
  const proxy: StallProxy = {
    port: 0,
    stalled: false,
    held: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((inbound) => {
    const outbound = connect({ host: targetHost, port: targetPort });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.on('data', (chunk) => {
      if (proxy.stalled) {
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake();
        return;
      }
      outbound.write(chunk);
    });
    outbound.on('data', (chunk) => inbound.write(chunk));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
