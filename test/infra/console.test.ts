import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  CONSOLE_DIST,
  KeygateConsole,
  responseHeadersFrom,
} from '../../infra/constructs/keygate-console.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { CONSOLE_CSP, CONSOLE_SECURITY_HEADERS } from '../../shared/console-headers.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { type CfnResource, newApp, referencedId, render, resourcesOf } from './support.js';

const tempDir = tempDirs();

/** CloudFront's managed policies, by the IDs AWS documents (using-managed-*-policies.html). */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
/**
 * Every viewer header but Host, every query string and cookie. With caching disabled this is how
 * CloudFront forwards `Authorization` to the origin (an origin request policy may not name it;
 * repost.aws/knowledge-center/cloudfront-authorization-header), and dropping Host is what API
 * Gateway needs (it routes on its own host name; AllViewer would make it answer 403).
 */
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
const CERTIFICATE =
  'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

// One synth per configuration: the defaults, a customised one, and the console turned off.
const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const webConsole = stack.keygate.console;
if (!webConsole) throw new Error('The console is on by default');

const custom = new KeygateStack(newApp(), 'Custom', {
  removalPolicy: RemovalPolicy.DESTROY,
  consoleDomain: { domainName: 'keys.example.com', certificateArn: CERTIFICATE },
});
const reports = new LambdaFunction(custom, 'Reports', {
  runtime: Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: Code.fromInline('export const handler = async () => ({ statusCode: 200 });'),
});
custom.keygate.addRoute({
  method: 'GET',
  path: '/reports/{id}',
  scopes: ['stats.read'],
  handler: reports,
});
custom.keygate.addRoute({
  method: 'GET',
  path: '/v3/reports',
  scopes: ['stats.read'],
  handler: reports,
});
const customTemplate = Template.fromStack(custom);

const off = new KeygateStack(newApp(), 'Off', { console: false });
const offTemplate = Template.fromStack(off);

const idOf = (s: Stack, construct: { node: { defaultChild?: unknown } }) =>
  s.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
const BUCKET = idOf(stack, webConsole.bucket);
const LOG_BUCKET = idOf(stack, webConsole.logBucket);
const DISTRIBUTION = idOf(stack, webConsole.distribution);

interface Behavior {
  PathPattern?: string;
  TargetOriginId: string;
  ViewerProtocolPolicy: string;
  AllowedMethods?: string[];
  CachePolicyId?: string;
  OriginRequestPolicyId?: string;
  ResponseHeadersPolicyId?: unknown;
  Compress?: boolean;
}
interface Origin {
  Id: string;
  DomainName: unknown;
  OriginPath?: unknown;
  OriginAccessControlId?: unknown;
  S3OriginConfig?: { OriginAccessIdentity: string };
  CustomOriginConfig?: { OriginProtocolPolicy: string; OriginSSLProtocols: string[] };
}
interface DistributionConfig {
  DefaultRootObject: string;
  DefaultCacheBehavior: Behavior;
  CacheBehaviors?: Behavior[];
  Origins: Origin[];
  Logging?: { Bucket: unknown; Prefix?: string };
  CustomErrorResponses?: { ErrorCode: number; ErrorCachingMinTTL?: number }[];
  Aliases?: string[];
  ViewerCertificate?: Record<string, unknown>;
}
interface Statement {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function only(t: Template, type: string): CfnResource {
  const [first, ...others] = Object.values(resourcesOf(t, type));
  if (!first || others.length > 0) throw new Error(`Expected exactly one ${type}`);
  return first;
}

function configOf(t: Template): DistributionConfig {
  return only(t, 'AWS::CloudFront::Distribution').Properties
    .DistributionConfig as DistributionConfig;
}

function bucketPolicyOf(t: Template, bucketId: string): Statement[] {
  const policy = Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy')).find(
    (p) => referencedId(p.Properties.Bucket) === bucketId,
  );
  if (!policy) throw new Error(`No policy for ${bucketId}`);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

/** What a request path would match, with CloudFront's pattern rules (`*`: any characters). */
function matches(pattern: string, path: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(path);
}

/** A sample request path of a route: every `{param}` replaced by a value. */
const sample = (path: string) => path.replace(/\{[^}]+\}/g, 'abc123');

const config = configOf(template);
const behaviors = config.CacheBehaviors ?? [];
const apiOrigin = config.Origins.find((o) => o.CustomOriginConfig);
const s3Origin = config.Origins.find((o) => o.S3OriginConfig);

describe('the console bucket', () => {
  const bucket = resourcesOf(template, 'AWS::S3::Bucket')[BUCKET];

  it('is private: every public access block on, owner-enforced objects, S3-managed encryption', () => {
    expect(bucket?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
    expect(bucket?.Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('refuses every request without TLS', () => {
    expect(bucketPolicyOf(template, BUCKET)).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('lets only this distribution read objects (origin access control, AWS:SourceArn)', () => {
    const allows = bucketPolicyOf(template, BUCKET).filter((s) => s.Effect === 'Allow');

    expect(allows).toHaveLength(1);
    expect(allows[0]?.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(allows[0]?.Action).toBe('s3:GetObject');
    expect(render(allows[0]?.Resource)).toBe(`\${${BUCKET}.Arn}/*`);
    expect(render(allows[0]?.Condition?.StringEquals?.['AWS:SourceArn'])).toBe(
      `arn:\${AWS::Partition}:cloudfront::\${AWS::AccountId}:distribution/\${${DISTRIBUTION}}`,
    );
  });

  it('logs its access into the log bucket, and is kept when the stack goes (by default)', () => {
    expect(
      referencedId(
        (bucket?.Properties.LoggingConfiguration as { DestinationBucketName?: unknown } | undefined)
          ?.DestinationBucketName,
      ),
    ).toBe(LOG_BUCKET);
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(resourcesOf(template, 'Custom::S3AutoDeleteObjects')).toEqual({});
  });
});

describe('the distribution', () => {
  it('serves the bucket through origin access control (not an origin access identity)', () => {
    const oac = only(template, 'AWS::CloudFront::OriginAccessControl');

    expect(referencedId(s3Origin?.OriginAccessControlId)).toBe(
      Object.keys(resourcesOf(template, 'AWS::CloudFront::OriginAccessControl'))[0],
    );
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    expect(s3Origin?.S3OriginConfig?.OriginAccessIdentity).toBe('');
    expect(resourcesOf(template, 'AWS::CloudFront::CloudFrontOriginAccessIdentity')).toEqual({});
    expect(referencedId(s3Origin?.DomainName)).toBe(BUCKET);
  });

  it('serves index.html at /, redirects HTTP to HTTPS, compresses and caches the console', () => {
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: s3Origin?.Id,
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      CachePolicyId: CACHING_OPTIMIZED,
      Compress: true,
    });
  });

  it('logs to the log bucket, which allows the ACLs CloudFront logging writes with', () => {
    expect(referencedId(config.Logging?.Bucket)).toBe(LOG_BUCKET);
    const logBucket = resourcesOf(template, 'AWS::S3::Bucket')[LOG_BUCKET];
    expect(logBucket?.Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, Status: 'Enabled' }] },
    });
    expect(bucketPolicyOf(template, LOG_BUCKET)).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('never caches an error (the API answers by key, and the key is not in the cache key)', () => {
    expect(config.CustomErrorResponses).toEqual(
      [400, 403, 404, 405, 414, 500, 501, 502, 503, 504].map((ErrorCode) => ({
        ErrorCode,
        ErrorCachingMinTTL: 0,
      })),
    );
  });

  it('uses the CloudFront domain and certificate without a custom domain', () => {
    expect(config.Aliases).toBeUndefined();
    expect(config.ViewerCertificate).toBeUndefined();
  });
});

describe('the security headers', () => {
  const policy = only(template, 'AWS::CloudFront::ResponseHeadersPolicy').Properties
    .ResponseHeadersPolicyConfig as {
    SecurityHeadersConfig: {
      ContentSecurityPolicy: { ContentSecurityPolicy: string; Override: boolean };
      StrictTransportSecurity: {
        AccessControlMaxAgeSec: number;
        IncludeSubdomains: boolean;
        Preload: boolean;
        Override: boolean;
      };
      FrameOptions: { FrameOption: string; Override: boolean };
      ContentTypeOptions: { Override: boolean };
      ReferrerPolicy: { ReferrerPolicy: string; Override: boolean };
    };
    CustomHeadersConfig?: { Items: { Header: string; Value: string; Override: boolean }[] };
  };
  const security = policy.SecurityHeadersConfig;

  it('apply to the console, and only to it', () => {
    const id = Object.keys(resourcesOf(template, 'AWS::CloudFront::ResponseHeadersPolicy'))[0];

    expect(referencedId(config.DefaultCacheBehavior.ResponseHeadersPolicyId)).toBe(id);
    for (const behavior of behaviors) expect(behavior.ResponseHeadersPolicyId).toBeUndefined();
  });

  it('send exactly CONSOLE_CSP, which allows no inline or eval script', () => {
    expect(security.ContentSecurityPolicy).toEqual({
      ContentSecurityPolicy: CONSOLE_CSP,
      Override: true,
    });
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
  });

  it('send every header of CONSOLE_SECURITY_HEADERS with its value, overriding the origin', () => {
    const hsts = security.StrictTransportSecurity;
    const sent: Record<string, string> = {
      'content-security-policy': security.ContentSecurityPolicy.ContentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'x-frame-options': security.FrameOptions.FrameOption,
      'referrer-policy': security.ReferrerPolicy.ReferrerPolicy,
      'strict-transport-security': [
        `max-age=${hsts.AccessControlMaxAgeSec}`,
        ...(hsts.IncludeSubdomains ? ['includeSubDomains'] : []),
        ...(hsts.Preload ? ['preload'] : []),
      ].join('; '),
      ...Object.fromEntries(
        (policy.CustomHeadersConfig?.Items ?? []).map((h) => [h.Header, h.Value]),
      ),
    };

    expect(sent).toEqual(CONSOLE_SECURITY_HEADERS);
    expect(security.FrameOptions.FrameOption).toBe('DENY');
    for (const header of [
      security.ContentSecurityPolicy,
      hsts,
      security.FrameOptions,
      security.ContentTypeOptions,
      security.ReferrerPolicy,
      ...(policy.CustomHeadersConfig?.Items ?? []),
    ]) {
      expect(header.Override).toBe(true);
    }
  });

  it.each([
    ['x-frame-options', 'ALLOW-FROM https://example.com'],
    ['x-content-type-options', 'sniff'],
    ['referrer-policy', 'no-such-policy'],
    ['strict-transport-security', 'max-age=abc'],
    ['strict-transport-security', 'max-age=60; unknown'],
  ])('refuse a %s CloudFront cannot send (%s)', (name, value) => {
    expect(() => responseHeadersFrom({ [name]: value })).toThrow(name);
  });
});

describe('the API on the same domain', () => {
  /** Independently of the construct: a route's first segment, alone or with everything below. */
  const expectedPatterns = [
    ...new Set(
      ROUTE_LIST.map((r) => {
        const [first = '', ...rest] = r.path.split('/').slice(1);
        return rest.length === 0 ? `/${first}` : `/${first}/*`;
      }),
    ),
  ].sort();

  it('has one behaviour per path pattern of the route table, and no other', () => {
    expect(behaviors.map((b) => b.PathPattern).sort()).toEqual(expectedPatterns);
    expect(expectedPatterns).toEqual(expect.arrayContaining(['/v3/*', '/health', '/openapi.json']));
  });

  it('routes every route of the table to the API, and no console file', () => {
    for (const route of ROUTE_LIST) {
      const hits = behaviors.filter((b) => matches(b.PathPattern ?? '', sample(route.path)));
      expect(hits, route.path).toHaveLength(1);
    }
    for (const file of [
      '/',
      '/index.html',
      ...readdirSync(join(CONSOLE_DIST, 'assets')).map((f) => `/assets/${f}`),
    ]) {
      expect(
        behaviors.filter((b) => matches(b.PathPattern ?? '', file)),
        file,
      ).toEqual([]);
    }
  });

  it.each(behaviors.map((b) => [b.PathPattern, b] as const))(
    '%s: the API stage, every method, HTTPS only, no cache, Authorization and query forwarded',
    (_pattern, behavior) => {
      expect(behavior).toMatchObject({
        TargetOriginId: apiOrigin?.Id,
        ViewerProtocolPolicy: 'https-only',
        CachePolicyId: CACHING_DISABLED,
        OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      });
      expect([...(behavior.AllowedMethods ?? [])].sort()).toEqual(ALL_METHODS);
    },
  );

  it("reaches the REST API's stage over TLS 1.2", () => {
    const api = idOf(stack, stack.keygate.api);
    const stage = idOf(stack, stack.keygate.api.deploymentStage);

    expect(apiOrigin?.CustomOriginConfig).toEqual({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain(`{"Ref":"${api}"}`);
    // The origin path is the stage (`/prod`), taken from the API's URL.
    expect(JSON.stringify(apiOrigin?.OriginPath)).toContain(`{"Ref":"${stage}"}`);
    expect(resourcesOf(template, 'AWS::ApiGateway::Stage')[stage]?.Properties.StageName).toBe(
      'prod',
    );
  });

  it('adds the pattern of a route of your own, once per first segment', () => {
    const patterns = (configOf(customTemplate).CacheBehaviors ?? []).map((b) => b.PathPattern);

    expect(patterns.sort()).toEqual([...expectedPatterns, '/reports/*'].sort());
    expect(custom.keygate.console?.apiPathPatterns).toContain('/reports/*');
  });

  it.each([
    ['/assets/report', /belongs to the web console/],
    ['/index.html', /belongs to the web console/],
    ['/{tenant}/reports', /fixed segment/],
  ])('refuses a route of your own at %s, which would shadow the console', (path, message) => {
    const s = new KeygateStack(newApp(), 'Clash');
    const fn = new LambdaFunction(s, 'Fn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => ({ statusCode: 200 });'),
    });

    expect(() =>
      s.keygate.addRoute({ method: 'GET', path, scopes: ['stats.read'], handler: fn }),
    ).toThrow(message);
    expect(s.keygate.methods.has(`GET ${path}`)).toBe(false);
  });
});

describe('the deployment', () => {
  const deployments = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment')).map(
    (d) => d.Properties,
  );
  const assets = deployments.find((d) => d.Prune === false);
  const page = deployments.find((d) => d.Prune === true);

  it('uploads console/dist: hashed assets cached for a year, the rest revalidated', () => {
    expect(deployments).toHaveLength(2);
    expect(assets).toMatchObject({
      Exclude: ['*'],
      Include: ['assets/*'],
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(page).toMatchObject({
      Exclude: ['assets/*'],
      SystemMetadata: { 'cache-control': 'no-cache' },
    });
    for (const d of deployments) expect(referencedId(d.DestinationBucketName)).toBe(BUCKET);
    expect(assets?.SourceObjectKeys).toEqual(page?.SourceObjectKeys);
  });

  it('invalidates the distribution after the page is uploaded, assets first', () => {
    expect(referencedId(page?.DistributionId)).toBe(DISTRIBUTION);
    expect(page?.DistributionPaths).toEqual(['/*']);
    expect(assets?.DistributionId).toBeUndefined();
    const pageResource = Object.values(resourcesOf(template, 'Custom::CDKBucketDeployment')).find(
      (d) => d.Properties.Prune === true,
    );
    const assetsId = Object.entries(resourcesOf(template, 'Custom::CDKBucketDeployment')).find(
      ([, d]) => d.Properties.Prune === false,
    )?.[0];
    expect(pageResource?.DependsOn).toContain(assetsId);
  });

  it('runs one provider, with one AWS CLI layer, its own role and a log group with retention', () => {
    const role = idOf(stack, webConsole.deploymentRole);
    const providers = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter(
      (fn) => referencedId(fn.Properties.Role) === role,
    );

    expect(providers).toHaveLength(1);
    expect(Object.keys(resourcesOf(template, 'AWS::Lambda::LayerVersion'))).toHaveLength(1);
    const logGroup = referencedId(
      (providers[0]?.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup,
    );
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroup ?? '']?.Properties).toMatchObject({
      RetentionInDays: 30,
    });
    const roleResource = resourcesOf(template, 'AWS::IAM::Role')[role];
    expect(roleResource?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('refuses to synthesize without the built console, saying how to build it', () => {
    const s = new Stack(newApp(), 'Unbuilt');
    const api = new RestApi(s, 'Api');
    api.root.addMethod('GET');

    expect(
      () =>
        new KeygateConsole(s, 'Console', {
          api,
          apiPaths: ['/health'],
          removalPolicy: RemovalPolicy.RETAIN,
          logRetention: 30,
          distDirectory: tempDir('keygate-no-console-'),
        }),
    ).toThrow(/npm run build:console/);
  });
});

describe('outputs and settings', () => {
  it('publishes ConsoleUrl: https://<distribution domain>/', () => {
    expect(render(template.findOutputs('ConsoleUrl').ConsoleUrl?.Value)).toBe(
      `https://\${${DISTRIBUTION}.DomainName}/`,
    );
  });

  it('serves a custom domain with its certificate and TLS 1.2 or later, and says so in ConsoleUrl', () => {
    const customConfig = configOf(customTemplate);

    expect(customConfig.Aliases).toEqual(['keys.example.com']);
    expect(customConfig.ViewerCertificate).toEqual({
      AcmCertificateArn: CERTIFICATE,
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    expect(customTemplate.findOutputs('ConsoleUrl').ConsoleUrl?.Value).toBe(
      'https://keys.example.com/',
    );
  });

  it('refuses a certificate outside us-east-1', () => {
    expect(
      () =>
        new KeygateStack(newApp(), 'WrongRegion', {
          consoleDomain: {
            domainName: 'keys.example.com',
            certificateArn: CERTIFICATE.replace('us-east-1', 'eu-west-1'),
          },
        }),
    ).toThrow(/us-east-1/);
  });

  it('with DESTROY, empties and deletes both buckets with the stack', () => {
    const buckets = Object.values(resourcesOf(customTemplate, 'AWS::S3::Bucket'));

    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) expect(bucket.DeletionPolicy).toBe('Delete');
    expect(Object.keys(resourcesOf(customTemplate, 'Custom::S3AutoDeleteObjects'))).toHaveLength(2);
  });

  it('can be turned off: no bucket, no distribution, no deployment, no ConsoleUrl', () => {
    expect(off.keygate.console).toBeUndefined();
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::CloudFront::Distribution',
      'AWS::CloudFront::ResponseHeadersPolicy',
      'Custom::CDKBucketDeployment',
      'AWS::Lambda::LayerVersion',
    ]) {
      expect(resourcesOf(offTemplate, type), type).toEqual({});
    }
    expect(Object.keys(offTemplate.findOutputs('*'))).not.toContain('ConsoleUrl');
    expect(Object.keys(offTemplate.findOutputs('*'))).toContain('ApiUrl');
  });

  it('without the console, takes routes of your own anywhere', () => {
    const s = new KeygateStack(newApp(), 'OffRoutes', { console: false });
    const fn = new LambdaFunction(s, 'Fn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => ({ statusCode: 200 });'),
    });

    expect(() =>
      s.keygate.addRoute({ method: 'GET', path: '/assets/x', scopes: ['stats.read'], handler: fn }),
    ).not.toThrow();
  });
});
