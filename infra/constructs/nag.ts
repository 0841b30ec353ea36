/**
 * The cdk-nag (AwsSolutions) findings Keygate acknowledges, each with the reason a reviewer
 * needs. The construct applies them to the narrowest construct that raises them; docs/deploy.md's
 * table is written from this list, and the infra tests check that nothing else is raised.
 */
export const NAG_ACKNOWLEDGEMENTS = {
  noWaf: {
    id: 'AwsSolutions-APIG3',
    reason:
      'Only with sourceLimits: false, which leaves out the web ACL Keygate puts on the stage by ' +
      'default (per-source limits of the public routes; it costs per ACL, rule and request). ' +
      'Abuse controls that remain: stage and per-route throttling, the REQUEST authorizer on ' +
      'every non-public method, which rejects malformed or forged keys by format and checksum ' +
      'without a database read, and a 222-bit key secret that makes guessing useless.',
  },
  noCognito: {
    id: 'AwsSolutions-COG4',
    reason:
      'Callers authenticate with SendGrid-style API keys, not Cognito users: every non-public ' +
      'method uses the Keygate REQUEST (Lambda) authorizer, which checks the key, its scopes ' +
      'and its type against the route table.',
  },
  publicRoute: {
    id: 'AwsSolutions-APIG4',
    reason:
      'Public by design in the route table: a liveness check and the OpenAPI document. They ' +
      'read no data and need no I/O.',
  },
  publicRouteCognito: {
    id: 'AwsSolutions-COG4',
    reason:
      'Public by design in the route table (liveness, OpenAPI document): no authorizer of any ' +
      'kind applies.',
  },
  cloudWatchRole: {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      "API Gateway's CloudWatch role is one account-wide setting per region, used by every " +
      'REST API in the account to write access and execution logs. The AWS managed policy is ' +
      'the one AWS documents for it; scoping it to Keygate would break logging for the other ' +
      'APIs of the account. Only with cloudWatchRole=true, which is off by default because it ' +
      "replaces the account's existing role.",
  },
  noAccessLogs: {
    id: 'AwsSolutions-APIG1',
    reason:
      'Only with stageLogs: false, for accounts that have no API Gateway CloudWatch role and ' +
      'will not set one (API Gateway cannot write stage logs without it, and the deployment ' +
      'would fail). The functions still log every request they serve to their own log groups.',
  },
  noExecutionLogs: {
    id: 'AwsSolutions-APIG6',
    reason:
      'Only with stageLogs: false: execution logs, like access logs, need the account-wide API ' +
      'Gateway CloudWatch role. The functions and the authorizer still log errors to their own ' +
      'log groups.',
  },
} as const satisfies Record<string, { id: string; reason: string }>;

/** One cdk-nag acknowledgement: a rule (or one finding of it) and why it is accepted. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** The web console's acknowledgements ({@link KeygateConsole}), on its distribution and deployment. */
export const CONSOLE_NAG_ACKNOWLEDGEMENTS = {
  geoRestriction: {
    id: 'AwsSolutions-CFR1',
    reason:
      'No geographic restriction: operators and their API clients may be anywhere, and access is ' +
      'decided by API keys, not location. The stage also stays reachable directly (ApiUrl, for ' +
      'SendGrid clients and the CLI), so a country list on the distribution would not restrict ' +
      'the API. Set one on the distribution if your policy requires it.',
  },
  noWaf: {
    id: 'AwsSolutions-CFR2',
    reason:
      'No AWS WAF web ACL by default (it costs per ACL, rule and request). The console is static ' +
      'files; API paths reach the same stage throttling and REQUEST authorizer as direct calls ' +
      '(see AwsSolutions-APIG3), and the stage stays reachable at ApiUrl, so a web ACL on the ' +
      'distribution alone would not cover the API. Attach one (CLOUDFRONT scope) if required.',
  },
  defaultCertificate: {
    id: 'AwsSolutions-CFR4',
    reason:
      "Without a custom domain the distribution uses CloudFront's default *.cloudfront.net " +
      'certificate, for which CloudFront keeps the TLSv1 security policy whatever ' +
      'MinimumProtocolVersion says: a minimum TLS version needs a custom certificate. Set ' +
      'consoleDomain (a domain and its us-east-1 ACM certificate) to get TLSv1.2_2021 and clear ' +
      'this finding. Viewers still only speak HTTPS: the page redirects HTTP, API paths refuse it.',
  },
  deploymentRuntime: {
    id: 'AwsSolutions-L1',
    reason:
      "The console deployment's provider function (aws-cdk-lib BucketDeployment) runs the " +
      'Python runtime aws-cdk-lib pins for it (python3.13, AWS-supported), which cannot be ' +
      'configured; it runs only during CloudFormation deployments, never on a request path, and ' +
      'moves with aws-cdk-lib upgrades.',
  },
} as const satisfies Record<string, NagAcknowledgement>;

/** The S3 action wildcards BucketDeployment grants its provider role (`grantRead`, `grantReadWrite`). */
export const DEPLOYMENT_S3_WILDCARD_ACTIONS = [
  's3:GetObject*',
  's3:GetBucket*',
  's3:List*',
  's3:DeleteObject*',
  's3:Abort*',
] as const;

/**
 * The IAM5 findings of the console deployment's role, which aws-cdk-lib's BucketDeployment
 * writes and does not let us narrow. Resource findings name the exact resources, as cdk-nag
 * renders them (`<LogicalId.Arn>/*`, `arn:<AWS::Partition>:s3:::<bucket>/*`).
 */
export function deploymentAcknowledgements(resources: {
  /** The console bucket's objects. */
  consoleObjects: string;
  /** The CDK asset bucket's objects. */
  assetObjects: string;
}): NagAcknowledgement[] {
  return [
    ...DEPLOYMENT_S3_WILDCARD_ACTIONS.map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason:
        "Granted by aws-cdk-lib's BucketDeployment (grantRead on the CDK asset bucket, " +
        'grantReadWrite on the console bucket) and not configurable: the `aws s3 sync` its ' +
        'provider runs lists, reads, writes, prunes and aborts multipart uploads. Only those two ' +
        'buckets are in the resources, and only the provider function, which runs during ' +
        'deployments, holds the role.',
    })),
    {
      id: `AwsSolutions-IAM5[Resource::${resources.consoleObjects}]`,
      reason:
        'Every object of the console bucket: each deployment uploads the whole built console and ' +
        "prunes what it no longer has. The bucket holds only the console's public static files, " +
        'nothing secret.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${resources.assetObjects}]`,
      reason:
        "Read-only access to CDK's bootstrap asset bucket, where BucketDeployment reads its source " +
        "zip; the object key is only known at deployment time. The same bucket CDK's own " +
        'deployment roles read.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudfront:CreateInvalidation and GetInvalidation, which BucketDeployment grants on * ' +
        '(not configurable) to invalidate the distribution after an upload. An invalidation reads ' +
        'and changes no content, it only evicts cached copies; only the deployment provider ' +
        'holds the role.',
    },
  ];
}
