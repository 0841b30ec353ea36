import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_SPEC, type DeploymentSpec, specFromConfig } from './deployment.js';

/**
 * Finds and reads a team's config for the processes that start from it (`npm start`, the CLI,
 * the CDK app; never a Lambda, whose bundle carries the spec): `KEYGATE_CONFIG`, or
 * `keygate.config.ts` (`.js`, `.mjs`) in the working directory; without one, SendGrid's
 * service. It keeps `keygate.lock.json` beside the config: the team's scopes in the order they
 * were first seen, append-only, so their stored codes never shift (commit it). A scope new to it
 * is appended and the file written; under `CI=true` a lock that lacks a scope fails instead, so
 * a deployment never encodes scopes with a lock nobody committed.
 */

export const CONFIG_ENV = 'KEYGATE_CONFIG';
export const CONFIG_FILES = ['keygate.config.ts', 'keygate.config.js', 'keygate.config.mjs'];
export const LOCK_FILE = 'keygate.lock.json';

/** A config that cannot be used: one line naming the file and the entry. */
export class ConfigError extends Error {}

export interface LoadedDeployment {
  spec: DeploymentSpec;
  /** The config file, absolute; undefined without one. */
  configFile: string | undefined;
  /** Its directory: where the team's handlers are. */
  configDir: string | undefined;
  warnings: readonly string[];
  /** The lock file was written (new scopes were appended). */
  lockWritten: boolean;
}

export async function loadDeploymentSpec(
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LoadedDeployment> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = configFileOf(cwd, env);
  if (file === undefined) {
    return {
      spec: DEFAULT_SPEC,
      configFile: undefined,
      configDir: undefined,
      warnings: [],
      lockWritten: false,
    };
  }
  const shown = relative(cwd, file) || file;
  let module: Record<string, unknown>;
  try {
    module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${shown}: cannot be loaded: ${firstLine(error)}`);
  }
  const raw = defaultExport(module);
  const dir = dirname(file);
  const lockFile = resolve(dir, LOCK_FILE);
  const lock = readLock(lockFile, relative(cwd, lockFile) || lockFile);
  const outcome = specFromConfig(raw, {
    file: shown,
    lock,
    handlerExists: (handler) => {
      const path = resolve(dir, handler);
      return existsSync(path) && statSync(path).isFile();
    },
  });
  if (!outcome.ok) throw new ConfigError(outcome.error);
  let lockWritten = false;
  if (outcome.lockChanged) {
    const added = outcome.spec.scopeLock.filter((s) => !lock.includes(s));
    if (env.CI === 'true') {
      throw new ConfigError(
        `${relative(cwd, lockFile) || lockFile} lacks ${added.join(', ')}: run npm start or npm run synth where you change the config, and commit the file`,
      );
    }
    writeFileSync(lockFile, `${JSON.stringify({ scopes: outcome.spec.scopeLock }, null, 2)}\n`);
    lockWritten = true;
  }
  return {
    spec: outcome.spec,
    configFile: file,
    configDir: dir,
    warnings: outcome.warnings,
    lockWritten,
  };
}

function configFileOf(cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const named = env[CONFIG_ENV];
  if (named !== undefined && named !== '') {
    const file = resolve(cwd, named);
    if (!existsSync(file)) throw new ConfigError(`${CONFIG_ENV}: ${named} does not exist`);
    return file;
  }
  return CONFIG_FILES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

/** A module's default export (tsx may nest it once more when it loads TypeScript as CommonJS). */
function defaultExport(module: Record<string, unknown>): unknown {
  const value = 'default' in module ? module.default : module;
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) {
    return (value as { default: unknown }).default;
  }
  return value;
}

function readLock(path: string, shown: string): string[] {
  if (!existsSync(path)) return [];
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`${shown}: is not JSON`);
  }
  const scopes = (value as { scopes?: unknown } | null)?.scopes;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
    throw new ConfigError(
      `${shown}: must be {"scopes": [...]}, the scopes in the order first seen`,
    );
  }
  if (new Set(scopes).size !== scopes.length)
    throw new ConfigError(`${shown}: lists a scope twice`);
  return scopes;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
