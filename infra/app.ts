import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadDeploymentSpec } from '../shared/deployment/load.js';
import { keygatePropsFromContext } from './context.js';
import { KeygateStack } from './keygate-stack.js';

// Environment-agnostic on purpose: no account/region, no context lookups, so `cdk synth` needs
// neither AWS credentials nor the network. Settings come from CDK context (`-c key=value`, see
// infra/context.ts). cdk-nag's AwsSolutions pack runs on every synth: an unacknowledged finding
// fails it.
//
// The team's config (KEYGATE_CONFIG, or keygate.config.ts here) decides what the API serves; a
// mistake in it stops the synth in one line.
let loaded: Awaited<ReturnType<typeof loadDeploymentSpec>>;
try {
  loaded = await loadDeploymentSpec();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
if (loaded.lockWritten) process.stderr.write('keygate.lock.json updated: commit it\n');
const app = new App();
new KeygateStack(app, 'Keygate', {
  description: 'Keygate: self-hosted, SendGrid-compatible API keys',
  ...keygatePropsFromContext((key) => app.node.tryGetContext(key)),
  deployment: {
    spec: loaded.spec,
    ...(loaded.configDir === undefined ? {} : { configDir: loaded.configDir }),
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
