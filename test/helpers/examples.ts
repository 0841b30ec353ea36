import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LoadedDeployment, loadDeploymentSpec } from '../../shared/deployment/load.js';
import { useDeployment } from '../../shared/runtime/deployment.js';

/** The repository's examples, loaded as `KEYGATE_CONFIG=examples/<name>/keygate.config.ts`. */

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const INVOICES_CONFIG = 'examples/invoices/keygate.config.ts';
export const INVOICES_DIR = resolve(REPO_ROOT, 'examples/invoices');

/**
 * The invoices example's deployment, as `npm start` loads it. With `CI=true`, so a lock file
 * that lacks a scope fails here instead of being rewritten in the working tree: the example
 * must commit a complete `keygate.lock.json`.
 */
export function loadInvoicesExample(): Promise<LoadedDeployment> {
  return loadDeploymentSpec({
    cwd: REPO_ROOT,
    env: { KEYGATE_CONFIG: INVOICES_CONFIG, CI: 'true' },
  });
}

/**
 * Makes this process (this test file: vitest isolates modules per file) serve the invoices
 * example: the authorizer's policies, the handlers' catalogue, the emulator's routes. Call it at
 * the top level, before `createGateway` and before any handler runs.
 */
export async function useInvoicesExample(): Promise<LoadedDeployment> {
  const loaded = await loadInvoicesExample();
  useDeployment(loaded.spec, loaded.configDir);
  return loaded;
}
