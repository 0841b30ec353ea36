import {
  DEFAULT_SPEC,
  type Deployment,
  type DeploymentSpec,
  deploymentOf,
} from '../deployment/deployment.js';
import type { DeclaredPlans } from '../domain/limits.js';
import { useScopeRegistry } from '../domain/scope-codes.js';

/**
 * The deployment this process serves (`shared/deployment`): in a Lambda bundle, the spec esbuild
 * inlined at synth (`__KEYGATE_DEPLOYMENT__`: the routes and catalogue travel in the code, with no
 * 4 KB environment limit); in the local runtime and the tests, the one `useDeployment` set, or
 * `KEYGATE_DEPLOYMENT` (JSON) for a child process; otherwise SendGrid's service, exactly.
 */

declare const __KEYGATE_DEPLOYMENT__: DeploymentSpec | undefined;

/** The environment variable a local parent hands its deployment to a child process with. */
export const DEPLOYMENT_ENV = 'KEYGATE_DEPLOYMENT';

let active: Deployment | undefined;
let configDir: string | undefined;

export function activeDeployment(): Deployment {
  if (active) return active;
  const inlined =
    typeof __KEYGATE_DEPLOYMENT__ === 'undefined' ? undefined : __KEYGATE_DEPLOYMENT__;
  const fromEnv = process.env[DEPLOYMENT_ENV];
  const spec = inlined ?? (fromEnv ? (JSON.parse(fromEnv) as DeploymentSpec) : DEFAULT_SPEC);
  return install(spec);
}

/**
 * Serves `spec` in this process (the local runtime, the CLI, tests); `dir` is the config file's
 * directory, where the team's handlers are found.
 */
export function useDeployment(spec: DeploymentSpec, dir?: string): Deployment {
  configDir = dir;
  return install(spec);
}

/** The directory of the config file the team's handlers are relative to (local only). */
export function teamHandlersDir(): string | undefined {
  return configDir;
}

function install(spec: DeploymentSpec): Deployment {
  active = deploymentOf(spec);
  useScopeRegistry(active.scopeRegistry);
  return active;
}

/** Whether the deployment this process serves declares plans (a property read per request). */
export function plansDeclared(): boolean {
  return (activeDeployment().spec.plans?.length ?? 0) > 0;
}

/** The plans the deployment this process serves declares, and its default plan. */
export function declaredPlans(): DeclaredPlans {
  const { plans = [], defaultPlan } = activeDeployment().spec;
  return { plans, defaultPlan };
}
