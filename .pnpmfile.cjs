// pnpm hooks for this workspace (https://pnpm.io/pnpmfile).
//
// beforePacking shapes the package.json that `pnpm pack` / `pnpm publish` (and so
// `changeset publish`) put in a tarball. The repository's manifests keep a `steadyfn-source`
// export condition pointing at src/*.ts, which the workspace's typecheck (tsconfig
// `customConditions`) and the tests' child processes (`node --conditions=steadyfn-source`)
// use; src/ is not published, so the condition is removed from what users install.
// TypeScript's legacy `node10` resolution (`moduleResolution: "node"`) does not read `exports`,
// so each subpath entry is also given to it through `typesVersions`, derived from `exports`.
// Scripts and devDependencies describe the workspace, not the package, and go too.
// test/release.test.ts checks the packed manifests.
'use strict';

const SOURCE_CONDITION = 'steadyfn-source';

/** A copy of an `exports` value without the source condition, at any depth. */
function withoutSourceCondition(value) {
  if (Array.isArray(value)) return value.map(withoutSourceCondition);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key !== SOURCE_CONDITION) out[key] = withoutSourceCondition(inner);
  }
  return out;
}

/** `typesVersions` for the subpath entries of `exports` (the CJS declarations: node10 is CommonJS resolution). */
function typesVersionsOf(exportsMap) {
  const paths = {};
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (subpath === '.' || !subpath.startsWith('./') || typeof target !== 'object' || target === null) continue;
    const types = target.require?.types ?? target.types ?? target.import?.types;
    if (typeof types === 'string') paths[subpath.slice(2)] = [types];
  }
  return Object.keys(paths).length > 0 ? { '*': paths } : undefined;
}

function beforePacking(pkg) {
  if (pkg.exports !== undefined) {
    pkg.exports = withoutSourceCondition(pkg.exports);
    const typesVersions = typesVersionsOf(pkg.exports);
    if (typesVersions !== undefined) pkg.typesVersions = typesVersions;
  }
  delete pkg.scripts;
  delete pkg.devDependencies;
  return pkg;
}

module.exports = { hooks: { beforePacking } };
