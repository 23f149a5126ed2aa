/**
 * Loading a driver. Each subpath entry (`/redis`, `/mongodb`, `/s3`, `/sqs`) loads only
 * its own driver, with `import('<literal>')` so a bundler sees and includes exactly that
 * one. The load starts when the factory is called (in module scope: during the instance's
 * init phase) and its failure is kept, to become a terminal `ConfigurationError` at first
 * use instead of a retryable connection error that queues would redeliver forever.
 */
import { ConfigurationError } from '@steadyfn/handler/internal';
import { CONNECTION_DRIVER_LOAD_FAILED, CONNECTION_DRIVER_MISSING } from '../errors.js';

/** A driver module, loaded once per process on first request. */
export function driverLoader<M>(load: () => Promise<M>): () => Promise<M> {
  let loading: Promise<M> | undefined;
  return () => {
    if (!loading) {
      loading = load();
      // Held until first use, which reports it; never an unhandled rejection meanwhile.
      loading.catch(() => undefined);
    }
    return loading;
  };
}

function isMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND')) return false;
  // Only the driver itself; a dependency of the driver that is missing is a broken install.
  return typeof e.message === 'string' && (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`));
}

/**
 * The terminal error for a driver that failed to load. Load errors carry no values (module
 * names, paths, "Dynamic require of … is not supported"), so their message is kept.
 */
export function driverError(owner: string, pkg: string, err: unknown): ConfigurationError {
  if (isMissing(err, pkg)) {
    return new ConfigurationError(
      `${owner}(): the "${pkg}" package is not installed; install it next to @steadyfn/connections (npm install ${pkg}) and keep it in your bundle`,
      { field: 'driver', expected: `the ${pkg} package installed`, code: CONNECTION_DRIVER_MISSING, cause: err },
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  const hint = /Dynamic require of/.test(reason)
    ? ' An ESM bundle needs `require`: add the createRequire banner (see "Bundling" in the @steadyfn/connections README).'
    : '';
  return new ConfigurationError(`${owner}(): the "${pkg}" package could not be loaded: ${reason}.${hint}`, {
    field: 'driver',
    expected: `the ${pkg} package loadable`,
    code: CONNECTION_DRIVER_LOAD_FAILED,
    cause: err,
  });
}

/** Awaits `loading`, turning a failure into `driverError`. */
export async function useDriver<M>(owner: string, pkg: string, loading: Promise<M>): Promise<M> {
  try {
    return await loading;
  } catch (err) {
    throw driverError(owner, pkg, err);
  }
}
