import type { Options } from 'tsup';

/**
 * The build every package shares (`packages/<name>/tsup.config.ts` adds its entries): ESM and
 * CJS with declarations for both, for Node 22.
 *
 * No source maps: the output is unminified, keeps the sources' names and layout, and stack
 * traces read as they are. Maps with embedded sources were about 58–63% of each unpacked
 * package, and maps without them still about 28% while only renaming the frames to src/ files
 * that are not published.
 */
export const library = {
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of shared modules (error classes, registries) for every entry, in CJS too, so instanceof holds across entries.
  splitting: true,
  // Class names survive the CJS conversion (it would otherwise name them `_class3`): error
  // classes are recognised across the ESM and CJS copies by name (SteadyError[Symbol.hasInstance]).
  // Only there: the ESM output keeps them as written, and keepNames costs ~10% of its size.
  esbuildOptions(options, context) {
    if (context.format === 'cjs') options.keepNames = true;
  },
  clean: true,
  sourcemap: false,
  target: 'node22',
} satisfies Options;
