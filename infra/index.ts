/**
 * Keygate for a team's CDK app: `import { Keygate } from 'keygate'`. The construct, its stack,
 * what a config needs, and the `-c keygate:*` settings of docs/deploy.md
 * (`keygatePropsFromContext((key) => app.node.tryGetContext(key))`). A team's handlers import
 * from `keygate/runtime` instead (no CDK).
 */

export {
  DEFAULT_SPEC,
  type Deployment,
  type DeploymentSpec,
} from '../shared/deployment/deployment.js';
export {
  CONFIG_ENV,
  ConfigError,
  LOCK_FILE,
  type LoadedDeployment,
  loadDeploymentSpec,
} from '../shared/deployment/load.js';
export {
  defineConfig,
  type TeamArea,
  type TeamConfig,
  type TeamRoute,
} from '../shared/deployment/team-config.js';
export type { KeyType } from '../shared/domain/scopes.js';
export type { HttpMethod } from '../shared/routes.js';
export {
  ACCESS_LOG_FIELDS,
  Keygate,
  type KeygateProps,
  type KeygateRouteOptions,
  type KeygateThrottling,
} from './constructs/keygate.js';
export type { KeygateConsole, KeygateConsoleDomain } from './constructs/keygate-console.js';
export type { KeygateTables } from './constructs/keygate-tables.js';
export type { KeygateSourceLimits } from './constructs/source-limits.js';
export { CONTEXT_KEYS, keygatePropsFromContext } from './context.js';
export { KeygateStack, type KeygateStackProps } from './keygate-stack.js';
