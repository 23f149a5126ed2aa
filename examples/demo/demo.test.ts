// `npm run demo` must keep working: it runs the built packages against the local services.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('invokes the function through all four providers, and each replays the retry', async () => {
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['run.mjs'], { cwd, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(8);
  for (const provider of ['AWS Lambda', 'Google Cloud Functions', 'Azure Functions', 'Apache OpenWhisk']) {
    const at = lines.findIndex((l) => l.startsWith(provider));
    expect(lines[at]).toMatch(/first {2}201 \{"orderId"/);
    expect(lines[at + 1]).toMatch(/retry {2}201 .*\(Idempotency-Replayed\)$/);
  }
}, 90_000);
