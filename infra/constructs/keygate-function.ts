import { isAbsolute, join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  SystemLogLevel,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  entryFile,
  LAMBDA_BUNDLING,
  LAMBDA_NODE_OPTIONS,
  LAMBDA_RUNTIME,
  REPO_ROOT,
} from './bundling.js';

export interface KeygateFunctionProps {
  /**
   * Entry under `functions/`, without extension (`api-keys/create`), or an absolute file (a
   * team route's generated wrapper).
   */
  readonly handler: string;
  /**
   * Where esbuild runs and the lock file is (every entry must be below it): the repository, or
   * the project of a team that installed Keygate as a package.
   *
   * @default the repository root
   */
  readonly projectRoot?: string;
  /**
   * The deployment spec inlined into the bundle (esbuild `define` of `__KEYGATE_DEPLOYMENT__`):
   * a team's routes and catalogue travel in the code, with no 4 KB environment limit. Unset:
   * SendGrid's service, and bundles byte-identical to the cold-start bench's.
   */
  readonly deploymentJson?: string;
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
 * - `NodejsFunction` bundled by the locally installed esbuild (never Docker) with
 *   {@link LAMBDA_BUNDLING}: ESM, node24, minified, source maps
 *   (`NODE_OPTIONS=--enable-source-maps`), the AWS SDK bundled.
 * - {@link LAMBDA_RUNTIME} (nodejs24.x) on arm64, JSON logging into an explicit log group with
 *   retention. It is the newest Node.js runtime aws-cdk-lib knows, so cdk-nag's AwsSolutions-L1
 *   has nothing to say; once CDK knows a newer one, the nag tests fail and ask for the move.
 * - A role holding an inline policy: `CreateLogStream`/`PutLogEvents` on its log group only
 *   (not the AWSLambdaBasicExecutionRole managed policy, which reaches every log group), plus
 *   exactly `statements`.
 */
export class KeygateFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** The source file bundled (`<repo>/functions/<handler>.ts`). */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: KeygateFunctionProps) {
    super(scope, id);
    this.entry = isAbsolute(props.handler) ? props.handler : entryFile(props.handler);
    const projectRoot = props.projectRoot ?? REPO_ROOT;
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
      entry: this.entry,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: { NODE_OPTIONS: LAMBDA_NODE_OPTIONS, ...props.environment },
      // The settings the cold-start bench (scripts/bench/cold-start.ts) bundles with too.
      bundling: {
        forceDockerBundling: false,
        ...LAMBDA_BUNDLING,
        ...(props.deploymentJson === undefined
          ? {}
          : { define: { __KEYGATE_DEPLOYMENT__: props.deploymentJson } }),
      },
    });
  }
}
