import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { keygatePropsFromContext } from './context.js';
import { KeygateStack } from './keygate-stack.js';

// Environment-agnostic on purpose: no account/region, no context lookups, so `cdk synth` needs
// neither AWS credentials nor the network. Settings come from CDK context (`-c key=value`, see
// infra/context.ts). cdk-nag's AwsSolutions pack runs on every synth: an unacknowledged finding
// fails it.
const app = new App();
new KeygateStack(app, 'Keygate', {
  description: 'Keygate: self-hosted, SendGrid-compatible API keys',
  ...keygatePropsFromContext((key) => app.node.tryGetContext(key)),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
