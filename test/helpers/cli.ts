import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, inject } from 'vitest';
import { runCli } from '../../local/cli.js';
import { tableNames } from '../../shared/tables.js';
import { tempDirs } from './temp-dirs.js';

/** The CLI in-process: its exit code and what it printed. */
export function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return runCli(
    args,
    (l) => out.push(l),
    (l) => err.push(l),
  ).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

/**
 * A deployed stack named `Keygate` for `--stack`, in the calling `describe`: CloudFormation
 * cannot run here, so that one client is mocked to answer the stack's outputs (DynamoDB Local's
 * tables, reached through the AWS SDK's standard `AWS_ENDPOINT_URL_DYNAMODB`, as under SAM or
 * LocalStack), or a test file's own tables; the environment is restored after each test.
 */
export function useMockedStack(
  dataDirPrefix: string,
  /** Tables of the test file's own (a scan of the keys table must not see other files' keys). */
  tablePrefix?: string,
): void {
  const tempDir = tempDirs();
  const saved = { ...process.env };
  const cloudFormation = mockClient(CloudFormationClient);

  beforeEach(() => {
    const tables = tableNames(tablePrefix ?? inject('tablePrefix'));
    cloudFormation.reset();
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Keygate' }).resolves({
      Stacks: [
        {
          StackName: 'Keygate',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'KeysTableName', OutputValue: tables.keys },
            { OutputKey: 'AccountsTableName', OutputValue: tables.accounts },
            { OutputKey: 'AuditTableName', OutputValue: tables.audit },
            { OutputKey: 'KeyPrefix', OutputValue: 'kg' },
            { OutputKey: 'DefaultKeyLimit', OutputValue: '7' },
          ],
        },
      ],
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      KEYGATE_DATA_DIR: tempDir(dataDirPrefix),
    });
  });

  afterEach(() => {
    process.env = { ...saved };
  });

  afterAll(() => cloudFormation.restore());
}
