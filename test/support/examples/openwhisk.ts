/**
 * Apache OpenWhisk on loopback: the Node.js action runtime's `/init` + `/run` contract, served
 * by the stand-in of packages/handler/test/fixtures/openwhisk/runtime (one container per
 * action), with the controller's web-action parameters (`controllerParams`), bound parameters
 * merged in as the controller does, and alarm-trigger activations.
 */
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { controllerParams } from '../../../packages/handler/test/fixtures/openwhisk/controller.js';
import { root } from '../consumer.js';
import { killNow, ownTempDir, releaseTempDir } from '../temp-dirs.js';
import { startChild, waitForMatch, type Child } from './processes.js';

export interface ActionContainer extends Child {
  /** `/run` with the activation's parameters; the action's result (the proxy's HTTP status must be 200). */
  run(params: Record<string, unknown>, deadlineMs?: number): Promise<Record<string, any>>;
}

const proxy = join(root, 'packages/handler/test/fixtures/openwhisk/runtime/action-proxy.cjs');

/**
 * Starts a container and initialises it with `code` and `main` as `wsk action create` sends
 * them: a file's text, evaluated by the runtime, or (`binary`) the base64 of a zip, which the
 * runtime unpacks and loads with require(). The container's directory holds only the proxy,
 * so the action carries its own dependencies; it is removed when the container stops (or the
 * test process ends).
 */
export async function startAction(code: string, main: string, actionName: string, binary = false): Promise<ActionContainer> {
  let proxyProcess: ChildProcess | undefined;
  const image = ownTempDir('steadyfn-ow-container-', () => killNow(proxyProcess));
  cpSync(proxy, join(image, 'action-proxy.cjs'));
  // A container sees the invoker's environment, not this test runner's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('__OW_') && !k.startsWith('STEADYFN_') && !k.startsWith('AWS_') && !k.endsWith('_URL')));
  const child = startChild([join(image, 'action-proxy.cjs')], image, { ...env, STEADYFN_LOG_LEVEL: 'warn' });
  proxyProcess = child.process;
  const stop = async (): Promise<void> => {
    await child.stop();
    releaseTempDir(image);
  };
  let port: string | undefined;
  try {
    // Up to START_MS (it was 200 polls), and no longer than the proxy lives.
    port = (await waitForMatch(/ACTION_PROXY_LISTENING (\d+)/, child))[1];
  } catch (error) {
    await stop();
    throw new Error(`the action container did not start: ${(error as Error).message}`);
  }
  const url = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  // A container whose /init fails (or cannot be reached) is stopped, not left running.
  const init = await post('/init', { value: { name: actionName, main, code, binary } }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (init.status !== 200) {
    await stop();
    throw new Error(`/init failed (${init.status}): ${JSON.stringify(init.body)} ${child.output()}`);
  }
  return {
    ...child,
    stop,
    async run(params, deadlineMs = 120_000) {
      const id = randomUUID().replace(/-/g, '');
      const res = await post('/run', { value: params, namespace: 'guest', action_name: `/guest/orders/${actionName}`, action_version: '0.0.1', activation_id: id, transaction_id: `tid-${id}`, deadline: String(Date.now() + deadlineMs) });
      if (res.status !== 200) throw new Error(`/run failed (${res.status}): ${JSON.stringify(res.body)} ${child.output()}`);
      return res.body;
    },
  };
}

/** A POST to a (non-raw) web action: the controller's params, with the action's bound parameters merged under them. */
export function webActionParams(bound: Record<string, string>, body: unknown, headers: Record<string, string>): Record<string, unknown> {
  return { ...bound, ...controllerParams({ method: 'POST', contentType: 'application/json', headers, body: JSON.stringify(body) }, false) };
}

/** An alarm firing through a rule: the trigger's payload (with the steadyfn schedule marker) over the bound parameters. */
export function alarmParams(bound: Record<string, string>, schedule: string): Record<string, unknown> {
  return { ...bound, __steadyfn_schedule: schedule };
}
