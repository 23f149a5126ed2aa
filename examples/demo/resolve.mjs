// The provider examples are npm projects of their own (a user copies one and runs `npm
// install`); in this checkout they have no node_modules. This hook lets the demo load them as
// they are: a package an example imports or requires that Node cannot find from the example's
// folder is resolved from the demo's own dependencies (the workspace's built @steadyfn/*
// packages, and the same third-party packages the examples name).
import { createRequire, registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const demo = new URL('./package.json', import.meta.url).href;
const demoRequire = createRequire(demo);
const examples = new URL('../', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const bare = !/^(\.|\/|[a-z]+:)/i.test(specifier);
      if (!bare || !context.parentURL?.startsWith(examples) || !['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(error?.code)) throw error;
      // require() resolves from the requiring module's own paths, whatever parentURL says.
      if (context.conditions?.includes('require')) return { url: pathToFileURL(demoRequire.resolve(specifier)).href, shortCircuit: true };
      return nextResolve(specifier, { ...context, parentURL: demo });
    }
  },
});
