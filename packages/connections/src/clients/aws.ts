/**
 * What `s3()` and `sqs()` share: an AWS SDK v3 client built once per instance with
 * `AWS_CLIENT_DEFAULTS`, closed with `destroy()`, and no thaw check (the SDK speaks HTTP,
 * opens a new socket when a kept-alive one is gone and retries socket errors itself).
 */
import { makeHandle } from '../handle.js';
import type { ClientHandle } from '../spec.js';
import { useDriver } from './load.js';
import { AWS_CLIENT_DEFAULTS, factoryOptions, handleOptions, type HandleOptions } from './options.js';

/**
 * @param owner - The factory's name (`s3`), for errors and the default handle name.
 * @param pkg - The SDK package, named when it is missing.
 * @param driver - Its load, started by the factory.
 * @param build - Makes the client from the loaded module and the merged config.
 */
export function awsClientHandle<M, C extends { destroy(): void }, Config extends object>(
  owner: string,
  pkg: string,
  driver: Promise<M>,
  build: (module: M, config: Config) => C,
  options: (HandleOptions & { config?: Config | undefined }) | undefined,
  allowed: ReadonlyArray<string>,
): ClientHandle<C> {
  const o = factoryOptions(owner, options, allowed);
  return makeHandle<C>(
    {
      ...handleOptions(o, owner),
      async create() {
        return build(await useDriver(owner, pkg, driver), { ...AWS_CLIENT_DEFAULTS, ...o.config } as Config);
      },
      close: (client) => client.destroy(),
    },
    owner,
  );
}
