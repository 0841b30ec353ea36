import { readFileSync } from 'node:fs';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import {
  CONSOLE_NAG_ACKNOWLEDGEMENTS,
  DEPLOYMENT_S3_WILDCARD_ACTIONS,
  deploymentAcknowledgements,
  NAG_ACKNOWLEDGEMENTS,
  type NagAcknowledgement,
} from '../../infra/constructs/nag.js';
import { KeygateStack, type KeygateStackProps } from '../../infra/keygate-stack.js';
import { newApp } from './support.js';

const CERTIFICATE =
  'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

function nagReport(id: string, props: KeygateStackProps = {}) {
  const stack = new KeygateStack(newApp(), id, props);
  return { stack, report: new AwsSolutionsChecks(stack).validateScope(stack) };
}

/** Every acknowledgement with its reason, the console's with example resource names. */
const ALL_ACKNOWLEDGEMENTS = [
  ...Object.values(NAG_ACKNOWLEDGEMENTS),
  ...Object.values(CONSOLE_NAG_ACKNOWLEDGEMENTS),
  ...deploymentAcknowledgements({ consoleObjects: '<Bucket.Arn>/*', assetObjects: 'assets/*' }),
];

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the default stack', () => {
    const { report } = nagReport('Keygate');

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it.each([
    ['without the console', { console: false }],
    [
      'with a console domain, buckets destroyed with the stack',
      {
        consoleDomain: { domainName: 'keys.example.com', certificateArn: CERTIFICATE },
        removalPolicy: RemovalPolicy.DESTROY,
      },
    ],
    ['without the per-source limits (no web ACL: APIG3 acknowledged)', { sourceLimits: false }],
    ["setting the account's CloudWatch role (IAM4 acknowledged)", { cloudWatchRole: true }],
    ['without stage logs (APIG1 and APIG6 acknowledged)', { stageLogs: false }],
  ] as const)('finds nothing unacknowledged %s', (_case, props) => {
    const { report } = nagReport('Variant', props);

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('finds nothing unacknowledged with mail, custom settings and a route of your own', () => {
    const stack = new KeygateStack(newApp(), 'Custom', {
      sesIdentity: 'noreply@example.com',
      stageName: 'v3',
      cloudWatchRole: false,
    });
    stack.keygate.addRoute({
      method: 'GET',
      path: '/v3/reports',
      scopes: ['stats.read'],
      handler: new LambdaFunction(stack, 'Reports', {
        runtime: Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: Code.fromInline('export const handler = async () => ({ statusCode: 200 });'),
      }),
    });
    // The user's own function is the user's to review: only Keygate's constructs are checked.
    const report = new AwsSolutionsChecks(stack).validateScope(stack.keygate);

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  // Made only for settings the default stack does not have: without the web ACL (APIG3), with
  // the account's CloudWatch role (IAM4); and the default's own, gone with stage logs on
  // (APIG1, APIG6: stage logs are opt-in, they need the account's role).
  const conditional: readonly NagAcknowledgement[] = [
    NAG_ACKNOWLEDGEMENTS.noWaf,
    NAG_ACKNOWLEDGEMENTS.cloudWatchRole,
  ];
  const stageLogsOff: readonly NagAcknowledgement[] = [
    NAG_ACKNOWLEDGEMENTS.noAccessLogs,
    NAG_ACKNOWLEDGEMENTS.noExecutionLogs,
  ];

  it.each([
    ['the default stack', {}, stageLogsOff],
    ['the stack with stage logs', { stageLogs: true }, []],
    [
      'the stack without web ACL or stage logs, with the account role',
      { sourceLimits: false, cloudWatchRole: true, stageLogs: false },
      [...conditional, ...stageLogsOff],
    ],
  ] as const)(
    'needs every acknowledgement it makes in %s: without them, exactly those rules fire',
    (_case, props, extra) => {
      const acknowledge = vi
        .spyOn(Validations.prototype, 'acknowledge')
        .mockImplementation(() => {});
      try {
        const { stack, report } = nagReport('Unacknowledged', props);
        const made = [
          ...Object.values(NAG_ACKNOWLEDGEMENTS).filter(
            (a) => !conditional.includes(a) && !stageLogsOff.includes(a),
          ),
          ...extra,
          ...(stack.keygate.console?.acknowledgements ?? []),
        ];

        expect([...new Set(report.violations.map((v) => v.ruleName))].sort()).toEqual(
          [...new Set(made.map((a) => a.id))].sort(),
        );
      } finally {
        acknowledge.mockRestore();
      }
    },
  );

  it.each(ALL_ACKNOWLEDGEMENTS.map((a) => [a.id, a] as const))(
    'acknowledges %s with a reason a reviewer can check',
    (_id, acknowledgement) => {
      expect(acknowledgement.reason.length).toBeGreaterThan(80);
      expect(acknowledgement.reason).not.toMatch(/\b(?:todo|tbd|fixme)\b/i);
    },
  );

  it('lists every acknowledgement in docs/deploy.md, with its reason', () => {
    const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const table = deploy.slice(deploy.indexOf('## cdk-nag'), deploy.indexOf('## Tear-down'));

    for (const { id } of ALL_ACKNOWLEDGEMENTS) {
      expect(table).toContain(`\`${id.split('[')[0]}`);
      const finding = /\[Policy::.*\/([^/\]]+)\]$/.exec(id)?.[1];
      if (finding) expect(table).toContain(finding);
    }
    for (const action of DEPLOYMENT_S3_WILDCARD_ACTIONS) expect(table).toContain(action);
  });
});
