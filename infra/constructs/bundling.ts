import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { LAMBDA_NODE_MAJOR } from '../../shared/node-version.js';
import { ROUTE_LIST } from '../../shared/routes.js';

/**
 * How every Keygate Lambda function is bundled, in one place: the CDK construct
 * (`KeygateFunction`, through `NodejsFunction`'s `bundling`) and the cold-start bench (esbuild's
 * JS API, {@link esbuildOptions}) both read it, so the bench measures the bundles that deploy.
 */

/** The repository root: function entries, the lock file and esbuild's project root. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Prepended to every ESM bundle. esbuild's ESM output has no `require`, and CommonJS code
 * bundled into it may still `require` Node built-ins (esbuild then throws "Dynamic require of …
 * is not supported" at run time). Aliased so it cannot clash with an import of `createRequire`
 * inside the bundle.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __keygateCreateRequire } from 'node:module';" +
  'const require = __keygateCreateRequire(import.meta.url);';

/**
 * The Lambda runtime of every function: Node.js {@link LAMBDA_NODE_MAJOR}, the major the local
 * runtime, the CLI and the tests run on too (a unit test checks the two agree, and the target).
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/**
 * `NodejsFunction` bundling of every function: ESM for {@link LAMBDA_RUNTIME}, minified, linked
 * source maps without the sources (`NODE_OPTIONS=--enable-source-maps` reads them), the AWS SDK
 * bundled.
 * Only the options {@link esbuildOptions} mirrors may appear here (it refuses any other).
 */
export const LAMBDA_BUNDLING: Readonly<BundlingOptions> = {
  format: OutputFormat.ESM,
  target: `node${LAMBDA_NODE_MAJOR}`,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The SDK versions the tests ran against (package-lock.json), in one minified file, rather
  // than whichever SDK the runtime ships that week.
  bundleAwsSDK: true,
  banner: ESM_REQUIRE_BANNER,
};

/**
 * `NODE_OPTIONS` of every function: stack traces through the source maps. With it, Node reads
 * and indexes a bundle's source map as it loads the bundle, which is part of the cold start.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/** The options of `BundlingOptions` that {@link esbuildOptions} translates. */
const MIRRORED = new Set<string>([
  'format',
  'target',
  'mainFields',
  'minify',
  'sourceMap',
  'sourcesContent',
  'bundleAwsSDK',
  'banner',
]);

/**
 * esbuild JS API options that build what `NodejsFunction` builds with `bundling` (aws-cdk-lib's
 * `Bundling.buildEsbuildArgs`: `esbuild --bundle <entry> --target --platform=node --format
 * --outfile=<outdir>/index.mjs --minify --sourcemap --sources-content=false --banner:js
 * --main-fields`, run in the project root). Any other bundling option throws rather than being
 * measured differently from how it deploys; so does leaving the SDK external (the externals
 * then depend on the runtime and on feature flags).
 */
export function esbuildOptions(
  entry: string,
  outdir: string,
  bundling: Readonly<BundlingOptions> = LAMBDA_BUNDLING,
): BuildOptions & { outfile: string } {
  const unsupported = Object.keys(bundling).filter((option) => !MIRRORED.has(option));
  if (unsupported.length > 0) {
    throw new Error(`esbuildOptions does not mirror bundling.${unsupported.join(', bundling.')}`);
  }
  if (bundling.bundleAwsSDK !== true) throw new Error('esbuildOptions needs bundleAwsSDK: true');
  if (!bundling.target) throw new Error('esbuildOptions needs an explicit bundling.target');
  const esm = bundling.format === OutputFormat.ESM;
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    outfile: join(outdir, esm ? 'index.mjs' : 'index.js'),
    bundle: true,
    platform: 'node',
    target: bundling.target,
    ...(bundling.format ? { format: esm ? 'esm' : 'cjs' } : {}),
    ...(bundling.minify ? { minify: true } : {}),
    ...(bundling.sourceMap ? { sourcemap: true } : {}),
    ...(bundling.sourcesContent === false ? { sourcesContent: false } : {}),
    ...(bundling.banner ? { banner: { js: bundling.banner } } : {}),
    ...(bundling.mainFields ? { mainFields: [...bundling.mainFields] } : {}),
    logLevel: 'warning',
  };
}

/** The authorizer's entry under `functions/`. */
export const AUTHORIZER_HANDLER = 'authorizer/handler';

/** The trailing flusher's entry under `functions/` (the flush lease's stream trigger). */
export const CACHE_FLUSHER_HANDLER = 'cache-flusher/handler';

/** The lifecycle-events publisher's entry under `functions/` (the audit table's stream trigger). */
export const AUDIT_EVENTS_HANDLER = 'audit-events/handler';

/** The key-warnings scan's entry under `functions/` (on an EventBridge schedule). */
export const KEY_WARNINGS_HANDLER = 'key-warnings/handler';

/**
 * Every function entry the `Keygate` construct deploys, under `functions/` without extension:
 * the authorizer, then one per handler of the route table, in route table order, then the
 * trailing flusher, the lifecycle-events publisher and the key-warnings scan (where the config
 * leaves warnings on, as by default).
 */
export function deployedHandlers(): string[] {
  return [
    AUTHORIZER_HANDLER,
    ...new Set(ROUTE_LIST.map((route) => route.handler)),
    CACHE_FLUSHER_HANDLER,
    AUDIT_EVENTS_HANDLER,
    KEY_WARNINGS_HANDLER,
  ];
}

/**
 * The source file of a function entry (`api-keys/create` → `<repo>/functions/api-keys/create.ts`;
 * `.js` in the installed package, where `REPO_ROOT` is its `dist/`).
 */
export function entryFile(handler: string): string {
  const ts = join(REPO_ROOT, 'functions', `${handler}.ts`);
  return existsSync(ts) ? ts : join(REPO_ROOT, 'functions', `${handler}.js`);
}
