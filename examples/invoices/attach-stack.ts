import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, Stack, type StackProps } from 'aws-cdk-lib';
import { MockIntegration, PassthroughBehavior, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Keygate, loadDeploymentSpec } from 'keygate';

/**
 * The team's CDK app, with Keygate ATTACHED to the REST API the team already has: Keygate puts
 * its authorizer, its key routes (`/v3/api_keys`, …) and the routes of `keygate.config.ts`
 * (`/v1/invoices`, …) on it, beside what was there (`GET /status` here). The team's stage
 * settings stay the team's.
 *
 * Synthesize it (the web console must be built first):
 *   npm run build:console && npx cdk synth --app 'node --import tsx examples/invoices/attach-stack.ts'
 */

const here = dirname(fileURLToPath(import.meta.url));

export async function invoicesStack(app: App, id = 'Invoices', props: StackProps = {}) {
  const stack = new Stack(app, id, props);

  // The API the team had before Keygate: a public status route.
  const api = new RestApi(stack, 'InvoicesApi', {
    description: 'The invoices API',
    deployOptions: { stageName: 'prod' },
  });
  api.root.addResource('status').addMethod(
    'GET',
    new MockIntegration({
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      passthroughBehavior: PassthroughBehavior.NEVER,
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': '{"ok": true}' } },
      ],
    }),
    { methodResponses: [{ statusCode: '200' }] },
  );

  // keygate.config.ts beside this file, and its committed keygate.lock.json.
  const loaded = await loadDeploymentSpec({
    cwd: here,
    env: { ...process.env, KEYGATE_CONFIG: 'keygate.config.ts' },
  });
  const keygate = new Keygate(stack, 'Keygate', {
    restApi: api,
    deployment: { spec: loaded.spec, configDir: here },
  });
  return { stack, api, keygate };
}

// Run as a CDK app (`--app`), not when imported.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { App } = await import('aws-cdk-lib');
  const app = new App();
  await invoicesStack(app);
  app.synth();
}
