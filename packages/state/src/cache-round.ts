/**
 * One load round of `defineState()`: every source loaded (or revalidated against the version
 * kept with the last good state) in parallel, the results merged over that state, validated by
 * the schema and frozen — or one `StateError` naming each failed source and path. Whether the
 * round's outcome is installed, served or dropped is the cache's (cache.ts).
 */
import { scrubText, SteadyError } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';
import { isDeepStrictEqual } from 'node:util';
import { raceSignal as abortable } from '@steadyfn/handler/internal';
import { StateError, SourceError, describeFailure, schemaThrewIssues, type StateIssue } from './errors.js';
import type { SourceMap } from './cache-options.js';
import { schemaFailures } from './schema-issues.js';
import type { Loaded } from './types.js';
import { abortReason, deepFreeze, sameVersion, withJsonPosition } from './util.js';

/** A loaded state: the sources' raw values and versions, the (validated, frozen) value, and when it was loaded and last confirmed (epoch ms). */
export interface Entry {
  raw: Record<string, unknown>;
  versions: Record<string, unknown>;
  value: unknown;
  loadedAt: number;
  confirmedAt: number;
}

type StepResult =
  | { name: string; status: 'unchanged' }
  | { name: string; status: 'loaded'; loaded: Loaded<unknown> }
  | { name: string; status: 'failed'; error: unknown };

/** What a round reads besides its arguments; `unconfirmed` is shared with the cache, which clears it when a round installs. */
export interface RoundContext {
  sources: SourceMap;
  names: string[];
  schema: ZodType | undefined;
  now: () => number;
  /**
   * Sources whose last reload failed: the version kept with the last good state no longer
   * proves anything, so they are loaded in full. A round adds its failed sources unless a newer
   * round's outcome stands.
   */
  unconfirmed: Set<string>;
  /** The newest round whose outcome stands (installed, or an invalidate()). */
  installed: () => number;
}

/**
 * The failure of a round stopped (its time limit, or every waiter gone) while the schema still
 * ran: a load failure (`STATE_UNAVAILABLE`, retryable) like a source that timed out — the data
 * was not judged invalid.
 */
function schemaStopped(signal: AbortSignal): StateError {
  const reason = abortReason(signal);
  const message = `the schema did not finish: ${describeFailure(reason)}`;
  return new StateError([{ source: '(root)', kind: 'load', field: '', message }], { cause: reason });
}

/** `refresh(prev, signal, round)`: runs round `round` over the last good state `prev` (none: a full load). */
export function roundRunner(context: RoundContext): (prev: Entry | undefined, signal: AbortSignal, round: number) => Promise<Entry> {
  const { sources, names, schema, now, unconfirmed, installed } = context;

  async function step(name: string, prev: Entry | undefined, signal: AbortSignal): Promise<StepResult> {
    const source = sources[name]!;
    try {
      if (signal.aborted) throw abortReason(signal);
      if (prev && source.revalidate && Object.hasOwn(prev.versions, name) && !unconfirmed.has(name)) {
        const result = await abortable(source.revalidate({ value: prev.raw[name], version: prev.versions[name] }, signal), signal);
        return result === 'unchanged' ? { name, status: 'unchanged' } : { name, status: 'loaded', loaded: result };
      }
      const loaded = await abortable(source.load(signal), signal);
      // Reloaded after a failure: the same version and value keep the same state object.
      if (prev && unconfirmed.has(name) && Object.hasOwn(prev.raw, name) && sameVersion(loaded.version, prev.versions[name]) && isDeepStrictEqual(loaded.value, prev.raw[name])) {
        return { name, status: 'unchanged' };
      }
      return { name, status: 'loaded', loaded };
    } catch (error) {
      return { name, status: 'failed', error: await withJsonPosition(error) };
    }
  }

  function loadIssue(name: string, error: unknown): StateIssue {
    const description = sources[name]!.description;
    const path = error instanceof SourceError && error.path ? `${name}.${error.path}` : name;
    const message = describeFailure(error);
    // A description is the caller's words (custom()'s invites a URL): credentials in it are scrubbed as in a message.
    const issue: StateIssue = { source: name, kind: 'load', field: path, message: description ? `${scrubText(String(description))}: ${message}` : message };
    if (error instanceof SourceError && error.expected !== undefined) issue.expected = error.expected;
    return issue;
  }

  async function refresh(prev: Entry | undefined, signal: AbortSignal, round: number): Promise<Entry> {
    const startedAt = now();
    const results = await Promise.all(names.map((name) => step(name, prev, signal)));

    const failed = new Set<string>();
    const issues: StateIssue[] = [];
    for (const r of results) {
      if (r.status === 'failed') {
        failed.add(r.name);
        issues.push(loadIssue(r.name, r.error));
        if (round > installed()) unconfirmed.add(r.name);
      }
    }
    // A source's version is trusted again only once the state read with it is installed (then
    // every source was read: `unconfirmed` is cleared there): a source read in full in a round
    // that failed elsewhere (another source, the schema) leaves the last good state, and the
    // version kept with it, as they were — still unproven.
    if (prev && issues.length === 0 && results.every((r) => r.status === 'unchanged')) {
      return { ...prev, confirmedAt: startedAt };
    }

    const raw: Record<string, unknown> = { ...prev?.raw };
    const versions: Record<string, unknown> = { ...prev?.versions };
    for (const r of results) {
      if (r.status !== 'loaded') continue;
      raw[r.name] = r.loaded.value;
      if (r.loaded.version === undefined) delete versions[r.name];
      else versions[r.name] = r.loaded.version;
    }

    let value: unknown = raw;
    if (schema) {
      // Raced against the load's signal like a source read: an async refinement that never
      // settles fails the round at its time limit (nothing it returns later is used).
      const parsed = await abortable(schema.safeParseAsync(raw), signal)
        .catch(async (thrown: unknown) => {
          // Stopped after sources failed on it (their time limit): their load failures say it.
          if (signal.aborted && failed.size > 0) return undefined;
          if (signal.aborted) throw thrown;
          issues.push(...(await abortable(schemaThrewIssues(schema, raw, names, failed, thrown), signal)));
          return undefined;
        })
        .catch((thrown: unknown) => Promise.reject(signal.aborted ? schemaStopped(signal) : thrown));
      if (parsed === undefined) {
        // Reported above: the schema threw on this state (or was stopped after sources failed).
      } else if (parsed.success) value = parsed.data;
      else {
        // Never the store's words (record keys, extra keys' names): schema-issues.ts.
        for (const failure of schemaFailures(schema, parsed.error.issues, names)) {
          // A source that failed to load has no value to judge; its load failure says enough.
          if (!failed.has(failure.source)) issues.push(failure);
        }
      }
    }
    if (issues.length > 0) {
      const firstFailure = results.find((r) => r.status === 'failed');
      // A source's own terminal error (no address, no driver) is not cured by a retry.
      const terminal = results.some((r) => r.status === 'failed' && r.error instanceof SteadyError && !r.error.retryable);
      throw new StateError(issues, firstFailure ? { cause: firstFailure.error, terminal } : {});
    }
    if (value === raw) value = { ...raw };
    return { raw, versions, value: deepFreeze(value), loadedAt: startedAt, confirmedAt: startedAt };
  }

  return refresh;
}
