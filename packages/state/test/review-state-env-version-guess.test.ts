/**
 * Review: `envVars()` keeps as its version a digest of the variables it read, so that
 * `status().versions` (returned by health checks) never holds their values
 * (review-state-status-secrets). The digest was an unkeyed SHA-256 of
 * `JSON.stringify(Object.entries(value))`: anyone reading a health check could confirm a guess of
 * the values offline — a region, a stage, a short or well-known password — by computing the same
 * digest from the (public) formula. It is now keyed (HMAC) by a random key of the source: it
 * still changes with the values within the instance, and says nothing outside it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defineState, envVars } from '../src/index.js';

describe('envVars(): the version in status() cannot confirm a guess of the values', () => {
  it('a dictionary of guesses computed with the source\'s own formula does not find it', async () => {
    const env = { APP_STAGE: 'prod', APP_DB_PASSWORD: 'summer2024' };
    const cache = defineState({ sources: { env: envVars({ prefix: 'APP_', env }) } });
    await cache.get();
    const version = cache.status().versions.env;
    const guesses: string[] = [];
    for (const stage of ['dev', 'staging', 'prod']) {
      for (const password of ['password', 'summer2024', 'hunter2']) {
        guesses.push(createHash('sha256').update(JSON.stringify(Object.entries({ STAGE: stage, DB_PASSWORD: password }))).digest('base64url'));
      }
    }
    expect(typeof version).toBe('string');
    expect(guesses).not.toContain(version);
  });

  it('two sources over the same variables keep different versions (keyed per source), each stable while nothing changes', async () => {
    const env = { REGION: 'eu-west-1' };
    const a = envVars({ keys: ['REGION'], env });
    const b = envVars({ keys: ['REGION'], env });
    const signal = new AbortController().signal;
    const [first, again, other] = await Promise.all([a.load(signal), a.load(signal), b.load(signal)]);
    expect(again.version).toBe(first.version);
    expect(other.version).not.toBe(first.version);
    expect(await a.revalidate!({ value: first.value, version: first.version }, signal)).toBe('unchanged');
  });
});
