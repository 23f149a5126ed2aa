/**
 * Every live handle, so that SIGTERM (and tests) can close them all. Kept on globalThis:
 * a function bundled with both the ESM and the CJS build still has one registry.
 */
interface Closable {
  readonly name: string;
  close(): Promise<void>;
}

const KEY = Symbol.for('steadyfn.connections.registry');
const holder = globalThis as typeof globalThis & { [KEY]?: Set<Closable> };
const handles: Set<Closable> = (holder[KEY] ??= new Set());

/** Adds a handle to the process-wide set `closeAll()` and SIGTERM close. */
export function register(handle: Closable): void {
  handles.add(handle);
}

/** Removes a handle from that set. */
export function unregister(handle: Closable): void {
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
