import { defineConfig } from 'tsup';

export default defineConfig({
  // The driver-free core, and one entry per driver: importing one loads only its driver.
  entry: ['src/index.ts', 'src/redis.ts', 'src/mongodb.ts', 'src/s3.ts', 'src/sqs.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of shared modules (the handle, error classes, the registry) for every entry, in CJS too, so instanceof holds across entries.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
