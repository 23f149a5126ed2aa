import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of shared modules (error classes) for every entry, so instanceof holds.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
