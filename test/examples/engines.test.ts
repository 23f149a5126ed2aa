/**
 * Brief s53-fxb, item 3: the examples declared `engines.node >=22` while every package they
 * install declares `>=22.12` (the first 22 that `require()`s ES modules without a flag, which the
 * packages' CommonJS builds and ESM-only dependencies rely on): an example admitted a Node the
 * packages it deploys refuse. Every example now declares the packages' range.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../support/consumer.js';

const manifest = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { name: string; engines?: { node?: string } };
const dirs = (parent: string) => readdirSync(join(root, parent)).filter((name) => statSync(join(root, parent, name, 'package.json'), { throwIfNoEntry: false })?.isFile());

describe('examples declare the Node the packages require', () => {
  const ranges = new Set(dirs('packages').map((dir) => manifest(join(root, 'packages', dir, 'package.json')).engines?.node));
  const examples = dirs('examples');

  it('the packages agree on one range, and there are examples to check', () => {
    expect([...ranges]).toEqual(['>=22.12']);
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples)('examples/%s', (example) => {
    expect(manifest(join(root, 'examples', example, 'package.json')).engines?.node).toBe([...ranges][0]);
  });
});
