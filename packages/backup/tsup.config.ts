import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // As in the other packages: the CommonJS build then reads ESM-only dependencies (p-retry)
  // through their default export under Node's require(esm); esbuild's own CJS interop would
  // hand over the whole module namespace instead of the function.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
