import type { AuthorizerCache, Deps, Mailer } from '../domain/ports.js';
import type { AdapterName } from '../routes.js';
import type { RuntimeConfig } from './config.js';
import { keyRepository, runtimeConfig } from './storage.js';

/**
 * How to build each adapter beyond storage. Each lives in its own module so that functions which
 * do not use it neither bundle nor load its AWS SDK client: `MAILER` (`shared/runtime/mailer.ts`,
 * SES) and `AUTHORIZER_CACHE_FLUSH` (`shared/runtime/authorizer-cache-flush.ts`, API Gateway).
 */
export interface AdapterFactories {
  mailer: (config: RuntimeConfig) => Mailer;
  authorizerCache: (config: RuntimeConfig) => AuthorizerCache;
}

/** Some of the factories: what one handler was given. */
export type AdapterProvider = Partial<AdapterFactories>;

/** Exactly the factories of these adapters. */
export type ProvidersOf<A extends AdapterName> = Pick<AdapterFactories, A>;

/**
 * One function's wiring, built from what it was given: storage, configuration and the clock for
 * all, and only the adapters it declared. Built on first use (importing a handler sets up no
 * client) and reused across invocations of a warm Lambda; an adapter is built when an operation
 * first needs it. Using one the function was not given is a wiring bug, and fails loudly.
 */
export function depsWith(given: AdapterProvider): () => Deps {
  let cached: Deps | undefined;
  return () => {
    if (cached) return cached;
    const config = runtimeConfig();
    let mailer: Mailer | undefined;
    let authorizerCache: AuthorizerCache | undefined;
    cached = {
      repo: keyRepository(),
      config,
      now: () => new Date(),
      get mailer() {
        mailer ??= required(given.mailer, 'mailer')(config);
        return mailer;
      },
      get authorizerCache() {
        authorizerCache ??= required(given.authorizerCache, 'authorizerCache')(config);
        return authorizerCache;
      },
    };
    return cached;
  };
}

/** Storage, configuration and the clock, no adapter: for the CLI, the local runtime and tools. */
export const defaultDeps = depsWith({});

function required<T>(factory: T | undefined, name: AdapterName): T {
  if (!factory) {
    throw new Error(`this function was not given the ${name} adapter (declare it on its route)`);
  }
  return factory;
}
