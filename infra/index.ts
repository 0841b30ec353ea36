/**
 * Keygate for a team's CDK app: `import { Keygate } from 'keygate'`. The construct, its stack,
 * and what a config needs. A team's handlers import from `keygate/runtime` instead (no CDK).
 */

export { DEFAULT_SPEC, type DeploymentSpec } from '../shared/deployment/deployment.js';
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
export {
  Keygate,
  type KeygateProps,
  type KeygateRouteOptions,
  type KeygateThrottling,
} from './constructs/keygate.js';
export { KeygateStack, type KeygateStackProps } from './keygate-stack.js';
