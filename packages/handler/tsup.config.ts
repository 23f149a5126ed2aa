import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/aws.ts', 'src/gcp.ts', 'src/azure.ts', 'src/openwhisk.ts', 'src/internal.ts', 'src/schemas.ts', 'src/middy.ts', 'src/tracing.ts', 'src/logging.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of shared modules (error classes) for every entry, in CJS too, so instanceof holds across entries.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
