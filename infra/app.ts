import { App } from 'aws-cdk-lib';
import { KeygateStack } from './keygate-stack.js';

// Environment-agnostic on purpose: no account/region, no context lookups, so `cdk synth` needs
// neither AWS credentials nor the network.
const app = new App();
new KeygateStack(app, 'Keygate', {
  description: 'Keygate: self-hosted, SendGrid-compatible API keys',
});
app.synth();
