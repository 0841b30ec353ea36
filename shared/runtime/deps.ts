import type { AuthorizerCache, Deps, Mailer } from '../domain/ports.js';
import type { RuntimeConfig } from './config.js';
import { keyRepository, runtimeConfig } from './storage.js';

/**
 * Adapters only some functions use, each behind its own module so the others do not bundle
 * (nor load) its AWS SDK client: {@link MAILER} (`shared/runtime/mailer.ts`, SES) and
 * {@link AUTHORIZER_CACHE_FLUSH} (`shared/runtime/authorizer-cache-flush.ts`, API Gateway). A
 * handler lists what it uses (`uses` in `keyRouteHandler`); a test ties each route's list to its
 * IAM permissions, so a function that may flush or send mail is the one that can.
 */
export interface AdapterProvider {
  mailer?: (config: RuntimeConfig) => Mailer;
  authorizerCache?: (config: RuntimeConfig) => AuthorizerCache;
}

const providers: AdapterProvider = {};

/** Makes adapters available to {@link defaultDeps} (a handler module does it as it loads). */
export function provideAdapters(...provided: readonly AdapterProvider[]): void {
  for (const p of provided) Object.assign(providers, p);
}

let cached: Deps | undefined;

/**
 * The route handlers' wiring, built on first use (not at import, so importing a handler costs
 * no client set-up) and reused across invocations of a warm Lambda. The mailer and the cache
 * adapter are built only when an operation first needs them, from the providers the function
 * was given; using one it was not given is a wiring bug, and fails loudly.
 */
export function defaultDeps(): Deps {
  if (cached) return cached;
  const config = runtimeConfig();
  let mailer: Mailer | undefined;
  let authorizerCache: AuthorizerCache | undefined;
  cached = {
    repo: keyRepository(),
    config,
    now: () => new Date(),
    get mailer() {
      mailer ??= required(providers.mailer, 'MAILER')(config);
      return mailer;
    },
    get authorizerCache() {
      authorizerCache ??= required(providers.authorizerCache, 'AUTHORIZER_CACHE_FLUSH')(config);
      return authorizerCache;
    },
  };
  return cached;
}

function required<T>(factory: T | undefined, name: string): T {
  if (!factory)
    throw new Error(`this function was not given ${name} (list it in its handler's uses)`);
  return factory;
}
