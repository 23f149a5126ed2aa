// Every test worker sees the endpoints written by `bash test/services/services.sh start`.
// Variables already set in the environment win, so a developer can point tests elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const envFile = fileURLToPath(new URL('../.services/env', import.meta.url));
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
  }
}

// Tests assert on outcomes; expected rejections would otherwise flood the output.
process.env.STEADYFN_LOG_LEVEL ??= 'error';
