/**
 * Every live handle, so that SIGTERM (and tests) can close them all. Kept on globalThis:
 * a function bundled with both the ESM and the CJS build still has one registry.
 */
interface Closable {
  readonly name: string;
  close(): Promise<void>;
}

const KEY = Symbol.for('steadyfn.connections.registry');
const FORGOTTEN = Symbol.for('steadyfn.connections.forgotten');
const holder = globalThis as typeof globalThis & { [KEY]?: Set<Closable>; [FORGOTTEN]?: WeakSet<Closable> };
const handles: Set<Closable> = (holder[KEY] ??= new Set());

// Handles `forget()` took out: they are not put back when they connect again (on globalThis too:
// `forget` from one copy of the package may be given a handle of the other).
const forgotten: WeakSet<Closable> = (holder[FORGOTTEN] ??= new WeakSet());

/**
 * Puts a handle in the process-wide set `closeAll()` and SIGTERM close while it has a client or
 * a connect under way (`held`), and takes it out once it has neither: a handle made per tenant
 * and closed after use is not kept for ever. A forgotten handle is never put back.
 */
export function hold(handle: Closable, held: boolean): void {
  if (held && !forgotten.has(handle)) handles.add(handle);
  else handles.delete(handle);
}

/** Removes a handle from that set for good (`forget()`). */
export function unregister(handle: Closable): void {
  forgotten.add(handle);
  handles.delete(handle);
}

/** The handles `closeAll` would close. */
export function registeredHandles(): ReadonlyArray<Closable> {
  return [...handles];
}

/**
 * Closes every client created through this package (each bounded by its `closeTimeoutMs`) and
 * forgets them; the handles stay usable and connect again on next use. For SIGTERM and for
 * resetting the module-scope cache between tests. Never rejects.
 * @example
 * afterEach(closeAll);
 */
export async function closeAll(): Promise<void> {
  await Promise.all([...handles].map((handle) => handle.close().catch(() => undefined)));
}
