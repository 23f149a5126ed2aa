/**
 * Google Cloud Functions on loopback: the Functions Framework's own CLI (`functions-framework
 * --target=<name> --source=<dir>`, what the Cloud Functions Node.js runtime runs), from the
 * example's installed dependencies, one process per function.
 */
import { join } from 'node:path';
import { freePort, START_MS, startChild, waitForOutput, type Child } from './processes.js';

export interface CloudFunction extends Child {
  url: string;
}

/**
 * Serves `target` from `source` (a folder with package.json `main`); the framework comes from
 * `frameworkFrom`'s node_modules. Ready when the framework prints the URL it listens on (it does
 * so only after its own bind); a process that exited first (a port taken by another process
 * meanwhile) is started again on another port. One that is only slow to load is waited for (up to
 * START_MS), never restarted: on a loaded machine loading took over 20 s, and each restart began
 * the loading again.
 */
export async function startCloudFunction(source: string, target: string, env: NodeJS.ProcessEnv, frameworkFrom = source): Promise<CloudFunction> {
  const cli = join(frameworkFrom, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // NODE_ENV other than production: the framework prints "URL: http://localhost:<port>/" once it listens.
    const child = startChild([cli, `--target=${target}`, `--source=${source}`, `--port=${port}`], source, { ...env, NODE_ENV: 'test', FUNCTION_TARGET: target, K_SERVICE: target, CLOUD_RUN_TIMEOUT_SECONDS: '120' });
    let exited = false;
    void child.exited.then(() => (exited = true));
    try {
      await waitForOutput(`URL: http://localhost:${port}/`, child, START_MS);
      return { ...child, url: `http://127.0.0.1:${port}/` };
    } catch (error) {
      // Judged before stop(): once stopped, every child has exited.
      const died = exited;
      await child.stop();
      if (!died || attempt >= 3) throw error;
    }
  }
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
