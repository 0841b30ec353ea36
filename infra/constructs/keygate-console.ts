import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  type AddBehaviorOptions,
  AllowedMethods,
  CachePolicy,
  Distribution,
  type ErrorResponse,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  type IOrigin,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  type ResponseHeadersPolicyProps,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { RestApiOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_SECURITY_HEADERS } from '../../shared/console-headers.js';
import { REPO_ROOT } from './bundling.js';
import {
  CONSOLE_NAG_ACKNOWLEDGEMENTS,
  deploymentAcknowledgements,
  type NagAcknowledgement,
} from './nag.js';

/** The built console (`npm run build:console`): what the distribution serves. */
export const CONSOLE_DIST = join(REPO_ROOT, 'console', 'dist');

/**
 * The error statuses CloudFront caches (for the error caching minimum TTL, 10 s by default, when
 * the origin sends no caching header; its documentation does not exempt behaviours with caching
 * disabled). The API's errors depend on the caller's key, which is not in an API behaviour's
 * cache key, so none may be served from cache: every one gets a TTL of 0. (416 is never cached;
 * 401, 409, 413, 415 and 429 are not on CloudFront's list.)
 */
export const CLOUDFRONT_CACHED_ERROR_CODES = [
  400, 403, 404, 405, 414, 500, 501, 502, 503, 504,
] as const;

/** A custom domain for the console: a name and its ACM certificate (in us-east-1). */
export interface KeygateConsoleDomain {
  /** The console's host name, e.g. `keys.example.com` (point it at the distribution yourself). */
  readonly domainName: string;
  /** ARN of an ACM certificate in us-east-1 that covers `domainName` (CloudFront's rule). */
  readonly certificateArn: string;
}

export interface KeygateConsoleProps {
  /** The REST API the console calls: every API path pattern is routed to its stage. */
  readonly api: RestApiBase;
  /** Resource paths of the API's routes (`/v3/api_keys/{api_key_id}`); more with {@link KeygateConsole.addApiPath}. */
  readonly apiPaths: readonly string[];
  /**
   * What happens to the console and log buckets when they leave the stack. `DESTROY` also
   * empties them first (`autoDeleteObjects`); otherwise no such custom resource is created.
   */
  readonly removalPolicy: RemovalPolicy;
  /** Retention of the access logs (CloudFront, S3) and of the deployment function's logs. */
  readonly logRetention: RetentionDays;
  /** @default - the distribution's own `*.cloudfront.net` name and CloudFront's certificate */
  readonly domain?: KeygateConsoleDomain;
  /** The built console. @default CONSOLE_DIST (console/dist) */
  readonly distDirectory?: string;
}

/**
 * The web console on AWS: the built page (`console/dist`) in a private S3 bucket, served by a
 * CloudFront distribution through origin access control, with the API on the same domain so the
 * console's relative `/v3/...` calls need no CORS.
 *
 * - Bucket: all public access blocked, SSL-only, S3-managed encryption, access logs; its policy
 *   lets only this distribution (`AWS:SourceArn`) read objects.
 * - Default behaviour (the console): HTTPS (HTTP redirected), compressed, cached, and the
 *   security headers of `shared/console-headers.ts` (CSP exactly `CONSOLE_CSP`).
 * - One behaviour per API path pattern, derived from the route paths (`/v3/*`, `/health`, …):
 *   to the REST API's stage, HTTPS only, every method, caching disabled, and every viewer
 *   header except `Host` forwarded (`AllViewerExceptHostHeader`), so `Authorization` and the
 *   query string reach API Gateway and its authorizer. Errors are never cached.
 * - CloudFront and S3 access logs go to a dedicated log bucket (ACLs enabled, as CloudFront's
 *   standard logging requires), expiring with `logRetention`.
 * - Deployment: `BucketDeployment` uploads `console/dist` (hashed `assets/` cached for a year,
 *   the rest revalidated on every load) and invalidates the distribution.
 *
 * CloudFront allows 25 cache behaviours per distribution by default (adjustable): each first
 * path segment of the API takes one.
 */
export class KeygateConsole extends Construct {
  readonly bucket: Bucket;
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  readonly responseHeadersPolicy: ResponseHeadersPolicy;
  /** The role of the deployment's provider function (aws-cdk-lib's BucketDeployment). */
  readonly deploymentRole: Role;
  /** `https://<domain>/`: the custom domain if one is set, else the distribution's. */
  readonly url: string;
  /** Every cdk-nag acknowledgement this construct made (for review and the infra tests). */
  readonly acknowledgements: readonly NagAcknowledgement[];

  private readonly acknowledged: NagAcknowledgement[] = [];

  private readonly apiOrigin: IOrigin;
  private readonly apiPatterns = new Set<string>();
  private readonly reservedSegments: ReadonlySet<string>;

  constructor(scope: Construct, id: string, props: KeygateConsoleProps) {
    super(scope, id);
    const dist = props.distDirectory ?? CONSOLE_DIST;
    if (!existsSync(join(dist, 'index.html'))) {
      throw new Error(
        `The web console is not built (${join(dist, 'index.html')} is missing): run \`npm run build:console\` first (\`npm run synth\` does), or deploy with the console turned off (console: false, -c keygate:console=false)`,
      );
    }
    // Top-level names of the built console (index.html, assets): an API route there would
    // shadow the page.
    this.reservedSegments = new Set(readdirSync(dist));
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    const logDays = props.logRetention === RetentionDays.INFINITE ? undefined : props.logRetention;

    this.logBucket = new Bucket(this, 'LogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      // CloudFront's standard logging writes through ACLs (the awslogsdelivery account).
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      ...(logDays === undefined
        ? {}
        : { lifecycleRules: [{ expiration: Duration.days(logDays) }] }),
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    // cdk-nag's S1 counts a bucket that receives another bucket's access logs as logged.

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3-console/',
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Keygate console: security headers of shared/console-headers.ts',
      ...responseHeadersFrom(CONSOLE_SECURITY_HEADERS),
    });

    let certificate: ReturnType<typeof Certificate.fromCertificateArn> | undefined;
    if (props.domain) {
      checkCertificateArn(props.domain.certificateArn);
      certificate = Certificate.fromCertificateArn(
        this,
        'Certificate',
        props.domain.certificateArn,
      );
    }

    this.apiOrigin = new RestApiOrigin(props.api);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Keygate web console and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      errorResponses: CLOUDFRONT_CACHED_ERROR_CODES.map(
        (httpStatus): ErrorResponse => ({ httpStatus, ttl: Duration.seconds(0) }),
      ),
      ...(props.domain && certificate
        ? {
            domainNames: [props.domain.domainName],
            certificate,
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    for (const path of props.apiPaths) this.addApiPath(path);

    this.acknowledge(this.distribution, CONSOLE_NAG_ACKNOWLEDGEMENTS.geoRestriction);
    this.acknowledge(this.distribution, CONSOLE_NAG_ACKNOWLEDGEMENTS.noWaf);
    if (!props.domain) {
      this.acknowledge(this.distribution, CONSOLE_NAG_ACKNOWLEDGEMENTS.defaultCertificate);
    }
    this.url = `https://${props.domain?.domainName ?? this.distribution.distributionDomainName}/`;

    this.deploymentRole = this.deploy(dist, props.logRetention);
    this.acknowledgements = this.acknowledged;
  }

  /** The CloudFront path patterns routed to the API, in the order they were added. */
  get apiPathPatterns(): readonly string[] {
    return [...this.apiPatterns];
  }

  /**
   * Routes a resource path of the API through the distribution (its pattern is added once:
   * `/v3/reports/{id}` → `/v3/*`, `/health` → `/health`). Throws for a path CloudFront could
   * not route beside the console: a parameter as its first segment, or a first segment that is
   * a file or folder of the built console.
   */
  addApiPath(path: string): void {
    const pattern = this.checkApiPath(path);
    if (this.apiPatterns.has(pattern)) return;
    this.apiPatterns.add(pattern);
    this.distribution.addBehavior(pattern, this.apiOrigin, API_BEHAVIOR);
  }

  /** The pattern of an API path, or an error when the console cannot sit beside it. */
  checkApiPath(path: string): string {
    const pattern = apiPathPattern(path);
    const first = path.split('/')[1] ?? '';
    if (first.startsWith('{')) {
      throw new Error(
        `${path}: with the web console on, an API path must start with a fixed segment (CloudFront routes by path prefix)`,
      );
    }
    if (this.reservedSegments.has(first)) {
      throw new Error(`${path}: /${first} belongs to the web console (console/dist)`);
    }
    return pattern;
  }

  /**
   * Two deployments of the same asset into the bucket: the hashed `assets/` with a year of
   * immutable caching and no pruning (a page loaded before a deploy can still fetch its
   * files), then everything else revalidated on each load (`no-cache`), pruned, and the
   * distribution invalidated. Their provider function gets its own role and log group.
   */
  private deploy(dist: string, logRetention: RetentionDays): Role {
    const source = Source.asset(dist);
    const logGroup = new LogGroup(this, 'DeploymentLogs', { retention: logRetention });
    const role = new Role(this, 'DeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Keygate console deployment (BucketDeployment provider)',
      inlinePolicies: {
        logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              sid: 'OwnLogGroup',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const assets = new BucketDeployment(this, 'DeployAssets', {
      sources: [source],
      destinationBucket: this.bucket,
      exclude: ['*'],
      include: ['assets/*'],
      prune: false,
      cacheControl: [
        CacheControl.setPublic(),
        CacheControl.maxAge(Duration.days(365)),
        CacheControl.immutable(),
      ],
      role,
      logGroup,
    });
    const page = new BucketDeployment(this, 'DeployPage', {
      sources: [source],
      destinationBucket: this.bucket,
      exclude: ['assets/*'],
      prune: true,
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      role,
      logGroup,
    });
    page.node.addDependency(assets);
    // Each BucketDeployment creates an AWS CLI layer for the provider, but the provider is a
    // singleton built with the first one's: the second layer would be deployed and never used.
    page.node.tryRemoveChild('AwsCliLayer');

    this.acknowledge(role, ...deploymentAcknowledgements(this.deploymentResources(assets)));
    // The provider is a singleton at stack level (one per stack): find it through its role.
    const provider = Stack.of(this)
      .node.findAll()
      .find((c): c is LambdaFunction => c instanceof LambdaFunction && c.role === role);
    if (provider) this.acknowledge(provider, CONSOLE_NAG_ACKNOWLEDGEMENTS.deploymentRuntime);
    return role;
  }

  /**
   * The object ARNs the deployment role reaches, as cdk-nag names them in its findings: the
   * console bucket's and the asset bucket's (where BucketDeployment reads its source zip).
   */
  private deploymentResources(deployment: BucketDeployment): {
    consoleObjects: string;
    assetObjects: string;
  } {
    const asset = deployment.node.findAll().find((c): c is Asset => c instanceof Asset);
    if (!asset) throw new Error('BucketDeployment created no asset: cannot name its findings');
    return {
      consoleObjects: nagResourceName(this, this.bucket.arnForObjects('*')),
      assetObjects: nagResourceName(this, asset.bucket.arnForObjects('*')),
    };
  }

  private acknowledge(scope: Construct, ...acknowledgements: NagAcknowledgement[]): void {
    for (const acknowledgement of acknowledgements) {
      Validations.of(scope).acknowledge(acknowledgement);
      this.acknowledged.push(acknowledgement);
    }
  }
}

/** API behaviours: no cache, every method, every viewer header but Host (see the class doc). */
const API_BEHAVIOR: AddBehaviorOptions = {
  viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
  allowedMethods: AllowedMethods.ALLOW_ALL,
  cachePolicy: CachePolicy.CACHING_DISABLED,
  originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
  compress: false,
};

/**
 * The CloudFront path pattern of an API resource path: its first segment, exactly when the path
 * has one segment (`/health`), or everything below it (`/v3/api_keys/{id}` → `/v3/*`).
 */
export function apiPathPattern(path: string): string {
  const segments = path.split('/').slice(1);
  const [first] = segments;
  if (!path.startsWith('/') || first === undefined || first === '') {
    throw new Error(`${path}: an API path starts with / and a segment`);
  }
  return segments.length === 1 ? `/${first}` : `/${first}/*`;
}

/**
 * A response headers policy from a header map (`shared/console-headers.ts`): the headers
 * CloudFront models (CSP, HSTS, frame options, nosniff, referrer policy) as security headers,
 * everything else as custom headers; all override what the origin sends. Throws on a value
 * CloudFront's model cannot express, so the map stays the single source of truth.
 */
export function responseHeadersFrom(
  headers: Readonly<Record<string, string>>,
): Pick<ResponseHeadersPolicyProps, 'securityHeadersBehavior' | 'customHeadersBehavior'> {
  const security: {
    -readonly [K in keyof NonNullable<
      ResponseHeadersPolicyProps['securityHeadersBehavior']
    >]: NonNullable<ResponseHeadersPolicyProps['securityHeadersBehavior']>[K];
  } = {};
  const custom: { header: string; value: string; override: boolean }[] = [];
  for (const [name, value] of Object.entries(headers)) {
    switch (name.toLowerCase()) {
      case 'content-security-policy':
        security.contentSecurityPolicy = { contentSecurityPolicy: value, override: true };
        break;
      case 'strict-transport-security':
        security.strictTransportSecurity = { ...parseHsts(value), override: true };
        break;
      case 'x-frame-options': {
        const option = Object.values(HeadersFrameOption).find((o) => o === value.toUpperCase());
        if (!option) throw new Error(`x-frame-options: CloudFront cannot send "${value}"`);
        security.frameOptions = { frameOption: option, override: true };
        break;
      }
      case 'x-content-type-options':
        if (value !== 'nosniff') throw new Error(`x-content-type-options must be nosniff`);
        security.contentTypeOptions = { override: true };
        break;
      case 'referrer-policy': {
        const policy = Object.values(HeadersReferrerPolicy).find((p) => p === value);
        if (!policy) throw new Error(`referrer-policy: CloudFront cannot send "${value}"`);
        security.referrerPolicy = { referrerPolicy: policy, override: true };
        break;
      }
      default:
        custom.push({ header: name, value, override: true });
    }
  }
  return {
    securityHeadersBehavior: security,
    ...(custom.length > 0 ? { customHeadersBehavior: { customHeaders: custom } } : {}),
  };
}

function parseHsts(value: string): {
  accessControlMaxAge: Duration;
  includeSubdomains: boolean;
  preload: boolean;
} {
  const directives = value.split(';').map((d) => d.trim().toLowerCase());
  const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)?.[1]).find((v) => v);
  const known = (d: string) =>
    /^max-age=\d+$/.test(d) || ['includesubdomains', 'preload'].includes(d);
  if (maxAge === undefined || !directives.every(known)) {
    throw new Error(`strict-transport-security: CloudFront cannot send "${value}"`);
  }
  return {
    accessControlMaxAge: Duration.seconds(Number(maxAge)),
    includeSubdomains: directives.includes('includesubdomains'),
    preload: directives.includes('preload'),
  };
}

/**
 * A resource as cdk-nag writes it in a finding id: the resolved value flattened, `{Ref: X}` →
 * `<X>`, `{Fn::GetAtt: [X, A]}` → `<X.A>`, joins joined, `${X}` → `<X>`.
 */
function nagResourceName(scope: Construct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const n = node as Record<string, unknown>;
    const join = n['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::Sub'] !== undefined) return visit(n['Fn::Sub']);
    const getAtt = n['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${visit(getAtt[0])}.${visit(getAtt[1])}>`;
    if (n.Ref !== undefined) return `<${visit(n.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

function checkCertificateArn(arn: string): void {
  if (Token.isUnresolved(arn)) return;
  const region = /^arn:[a-z-]+:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/.exec(arn)?.[1];
  if (region === undefined)
    throw new Error(`domain.certificateArn is not an ACM certificate ARN: "${arn}"`);
  if (region !== 'us-east-1') {
    throw new Error(
      `domain.certificateArn must be in us-east-1 (CloudFront's rule), got ${region}`,
    );
  }
}
