import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, Validations } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NAG_ACKNOWLEDGEMENTS } from './nag.js';

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

export interface KeygateFunctionProps {
  /** Entry under `functions/`, without extension (`api-keys/create`). */
  readonly handler: string;
  readonly description: string;
  /** What the function may do beyond writing its own log group. */
  readonly statements: readonly PolicyStatement[];
  readonly environment: Readonly<Record<string, string>>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
}

/**
 * One Keygate Lambda function with its own log group and its own role:
 *
 * - `NodejsFunction` bundled by the locally installed esbuild (never Docker): ESM, node22,
 *   minified, source maps (`NODE_OPTIONS=--enable-source-maps`), the AWS SDK bundled.
 * - nodejs22.x on arm64, JSON logging into an explicit log group with retention.
 * - A role holding an inline policy: `CreateLogStream`/`PutLogEvents` on its log group only
 *   (not the AWSLambdaBasicExecutionRole managed policy, which reaches every log group), plus
 *   exactly `statements`.
 */
export class KeygateFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: KeygateFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (least privilege)`,
      inlinePolicies: {
        access: new PolicyDocument({
          statements: [
            new PolicyStatement({
              sid: 'OwnLogGroup',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logGroup.logGroupArn],
            }),
            ...props.statements,
          ],
        }),
      },
    });
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: join(REPO_ROOT, 'functions', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK versions the tests ran against (package-lock.json), in one minified file,
        // rather than whichever SDK the runtime ships that week.
        bundleAwsSDK: true,
        banner: ESM_REQUIRE_BANNER,
      },
    });
    Validations.of(this.function).acknowledge(NAG_ACKNOWLEDGEMENTS.lambdaRuntime);
  }
}
