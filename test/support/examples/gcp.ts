/**
 * Google Cloud Functions on loopback: the Functions Framework's own CLI (`functions-framework
 * --target=<name> --source=<dir>`, what the Cloud Functions Node.js runtime runs), from the
 * example's installed dependencies, one process per function.
 */
import { join } from 'node:path';
import { freePort, startChild, waitForHttp, type Child } from './processes.js';

export interface CloudFunction extends Child {
  url: string;
}

/** Serves `target` from `source` (a folder with package.json `main`); the framework comes from `frameworkFrom`'s node_modules. */
export async function startCloudFunction(source: string, target: string, env: NodeJS.ProcessEnv, frameworkFrom = source): Promise<CloudFunction> {
  const port = await freePort();
  const cli = join(frameworkFrom, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  const child = startChild([cli, `--target=${target}`, `--source=${source}`, `--port=${port}`], source, { ...env, FUNCTION_TARGET: target, K_SERVICE: target, CLOUD_RUN_TIMEOUT_SECONDS: '120' });
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, child);
  return { ...child, url };
}

/** A Cloud Scheduler tick as a Pub/Sub push CloudEvent (binary content mode). */
export function schedulerTick(topic: string): { method: 'POST'; headers: Record<string, string>; body: string } {
  const id = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': `//pubsub.googleapis.com/projects/example/topics/${topic}`,
      'ce-id': id,
      'ce-time': new Date().toISOString(),
    },
    body: JSON.stringify({ message: { data: Buffer.from('{}').toString('base64'), messageId: id, publishTime: new Date().toISOString(), attributes: {} }, subscription: `projects/example/subscriptions/${topic}` }),
  };
}
