import {
  ArnFormat,
  Aws,
  Duration,
  Lazy,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  type CfnStage,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  RequestAuthorizer,
  type RequestValidator,
  Resource,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  FilterCriteria,
  FilterRule,
  type IFunction,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FLUSH_MARK } from '../../shared/adapters/dynamodb/flush-lease.js';
import { WARNING_WRITE_ATTRIBUTES } from '../../shared/adapters/dynamodb/key-warnings.js';
import type { DeployedRoute } from '../../shared/deployment/deployment.js';
import {
  DEFAULT_SPEC,
  type Deployment,
  type DeploymentSpec,
  deploymentOf,
  isSendGridServiceExactly,
} from '../../shared/deployment/deployment.js';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import { assertKeyPrefix, DEFAULT_KEY_PREFIX } from '../../shared/domain/key-format.js';
import { warningSettings, warnsAtAll } from '../../shared/domain/key-warnings.js';
import type { KeyType } from '../../shared/domain/scopes.js';
import {
  DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS,
  GATEWAY_RESPONSES,
  type GatewayResponseSpec,
  type GatewayResponseType,
  gatewayResponseTemplate,
  IDENTITY_SOURCES,
  routeArn,
} from '../../shared/gateway/api-gateway.js';
import { type HttpMethod, ROUTE_FUNCTION_DEFAULTS, type RouteId } from '../../shared/routes.js';
import { DEFAULT_KEY_LIMIT } from '../../shared/runtime/config.js';
import { EVENT_BUS_ENV } from '../../shared/runtime/event-publisher.js';
import {
  EXTRA_ROUTE_PATH,
  EXTRA_ROUTES_ENV,
  type ExtraRoute,
  serializeExtraRoutes,
} from '../../shared/runtime/extra-routes.js';
import { TABLES } from '../../shared/tables.js';
import { SAM_DYNAMODB_ENDPOINT_ENV } from '../local-recipes.js';
import {
  AUDIT_EVENTS_HANDLER,
  AUTHORIZER_HANDLER,
  CACHE_FLUSHER_HANDLER,
  KEY_WARNINGS_HANDLER,
} from './bundling.js';
import { KeygateConsole, type KeygateConsoleDomain } from './keygate-console.js';
import { KeygateFunction } from './keygate-function.js';
import { KeygateMonitoring, keygateMetric } from './keygate-monitoring.js';
import { KeygateTables } from './keygate-tables.js';
import { NAG_ACKNOWLEDGEMENTS } from './nag.js';
import { pascalCase } from './names.js';
import {
  AUDIT_EVENTS_PERMISSIONS,
  AUTHORIZER_PERMISSIONS,
  CACHE_FLUSHER_PERMISSIONS,
  keyWarningsPermissions,
  type Permission,
  permissionsOf,
  type TableName,
} from './permissions.js';
import { KeygateSourceLimits } from './source-limits.js';
import { projectRootOf, teamWrapperEntry } from './team-routes.js';

/**
 * Memory sizes from the cost model (docs/cost.md, "Memory sizes"; `scripts/bench/memory.ts`
 * measures, `scripts/bench/cost-model.ts` chooses). Lambda gives CPU in proportion to memory, a
 * whole vCPU at 1,769 MB. The route functions' INIT, first call and SDK calls are CPU-bound, so
 * one vCPU buys them latency at nearly the same GB-seconds. The authorizer also waits on one or
 * two DynamoDB round trips, billed at its size: 1,024 MB and 1,280 MB score within a few percent
 * of each other, and it stays at 1,024 MB.
 */
export const AUTHORIZER_MEMORY_MB = 1024;
export { ROUTE_MEMORY_MB, TEAM_ROUTE_MEMORY_MB } from '../../shared/routes.js';

/** Lambda's limit is 4 KB for all environment variables of a function together. */
const MAX_EXTRA_ROUTES_BYTES = 3 * 1024;

/** Stage throttling: steady-state requests per second and burst, for the whole stage. */
export interface KeygateThrottling {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface KeygateProps {
  /**
   * Prefix of every key this deployment issues and accepts (`<prefix>.<id>.<secret>`).
   *
   * @default 'SG' (SendGrid's shape, so SendGrid's clients accept the keys)
   */
  readonly keyPrefix?: string;
  /**
   * Keys an account may hold when it is bootstrapped without its own limit. Only account
   * creation reads it (`keygate bootstrap`), so the stack publishes it as an output.
   *
   * @default 100
   */
  readonly defaultKeyLimit?: number;
  /**
   * How long API Gateway caches an authorizer result per `Authorization` header. Deletes and
   * scope changes flush the cache, so this bounds the exposure only when a flush fails.
   *
   * @default Duration.seconds(300)
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * Stage-wide throttling.
   *
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttling?: KeygateThrottling;
  /**
   * The Amazon SES identity mail is sent as: a verified address (`noreply@example.com`) or
   * domain (`example.com`). Unset: `POST /v3/mail/send` refuses every sender (403) and its
   * function holds no SES permission.
   *
   * @default - no identity, no mail
   */
  readonly sesIdentity?: string;
  /**
   * Only while the SES account is in the sandbox: the verified identities (addresses or domains)
   * mail may be sent to. In the sandbox SES also authorizes `ses:SendEmail` against each
   * recipient's identity, so a policy on `sesIdentity` alone is denied (AccessDenied, answered
   * 403). Each one is added, exactly, to the mail function's `ses:SendEmail` resources
   * (`identity/<entry>`): list what SES names in its AccessDenied message, usually the
   * recipient's address. Leave unset once the account has production access. Needs
   * `sesIdentity`.
   *
   * @default - none: production access assumed
   */
  readonly sesSandboxRecipients?: readonly string[];
  /**
   * What happens to the DynamoDB tables when they leave the stack or the stack is deleted.
   * Retained tables (the default) also have deletion protection; with `DESTROY` it is off, so
   * deleting the stack deletes them.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The API Gateway stage.
   *
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Retention of the functions' logs and the API's access and execution logs.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Whether to set API Gateway's CloudWatch role for the whole account and region
   * (`AWS::ApiGateway::Account`, retained when the stack goes). It is one setting per account
   * and region: it replaces whatever role another stack or person set, so it is opt-in. The
   * stage's logs (`stageLogs`) need some role to be set there already.
   *
   * @default false
   */
  readonly cloudWatchRole?: boolean;
  /**
   * Whether the stage writes access logs (JSON, no header) and execution logs (ERROR only).
   * API Gateway writes both through the account's CloudWatch role: without one (see
   * `cloudWatchRole`) the deployment fails with "CloudWatch Logs role ARN must be set in account
   * settings to enable logging", and a first deployment that fails half-way leaves its retained
   * tables behind. So they are on by default only when this stack sets the role; an account
   * that already has one turns them on with `true`. Off, the functions and the authorizer still
   * log to their own log groups.
   *
   * @default - the value of `cloudWatchRole` (false)
   */
  readonly stageLogs?: boolean;
  /**
   * Whether to put an AWS WAF web ACL on the stage that limits each source address on the routes
   * that declare a per-source limit (the public `POST /v3/api_keys/revoke-leaked`: 10 requests a
   * minute per address), so junk from one address cannot keep a genuine leak report out. It
   * costs (us-east-1) $5 a month for the web ACL, $1 per rule and $0.60 per million requests
   * inspected (every request to the stage). `false` leaves it out; the route keeps its shared
   * throttle only.
   *
   * @default true
   */
  readonly sourceLimits?: boolean;
  /**
   * Whether to host the web console ({@link KeygateConsole}): `console/dist` in a private S3
   * bucket behind a CloudFront distribution that also routes the API's paths to the stage, so
   * the console and the API share one origin. Needs the console built (`npm run build:console`)
   * before synth. The buckets follow `removalPolicy`.
   *
   * @default true
   */
  readonly console?: boolean;
  /**
   * A custom domain for the console's distribution (with its us-east-1 ACM certificate; the DNS
   * record is yours). With it, viewers need TLS 1.2 or later.
   *
   * @default - the distribution's `*.cloudfront.net` domain
   */
  readonly consoleDomain?: KeygateConsoleDomain;
  /**
   * What the API serves: a team's config as `loadDeploymentSpec` (`keygate/deployment`) reads it,
   * with the directory its handlers are relative to. Its routes get one function each, bundled
   * with Keygate's wrapper; its catalogue and routes travel inside every bundle.
   *
   * @default SendGrid's service, exactly
   */
  readonly deployment?: { readonly spec: DeploymentSpec; readonly configDir?: string };
  /**
   * A REST API the team already has: Keygate puts its authorizer, its key routes and the team's
   * routes on it (and its gateway responses, in SendGrid's envelope) instead of creating one.
   * The stage's settings stay the team's: Keygate's stage throttling, access log format and
   * per-route throttles are not applied (its per-source WAF limits are).
   *
   * @default a new regional REST API
   */
  readonly restApi?: RestApi;
  /**
   * Whether to make the operator's CloudWatch dashboard and alarms ({@link KeygateMonitoring}:
   * authorizer errors and p99 duration, the stage's 5xx rate, authorizer-cache flush failures,
   * the lifecycle-events publisher, DynamoDB throttles per table; runbook in
   * docs/operations.md). A few dollars a month: alarms are billed per alarm metric and month (the
   * throttle alarms' metric math holds 2 to 6 metrics each), dashboards beyond the free tier's
   * three (https://aws.amazon.com/cloudwatch/pricing/). The revocation alarms of the trailing
   * flusher ({@link KeygateCacheFlusher}) stay either way.
   *
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * Where esbuild runs and the lock file is: the repository, or the project of a team that
   * installed Keygate as a package (every entry, Keygate's included, must be below it).
   *
   * @default the directory of the nearest package-lock.json above the working directory
   */
  readonly projectRoot?: string;
}

/** A route of your own behind Keygate's authorizer (see {@link Keygate.addRoute}). */
export interface KeygateRouteOptions {
  readonly method: HttpMethod;
  /** Resource path, `{param}` for path parameters, e.g. `/v3/reports/{report_id}`. */
  readonly path: string;
  /** Scopes a key must all hold; from the deployment's catalogue, at least one. */
  readonly scopes: readonly string[];
  /**
   * Key types that may call the route at all.
   *
   * @default ['owner', 'general']
   */
  readonly keyTypes?: readonly KeyType[];
  /**
   * The function that serves it (Lambda proxy integration). Its permissions are yours. Keygate
   * cannot wrap a function it did not build, so such a route's method uses the authorizer with
   * its result cache off: every request is verified, so an expired, revoked or retired secret is
   * refused on the very next request (a cached allow would otherwise serve it for the TTL). It
   * costs one authorizer call and one DynamoDB read per request to the route.
   */
  readonly handler: IFunction;
}

/** The JSON access log line of the stage: no header, no body, no key. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  // The route's template, never the request path: a key sent in a path would be logged.
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
  keyId: '$context.authorizer.keyId',
  accountId: '$context.authorizer.accountId',
  authorizerStatus: '$context.authorizer.status',
  authorizerLatencyMs: '$context.authorizer.latency',
  authorizerError: '$context.authorizer.error',
} as const;

export interface KeygateKeyWarnings {
  readonly function: NodejsFunction;
  readonly schedule: Rule;
  /** The scan failed (a storage fault, its timeout): the next hourly run catches up. */
  readonly alarm: Alarm;
}

/**
 * How often the key-warnings scan runs: hourly, so a warning is recorded within the hour it
 * becomes due (a "1 day" warning with at least 23 hours left), at 720 scans a month
 * (docs/limits.md#warnings gives their read cost).
 */
export const KEY_WARNINGS_RATE = Duration.hours(1);

export interface KeygateCacheFlusher {
  readonly function: NodejsFunction;
  /** A revocation waited past its bound; the flusher failed with marks pending. */
  readonly alarms: readonly Alarm[];
}

interface FunctionSpec {
  /** Construct ID of the {@link KeygateFunction}. */
  id: string;
  /** Entry under `functions/`, without extension. */
  handler: string;
  description: string;
  permissions: readonly Permission[];
  environment?: Record<string, string>;
  memorySize: number;
  timeout: Duration;
}

/**
 * Keygate on AWS: a regional API Gateway REST API whose methods are built from the route table
 * (`shared/routes.ts`), one Lambda function per route, the REQUEST authorizer on every
 * non-public method, and the DynamoDB tables ({@link KeygateTables}).
 *
 * - Every function has its own role holding only what its code uses (see
 *   `infra/constructs/permissions.ts`) and writing only its own log group.
 * - Gateway responses (401, 403, unknown route 404, 413, 429, 4xx, 5xx) use SendGrid's error
 *   envelope; access logs are JSON without headers.
 * - Deletes and scope changes flush the stage's authorizer cache (their functions alone may);
 *   a failed flush is logged and counted, and exposure is then bounded by the cache TTL.
 *
 * @example
 * const keygate = new Keygate(stack, 'Keygate', {
 *   sesIdentity: 'example.com',
 *   authorizerCacheTtl: Duration.seconds(60),
 *   throttling: { rateLimit: 50, burstLimit: 100 },
 * });
 * // A route of your own, behind the same authorizer:
 * keygate.addRoute({ method: 'GET', path: '/v3/reports', scopes: ['stats.read'], handler: fn });
 */
export class Keygate extends Construct {
  readonly tables: KeygateTables;
  readonly api: RestApi;
  readonly stageName: string;
  readonly authorizer: RequestAuthorizer;
  /** The per-source limits' web ACL; undefined with `sourceLimits: false`. */
  readonly sourceLimits: KeygateSourceLimits | undefined;
  readonly authorizerFunction: NodejsFunction;
  /** One function per route of the route table. */
  readonly routeFunctions: ReadonlyMap<RouteId, NodejsFunction>;
  /** One function per route of the team's config, by route ID (`GET /v1/invoices`). */
  readonly teamFunctions: ReadonlyMap<string, NodejsFunction>;
  /** The trailing authorizer-cache flusher and its alarms (revocation past its bound). */
  readonly cacheFlusher: KeygateCacheFlusher;
  /**
   * The deployment's lifecycle events: every key and account change, published from the audit
   * table's stream (`source: 'keygate'`, `detail-type` the audit action; docs/events.md). Add
   * your rules to it.
   */
  readonly eventBus: EventBus;
  /** The publisher on the audit table's stream. */
  readonly auditEventsFunction: NodejsFunction;
  /**
   * The key-warnings scan, hourly (docs/limits.md#warnings), with its schedule and its failure
   * alarm; undefined when the config turns every warning off.
   */
  readonly keyWarnings: KeygateKeyWarnings | undefined;
  /** What the API serves (SendGrid's service, or a team's config). */
  readonly deployment: Deployment;
  /** Every method of the API, by `METHOD path` (the route table's and the added ones). */
  readonly methods: ReadonlyMap<string, Method>;
  readonly keyPrefix: string;
  readonly defaultKeyLimit: number;
  /** The web console and its distribution; undefined with `console: false`. */
  readonly console: KeygateConsole | undefined;
  /** The operator's dashboard and alarms; undefined with `monitoring: false`. */
  readonly monitoring: KeygateMonitoring | undefined;

  private readonly extraRoutes: ExtraRoute[] = [];
  private readonly methodMap = new Map<string, Method>();
  private readonly requestValidator: RequestValidator;
  private readonly logRetention: RetentionDays;
  private readonly sesIdentity: string | undefined;
  private readonly sesSandboxRecipients: readonly string[];
  private readonly authorizerCacheTtl: Duration;
  /** The spec inlined into every bundle; undefined for SendGrid's service (bundles unchanged). */
  private readonly deploymentJson: string | undefined;
  private readonly projectRoot: string;
  private uncachedAuthorizerOf: RequestAuthorizer | undefined;

  constructor(scope: Construct, id: string, props: KeygateProps = {}) {
    super(scope, id);
    const settings = checkedSettings(props);
    this.keyPrefix = settings.keyPrefix;
    this.defaultKeyLimit = settings.defaultKeyLimit;
    const { ttl, throttling } = settings;
    this.stageName = settings.stageName;
    this.sesIdentity = settings.sesIdentity;
    this.sesSandboxRecipients = settings.sesSandboxRecipients;
    this.logRetention = settings.logRetention;
    const spec = props.deployment?.spec ?? DEFAULT_SPEC;
    this.deployment = deploymentOf(spec);
    this.deploymentJson = isSendGridServiceExactly(spec) ? undefined : JSON.stringify(spec);
    this.projectRoot = props.projectRoot ?? projectRootOf(process.cwd());
    const configDir = props.deployment?.configDir;
    if (this.deployment.teamRoutes.length > 0 && configDir === undefined) {
      throw new Error(
        "deployment.configDir is required: the team routes' handlers are relative to it",
      );
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.tables = new KeygateTables(this, 'Tables', { removalPolicy });

    // Opt-in: an AWS::ApiGateway::Account silently replaces the account's one CloudWatch role
    // ("To avoid overwriting other roles, you should only have one AWS::ApiGateway::Account
    // resource per region per account":
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html).
    // A plain `cdk deploy` must work in any account: stage logs only where a role is sure to be set.
    const stageLogs = props.stageLogs ?? props.cloudWatchRole ?? false;
    this.api =
      props.restApi ??
      this.createApi(throttling, { cloudWatchRole: props.cloudWatchRole ?? false, stageLogs });
    if (!props.restApi) {
      // The URL is the stack's ApiUrl output; RestApi's own hashed-name output would duplicate it.
      this.api.node.tryRemoveChild('Endpoint');
    }
    if (!props.restApi && stageLogs) {
      // API Gateway creates the execution log group on first use, without retention; create it
      // first, with retention, so the stage never writes to an unmanaged group.
      const executionLogs = new LogGroup(this, 'ExecutionLogs', {
        logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${this.stageName}`,
        retention: this.logRetention,
      });
      this.api.deploymentStage.node.addDependency(executionLogs);
    }
    this.addGatewayResponses();
    // Body validation has no model to apply: the handlers validate bodies with the zod schemas
    // and answer SendGrid's own messages, which a gateway model would pre-empt with a generic
    // 400. Declared parameters (path parameters) are checked at the gateway.
    this.requestValidator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    this.authorizerCacheTtl = ttl;
    this.authorizerFunction = this.createAuthorizerFunction();
    this.authorizer = new RequestAuthorizer(this, 'KeyAuthorizer', {
      handler: this.authorizerFunction,
      identitySources: [...IDENTITY_SOURCES],
      resultsCacheTtl: ttl,
    });

    const { functions, teamFunctions } = this.createRouteFunctions(configDir);
    this.routeFunctions = functions;
    this.teamFunctions = teamFunctions;
    this.cacheFlusher = this.createCacheFlusher();
    this.eventBus = new EventBus(this, 'EventBus', {
      description: 'Keygate lifecycle events: every key and account change (docs/events.md)',
    });
    this.auditEventsFunction = this.createAuditEventsPublisher();
    this.keyWarnings = this.createKeyWarningsScan();
    this.methods = this.methodMap;

    const limited = this.deployment.routes.filter((route) => route.sourceLimit);
    this.sourceLimits =
      props.sourceLimits === false || limited.length === 0
        ? undefined
        : new KeygateSourceLimits(this, 'SourceLimits', {
            stageArn: this.api.deploymentStage.stageArn,
            stageName: this.stageName,
            routes: limited,
          });
    this.acknowledgeNagFindings(!props.restApi && !stageLogs);

    this.monitoring = props.monitoring === false ? undefined : this.createMonitoring();

    this.console =
      props.console === false
        ? undefined
        : new KeygateConsole(this, 'Console', {
            api: this.api,
            apiPaths: this.deployment.routes.map((route) => route.path),
            removalPolicy,
            logRetention: this.logRetention,
            ...(props.consoleDomain ? { domain: props.consoleDomain } : {}),
          });
  }

  /** The authorizer's function: one per deployment, its routes read from the table and extras. */
  private createAuthorizerFunction(): NodejsFunction {
    return this.createFunction({
      id: 'Authorizer',
      handler: AUTHORIZER_HANDLER,
      description: 'Keygate REQUEST authorizer: verifies the key, returns its policy',
      permissions: AUTHORIZER_PERMISSIONS,
      environment: {
        [EXTRA_ROUTES_ENV]: Lazy.string({ produce: () => serializeExtraRoutes(this.extraRoutes) }),
      },
      memorySize: AUTHORIZER_MEMORY_MB,
      timeout: Duration.seconds(10),
    });
  }

  /** cdk-nag's findings that are choices here, each acknowledged with its reason. */
  private acknowledgeNagFindings(withoutStageLogs: boolean): void {
    Validations.of(this.api).acknowledge(NAG_ACKNOWLEDGEMENTS.noCognito);
    if (!this.sourceLimits) {
      Validations.of(this.api.deploymentStage).acknowledge(NAG_ACKNOWLEDGEMENTS.noWaf);
    }
    if (withoutStageLogs) {
      Validations.of(this.api.deploymentStage).acknowledge(
        NAG_ACKNOWLEDGEMENTS.noAccessLogs,
        NAG_ACKNOWLEDGEMENTS.noExecutionLogs,
      );
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole)
      Validations.of(cloudWatchRole).acknowledge(NAG_ACKNOWLEDGEMENTS.cloudWatchRole);
  }

  private createApi(
    throttling: KeygateThrottling,
    logging: { cloudWatchRole: boolean; stageLogs: boolean },
  ): RestApi {
    return new RestApi(this, 'Api', {
      restApiName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      description: 'Keygate: self-hosted, SendGrid-compatible API keys',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: logging.cloudWatchRole,
      deployOptions: {
        stageName: this.stageName,
        // Both kinds of stage log go through the account's CloudWatch role: "To enable
        // CloudWatch Logs, you must grant API Gateway permission to read and write logs to
        // CloudWatch for your account" (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html);
        // without it the stage update fails ("CloudWatch Logs role ARN must be set in account
        // settings to enable logging"), so a deployment never runs with logs silently missing.
        ...(logging.stageLogs
          ? {
              accessLogDestination: new LogGroupLogDestination(
                new LogGroup(this, 'AccessLogs', { retention: this.logRetention }),
              ),
              accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
              // Execution logs at ERROR only, never request or response data (it would hold keys).
              loggingLevel: MethodLoggingLevel.ERROR,
            }
          : { loggingLevel: MethodLoggingLevel.OFF }),
        dataTraceEnabled: false,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        // Routes with their own, tighter limits (public routes that do work).
        methodOptions: Object.fromEntries(
          this.deployment.routes
            .filter((r) => r.throttle)
            .map((r) => [
              `${r.path}/${r.method}`,
              {
                throttlingRateLimit: r.throttle?.rateLimit,
                throttlingBurstLimit: r.throttle?.burstLimit,
              },
            ]),
        ),
      },
    });
  }

  /** The stage's base URL (`https://{id}.execute-api.{region}.amazonaws.com/{stage}/`). */
  get url(): string {
    return this.api.url;
  }

  /** The web console's URL (`https://<distribution or custom domain>/`), if it is hosted. */
  get consoleUrl(): string | undefined {
    return this.console?.url;
  }

  /**
   * Adds a route of your own behind Keygate's authorizer: the method gets the REQUEST
   * authorizer, and the authorizer's policies include the route (through its
   * `KEYGATE_EXTRA_ROUTES` environment variable), so a key reaches it exactly when it holds
   * every scope and is of an allowed type. Works before or after other routes are added.
   * With the console on, the distribution routes the path's first segment to the API too
   * (`/v3/reports/{id}` → `/v3/*`), so the path must start with a fixed segment that is not a
   * file or folder of the built console.
   *
   * @example
   * keygate.addRoute({
   *   method: 'GET',
   *   path: '/v3/reports/{report_id}',
   *   scopes: ['stats.read'],
   *   handler: reportsFunction,
   * });
   */
  addRoute(options: KeygateRouteOptions): Method {
    const { method, path, scopes } = options;
    const keyTypes = options.keyTypes ?? ['owner', 'general'];
    const where = `addRoute(${method} ${path})`;
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      throw new Error(`${where}: method must be GET, POST, PUT, PATCH or DELETE`);
    }
    if (!EXTRA_ROUTE_PATH.test(path)) {
      throw new Error(`${where}: path must look like /v3/reports/{report_id}`);
    }
    if (scopes.length === 0) throw new Error(`${where}: at least one scope is required`);
    const unknown = scopes.filter((s) => !this.deployment.catalogue.isKnown(s));
    if (unknown.length > 0) {
      throw new Error(
        `${where}: ${unknown.join(', ')} not in the scope catalogue; no key could hold it`,
      );
    }
    if (
      keyTypes.length === 0 ||
      !keyTypes.every((t) => ['owner', 'general', 'billing'].includes(t))
    ) {
      throw new Error(`${where}: keyTypes must be a non-empty list of owner, general, billing`);
    }
    const route: ExtraRoute = { method, path, scopes: [...scopes], keyTypes: [...keyTypes] };
    if (
      Buffer.byteLength(serializeExtraRoutes([...this.extraRoutes, route])) > MAX_EXTRA_ROUTES_BYTES
    ) {
      throw new Error(
        `${where}: the added routes no longer fit the authorizer's environment (${MAX_EXTRA_ROUTES_BYTES} bytes)`,
      );
    }
    // With the console on, the distribution must be able to route the path to the API.
    this.console?.checkApiPath(path);
    const added = this.addMethod(method, path, options.handler, this.uncachedAuthorizer());
    this.extraRoutes.push(route);
    this.console?.addApiPath(path);
    return added;
  }

  /**
   * The same authorizer function with its result cache off, for the methods whose handler
   * Keygate cannot wrap (see {@link KeygateRouteOptions.handler}); made on first use. With the
   * cache off already, it is the main one.
   */
  private uncachedAuthorizer(): RequestAuthorizer {
    if (this.authorizerCacheTtl.toSeconds() === 0) return this.authorizer;
    this.uncachedAuthorizerOf ??= new RequestAuthorizer(this, 'UncachedKeyAuthorizer', {
      handler: this.authorizerFunction,
      identitySources: [...IDENTITY_SOURCES],
      resultsCacheTtl: Duration.seconds(0),
    });
    return this.uncachedAuthorizerOf;
  }

  /** `authorizer`: the method's authorizer (the cached one with `true`), or none (public). */
  private addMethod(
    method: HttpMethod,
    path: string,
    handler: IFunction,
    authorizer: RequestAuthorizer | boolean,
  ): Method {
    const keyed = authorizer !== false;
    const name = `${method} ${path}`;
    const matchKey = routeArn('', method, path);
    for (const existing of this.methodMap.keys()) {
      const [m = '', p = ''] = existing.split(' ');
      if (routeArn('', m, p) === matchKey)
        throw new Error(`${name}: the API already has ${existing}`);
    }
    const resource = this.resourceFor(path);
    const parameters = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const created = resource.addMethod(
      method,
      new LambdaIntegration(handler, { allowTestInvoke: false }),
      {
        ...(keyed
          ? {
              authorizer: authorizer === true ? this.authorizer : authorizer,
              authorizationType: AuthorizationType.CUSTOM,
            }
          : { authorizationType: AuthorizationType.NONE }),
        requestValidator: this.requestValidator,
        ...(parameters.length > 0
          ? {
              requestParameters: Object.fromEntries(
                parameters.map((p) => [`method.request.path.${p}`, true]),
              ),
            }
          : {}),
      },
    );
    this.methodMap.set(name, created);
    return created;
  }

  /**
   * The resource of a path, creating missing segments. API Gateway refuses two different path
   * variables under one parent (`{id}` beside `{api_key_id}`): refused here, at synth.
   */
  private resourceFor(path: string): IResource {
    let current: IResource = this.api.root;
    for (const segment of path.split('/').filter((s) => s !== '')) {
      const existing = current.getResource(segment);
      if (existing) {
        current = existing;
        continue;
      }
      if (segment.startsWith('{')) {
        const sibling = current.node.children
          .filter((c): c is Resource => c instanceof Resource)
          .map((c) => c.path.slice(c.path.lastIndexOf('/') + 1))
          .find((part) => part.startsWith('{'));
        if (sibling) {
          throw new Error(
            `${path}: ${segment} would sit beside ${sibling} under ${current.path}; use the same parameter name`,
          );
        }
      }
      current = current.addResource(segment);
    }
    return current;
  }

  private addGatewayResponses(): void {
    for (const type of Object.keys(GATEWAY_RESPONSES) as GatewayResponseType[]) {
      const response: GatewayResponseSpec = GATEWAY_RESPONSES[type];
      this.api.addGatewayResponse(pascalCase(type.toLowerCase()), {
        type: ResponseType.of(type),
        // None on the defaults: theirs would override every uncustomised type's own status.
        ...(response.status === undefined ? {} : { statusCode: String(response.status) }),
        templates: { 'application/json': gatewayResponseTemplate(type) },
        ...(response.headers
          ? {
              responseHeaders: Object.fromEntries(
                Object.entries(response.headers).map(([name, value]) => [name, `'${value}'`]),
              ),
            }
          : {}),
      });
    }
  }

  /** One function and method per route: Keygate's own (least privilege each) and the team's. */
  /** Whether the team declared plans: then every key route counts usage against them. */
  private get withPlans(): boolean {
    return (this.deployment.spec.plans ?? []).length > 0;
  }

  private createRouteFunctions(configDir: string | undefined) {
    const functions = new Map<RouteId, NodejsFunction>();
    const teamFunctions = new Map<string, NodejsFunction>();
    for (const route of this.deployment.routes) {
      if (route.team) {
        const permissions = permissionsOf(route, this.withPlans);
        const fn = this.createFunction({
          id: `Team${pascalCase(route.id.replace(/[^A-Za-z0-9]+/g, ' '))}`,
          handler: teamWrapperEntry(route, configDir as string, this.projectRoot, this.withPlans),
          description: `Keygate: your ${route.method} ${route.path}`,
          permissions,
          environment: this.environmentFor(permissions),
          ...functionSettings(route),
        });
        teamFunctions.set(route.id, fn);
        this.addMethod(route.method, route.path, fn, true);
        continue;
      }
      const id = route.id as RouteId;
      const permissions = permissionsOf(route, this.withPlans);
      const fn = this.createFunction({
        id: pascalCase(route.id),
        handler: route.handler,
        description: `Keygate ${route.method} ${route.path}`,
        permissions,
        environment: this.environmentFor(permissions),
        ...functionSettings(route),
      });
      functions.set(id, fn);
      const method = this.addMethod(route.method, route.path, fn, route.access.kind === 'key');
      if (route.access.kind === 'public') {
        Validations.of(method).acknowledge(NAG_ACKNOWLEDGEMENTS.publicRoute);
        Validations.of(method).acknowledge(NAG_ACKNOWLEDGEMENTS.publicRouteCognito);
      }
    }
    return { functions, teamFunctions };
  }

  /** The dashboard and alarms over every function, the stage and the tables. */
  private createMonitoring(): KeygateMonitoring {
    return new KeygateMonitoring(this, 'Monitoring', {
      stage: this.api.deploymentStage,
      authorizer: this.authorizerFunction,
      cacheFlusher: this.cacheFlusher.function,
      auditEvents: this.auditEventsFunction,
      functions: new Map<string, IFunction>([
        ['Authorizer', this.authorizerFunction],
        ...[...this.routeFunctions].map(([id, fn]): [string, IFunction] => [id, fn]),
        ...this.teamFunctions,
        ['CacheFlusher', this.cacheFlusher.function],
        ['AuditEvents', this.auditEventsFunction],
        ...(this.keyWarnings ? [['KeyWarnings', this.keyWarnings.function] as const] : []),
      ]),
      tables: this.tables.tables,
    });
  }

  /**
   * The trailing flusher (`functions/cache-flusher/handler.ts`) on the flush lease's stream, and
   * the alarms that say a revocation waited longer than its bound. Records of one item go to one
   * shard in order, and Lambda processes a shard's batches one at a time
   * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), so one flusher runs at a time;
   * a failed batch is retried until its records expire, while the lease keeps the marks.
   */
  private createCacheFlusher(): KeygateCacheFlusher {
    const permissions = CACHE_FLUSHER_PERMISSIONS;
    const fn = this.createFunction({
      id: 'CacheFlusher',
      handler: CACHE_FLUSHER_HANDLER,
      description: 'Keygate: coalesced authorizer-cache flushes (at most one per second)',
      permissions,
      environment: this.environmentFor(permissions),
      memorySize: 256,
      timeout: Duration.seconds(29),
    });
    // A mapping, not `DynamoEventSource`: that one grants the stream through a separate policy;
    // the role's own statements (`readStream`) hold it here, as for every other function.
    fn.addEventSourceMapping('LeaseStream', {
      eventSourceArn: this.tables.flushTable.tableStreamArn as string,
      // Marks made before the mapping existed are flushed too (a spare flush at worst).
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      bisectBatchOnError: false,
      // Marks only; a flush's own writes to the lease wake nothing.
      filters: [
        FilterCriteria.filter({
          dynamodb: { NewImage: { lastWrite: { S: FilterRule.isEqual(FLUSH_MARK) } } },
        }),
      ],
    });
    const boundMissed = new Alarm(this, 'RevocationBoundMissedAlarm', {
      alarmDescription:
        "A revoked or narrowed key stayed usable from the authorizer cache longer than 5 s. Runbook: check the AuthorizerCacheFlushFailed metric and the CacheFlusher logs (TooManyRequestsException: another client is using API Gateway's control-plane quota).",
      metric: keygateMetric(FLUSH_METRICS.boundMissed, Stats.SUM, Duration.minutes(1)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const stuck = new Alarm(this, 'CacheFlusherFailingAlarm', {
      alarmDescription:
        'The trailing flusher ran out of time with revocations still waiting for a flush: revoked keys may be served from the authorizer cache until it recovers (at most the cache TTL). Runbook: read the CacheFlusher logs; check API Gateway throttling and the flush table.',
      metric: fn.metricErrors({ period: Duration.minutes(1), statistic: Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return { function: fn, alarms: [boundMissed, stuck] };
  }

  /**
   * The lifecycle-events publisher (`functions/audit-events/handler.ts`) on the audit table's
   * stream. A batch with events left unpublished fails and is retried until its records expire
   * (24 hours), in order per shard; an event may then be published twice (docs/events.md).
   */
  private createAuditEventsPublisher(): NodejsFunction {
    const permissions = AUDIT_EVENTS_PERMISSIONS;
    const fn = this.createFunction({
      id: 'AuditEvents',
      handler: AUDIT_EVENTS_HANDLER,
      description: 'Keygate: lifecycle events from the audit log onto the event bus',
      permissions,
      environment: this.environmentFor(permissions),
      memorySize: 256,
      timeout: Duration.seconds(29),
    });
    // A mapping, as for the trailing flusher: the role's own statements (`readStream`) hold the
    // stream.
    fn.addEventSourceMapping('AuditStream', {
      eventSourceArn: this.streamArn('audit'),
      // Events written before the mapping existed (within the stream's 24 hours) are published too.
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: false,
      // The log is append-only: new items only.
      filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') })],
    });
    return fn;
  }

  /**
   * The key-warnings scan (`functions/key-warnings/handler.ts`) on an EventBridge schedule, every
   * {@link KEY_WARNINGS_RATE} (a rate expression: "rate(1 hour)",
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html; a
   * scheduled rule invokes the function asynchronously). A failed run is not retried (Lambda
   * retries an asynchronous invocation twice by default,
   * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): the next
   * hour's run catches up, and runs that overlap record each warning once all the same. Its
   * failures raise an alarm. None when the config turns every warning off.
   */
  private createKeyWarningsScan(): KeygateKeyWarnings | undefined {
    const settings = warningSettings(this.deployment.spec.warnings);
    if (!warnsAtAll(settings)) return undefined;
    const permissions = keyWarningsPermissions(settings.disableUnused);
    const fn = this.createFunction({
      id: 'KeyWarnings',
      handler: KEY_WARNINGS_HANDLER,
      description: 'Keygate: hourly key warnings (expiry, unused keys) into the audit log',
      permissions,
      environment: this.environmentFor(permissions),
      memorySize: 512,
      // A Scan reads 1 MB a page (a few thousand keys); a million keys take well under a minute.
      timeout: Duration.minutes(5),
    });
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    const schedule = new Rule(this, 'KeyWarningsSchedule', {
      description: 'Keygate: the key-warnings scan, hourly',
      schedule: Schedule.rate(KEY_WARNINGS_RATE),
      targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
    });
    const alarm = new Alarm(this, 'KeyWarningsFailingAlarm', {
      alarmDescription:
        'The key-warnings scan failed: warnings due are recorded by the next hourly run once it succeeds. Runbook: read the KeyWarnings logs (a storage fault, or the scan out of time).',
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return { function: fn, schedule, alarm };
  }

  /** What a route function reads from its environment: only what it uses. */
  private environmentFor(permissions: readonly Permission[]): Record<string, string> {
    const environment: Record<string, string> = {};
    if (permissions.some((p) => p.kind === 'flushAuthorizerCache')) {
      environment.KEYGATE_REST_API_ID = this.api.restApiId;
      environment.KEYGATE_STAGE = this.stageName;
      environment.KEYGATE_FLUSH_TABLE = this.tables.flushTable.tableName;
    }
    if (permissions.some((p) => p.kind === 'putEvents')) {
      environment[EVENT_BUS_ENV] = this.eventBus.eventBusName;
    }
    // Counting, or only reading the counters (the usage route).
    if (
      permissions.some(
        (p) => p.kind === 'countUsage' || (p.kind === 'table' && p.table === 'usage'),
      )
    ) {
      environment.KEYGATE_USAGE_TABLE = this.tables.usageTable.tableName;
    }
    if (permissions.some((p) => p.kind === 'sendEmail') && this.sesIdentity) {
      environment.KEYGATE_SES_IDENTITY = this.sesIdentity;
    }
    return environment;
  }

  private createFunction(spec: FunctionSpec): NodejsFunction {
    return new KeygateFunction(this, spec.id, {
      handler: spec.handler,
      description: spec.description,
      statements: spec.permissions.flatMap((p) => this.statementsFor(p)),
      environment: {
        KEYGATE_KEYS_TABLE: this.tables.keysTable.tableName,
        KEYGATE_ACCOUNTS_TABLE: this.tables.accountsTable.tableName,
        KEYGATE_AUDIT_TABLE: this.tables.auditTable.tableName,
        KEYGATE_KEY_PREFIX: this.keyPrefix,
        // Declared empty (unset for the runtime) so `sam local --env-vars` can point it at
        // DynamoDB Local: SAM overrides only declared variables (infra/local-recipes.ts).
        [SAM_DYNAMODB_ENDPOINT_ENV]: '',
        ...spec.environment,
      },
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      logRetention: this.logRetention,
      projectRoot: this.projectRoot,
      ...(this.deploymentJson === undefined ? {} : { deploymentJson: this.deploymentJson }),
    }).function;
  }

  private statementsFor(permission: Permission): PolicyStatement[] {
    switch (permission.kind) {
      case 'table':
        return [this.tableStatement(permission)];
      case 'index': {
        const table = TABLES.find((t) => t.suffix === permission.table);
        if (!table?.indexes.some((i) => i.indexName === permission.index)) {
          throw new Error(`No index ${permission.index} on the ${permission.table} table`);
        }
        return [
          new PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [`${this.tableArn(permission.table)}/index/${permission.index}`],
          }),
        ];
      }
      case 'flushAuthorizerCache':
        return [
          new PolicyStatement({
            actions: ['apigateway:DELETE'],
            resources: [
              `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/restapis/${this.api.restApiId}/stages/${this.stageName}/cache/authorizers`,
            ],
          }),
          new PolicyStatement({
            actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
            resources: [this.tableArn('flush')],
          }),
        ];
      case 'readStream':
        // What Lambda's poller needs of a DynamoDB stream, on that stream only, as AWS's own
        // example scopes it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html).
        return [
          new PolicyStatement({
            actions: [
              'dynamodb:DescribeStream',
              'dynamodb:GetRecords',
              'dynamodb:GetShardIterator',
              'dynamodb:ListStreams',
            ],
            resources: [this.streamArn(permission.table)],
          }),
        ];
      case 'putEvents':
        // `events:PutEvents` on the bus's ARN, as AWS's own example scopes it
        // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-same-account.html):
        // this bus only, never the account's default one.
        return [
          new PolicyStatement({
            actions: ['events:PutEvents'],
            resources: [this.eventBus.eventBusArn],
          }),
        ];
      case 'touchKeys':
        // The last-use record only: the request may name no attribute but these and ask for
        // nothing back, so the authorizer can never rewrite a key's scopes or hash.
        return [
          new PolicyStatement({
            actions: ['dynamodb:UpdateItem'],
            resources: [this.tableArn('keys')],
            conditions: {
              'ForAllValues:StringEquals': {
                'dynamodb:Attributes': ['keyId', 'lastUsedAt', 'lastUsedIp'],
              },
              StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
            },
          }),
        ];
      case 'sendEmail':
        return this.sendEmailStatements();
      case 'keyWarnings':
        return [
          new PolicyStatement({ actions: ['dynamodb:Scan'], resources: [this.tableArn('keys')] }),
          // A warning's marker and the disabling, nothing else of a key: the request may name no
          // other attribute (in its update or its condition) and ask for nothing back.
          new PolicyStatement({
            actions: ['dynamodb:UpdateItem'],
            resources: [this.tableArn('keys')],
            conditions: {
              'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...WARNING_WRITE_ATTRIBUTES] },
              StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
            },
          }),
          this.tableStatement({ kind: 'table', table: 'audit', actions: ['dynamodb:PutItem'] }),
        ];
      case 'countUsage':
        return [
          new PolicyStatement({
            actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
            resources: [this.tableArn('usage')],
          }),
          this.tableStatement({
            kind: 'table',
            table: 'accounts',
            actions: ['dynamodb:GetItem'],
            leadingKeys: ['account#*'],
          }),
          // A quota threshold crossed is an event in the account's audit log.
          this.tableStatement({ kind: 'table', table: 'audit', actions: ['dynamodb:PutItem'] }),
        ];
    }
  }

  /** Item actions on a table; with leading keys, only on those items. */
  private tableStatement(permission: Extract<Permission, { kind: 'table' }>): PolicyStatement {
    return new PolicyStatement({
      actions: [...permission.actions],
      resources: [this.tableArn(permission.table)],
      // Only these items: the events function reads (and once creates) the cursor key,
      // and must never reach an account's item in the same table; the functions that
      // count refused attempts reach only the `refusals#…` counters.
      ...(permission.leadingKeys === undefined
        ? {}
        : {
            conditions: {
              [permission.leadingKeys.some((k) => k.includes('*'))
                ? 'ForAllValues:StringLike'
                : 'ForAllValues:StringEquals']: {
                'dynamodb:LeadingKeys': [...permission.leadingKeys],
              },
            },
          }),
    });
  }

  /** `ses:SendEmail` as the configured identity (and the sandbox's recipients), or nothing. */
  private sendEmailStatements(): PolicyStatement[] {
    if (this.sesIdentity === undefined) return [];
    const identityArn = (name: string) =>
      Stack.of(this).formatArn({
        service: 'ses',
        resource: 'identity',
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    // In the SES sandbox, SendEmail is also authorized against the recipients' identities
    // (AccessDenied "… on resource: arn:aws:ses:…:identity/<recipient>"). AWS notes that the
    // sandbox's restrictions prevent some identity-scoped policies
    // (https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html) and that the sandbox
    // sends only to verified identities (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html).
    // Each listed identity exactly (no wildcard): the ARN SES names in its AccessDenied
    // message is the one to list.
    return [
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [identityArn(this.sesIdentity), ...this.sesSandboxRecipients.map(identityArn)],
      }),
    ];
  }

  private streamArn(table: TableName): string {
    const streams = {
      keys: this.tables.keysTable,
      accounts: this.tables.accountsTable,
      audit: this.tables.auditTable,
      flush: this.tables.flushTable,
      usage: this.tables.usageTable,
    };
    const arn = streams[table].tableStreamArn;
    if (arn === undefined) throw new Error(`No stream on the ${table} table`);
    return arn;
  }

  private tableArn(table: TableName): string {
    const tables = {
      keys: this.tables.keysTable,
      accounts: this.tables.accountsTable,
      audit: this.tables.auditTable,
      flush: this.tables.flushTable,
      usage: this.tables.usageTable,
    };
    return tables[table].tableArn;
  }
}

function checkInteger(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  options: { fallback?: number } = {},
): number {
  const actual = value ?? options.fallback;
  if (actual === undefined || Token.isUnresolved(actual)) {
    throw new Error(`${name} must be a concrete integer`);
  }
  if (!Number.isSafeInteger(actual) || actual < min || actual > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${actual}`);
  }
  return actual;
}

/** An address (`noreply@example.com`) or a domain (`example.com`); undefined when unset. */
function checkSesIdentity(identity: string | undefined, name = 'sesIdentity'): string | undefined {
  if (identity === undefined || identity === '') return undefined;
  const domain = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
  const at = identity.lastIndexOf('@');
  const ok =
    at === -1
      ? domain.test(identity)
      : at > 0 && /^[^\s@]+$/.test(identity.slice(0, at)) && domain.test(identity.slice(at + 1));
  if (!ok) throw new Error(`${name} must be an email address or a domain, got "${identity}"`);
  return identity;
}

/** A route function's memory and timeout: its contract's, else a route function's defaults. */
function functionSettings(route: DeployedRoute): { memorySize: number; timeout: Duration } {
  return {
    memorySize: route.lambda?.memoryMB ?? ROUTE_FUNCTION_DEFAULTS.memoryMB,
    timeout: Duration.seconds(
      route.lambda?.timeoutSeconds ?? ROUTE_FUNCTION_DEFAULTS.timeoutSeconds,
    ),
  };
}

/** The construct's settings, each checked (a mistake fails the synth with one line). */
function checkedSettings(props: KeygateProps) {
  const keyPrefix = assertKeyPrefix(props.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const defaultKeyLimit = checkInteger('defaultKeyLimit', props.defaultKeyLimit, 0, 1_000_000, {
    fallback: DEFAULT_KEY_LIMIT,
  });
  const ttl = props.authorizerCacheTtl ?? Duration.seconds(DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS);
  checkInteger('authorizerCacheTtl (seconds)', ttl.toSeconds(), 0, 3600);
  const throttling = props.throttling ?? { rateLimit: 100, burstLimit: 200 };
  checkInteger('throttling.rateLimit', throttling.rateLimit, 1, 1_000_000);
  checkInteger('throttling.burstLimit', throttling.burstLimit, 1, 1_000_000);
  // An attached API's stage name as its team wrote it: `deploymentStage.stageName` is the
  // Stage's Ref, and the flush permission and environment would then depend on the stage, which
  // depends on the deployment, which depends on the methods of those functions (a cycle).
  const stageName = props.restApi
    ? ((props.restApi.deploymentStage.node.defaultChild as CfnStage | undefined)?.stageName ?? '')
    : (props.stageName ?? 'prod');
  if (Token.isUnresolved(stageName) || !/^[A-Za-z0-9_]{1,128}$/.test(stageName)) {
    throw new Error(`stageName must be 1-128 letters, digits or _, got "${stageName}"`);
  }
  const sesIdentity = checkSesIdentity(props.sesIdentity);
  const sesSandboxRecipients = (props.sesSandboxRecipients ?? []).map((r) => {
    const recipient = checkSesIdentity(r, 'sesSandboxRecipients');
    if (recipient === undefined) throw new Error('sesSandboxRecipients holds an empty entry');
    return recipient;
  });
  if (sesSandboxRecipients.length > 0 && sesIdentity === undefined) {
    throw new Error('sesSandboxRecipients needs sesIdentity: without it nothing is sent');
  }
  const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
  return {
    keyPrefix,
    defaultKeyLimit,
    ttl,
    throttling,
    stageName,
    sesIdentity,
    sesSandboxRecipients,
    logRetention,
  };
}
