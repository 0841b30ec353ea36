/**
 * The cdk-nag (AwsSolutions) findings Keygate acknowledges, each with the reason a reviewer
 * needs. The construct applies them to the narrowest construct that raises them; the README's
 * table is written from this list, and the infra tests check that nothing else is raised.
 */
export const NAG_ACKNOWLEDGEMENTS = {
  lambdaRuntime: {
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to nodejs22.x on purpose: an AWS-supported LTS runtime, the esbuild target the ' +
      'bundles are built and tested for (node22). AwsSolutions-L1 only compares with the newest ' +
      'runtime family CDK knows (nodejs24.x); moving is a one-line change once the toolchain ' +
      'and tests run on Node 24.',
  },
  noWaf: {
    id: 'AwsSolutions-APIG3',
    reason:
      'No AWS WAF web ACL by default (it costs per ACL, rule and request). Abuse controls that ' +
      'are in place: stage throttling (rate and burst), the REQUEST authorizer on every ' +
      'non-public method, which rejects malformed or forged keys by format and checksum ' +
      'without a database read, and a 222-bit key secret that makes guessing useless. Attach ' +
      'a web ACL to the stage if your policy requires one.',
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
      'APIs of the account. Deploy with cloudWatchRole=false where the account already has one.',
  },
} as const satisfies Record<string, { id: string; reason: string }>;
