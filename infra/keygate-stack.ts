import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Keygate, type KeygateProps } from './constructs/keygate.js';
import type { KeygateTables } from './constructs/keygate-tables.js';

export interface KeygateStackProps extends StackProps, KeygateProps {}

/**
 * Keygate's deployable stack: the {@link Keygate} construct and the outputs operators and the
 * `keygate` CLI read (`--stack NAME`: KeysTableName, AccountsTableName, AuditTableName, RestApiId, StageName),
 * plus ConsoleUrl when the web console is hosted. Output names are part of the CLI's contract: do not rename them. None holds a secret.
 */
export class KeygateStack extends Stack {
  readonly keygate: Keygate;
  readonly tables: KeygateTables;

  constructor(scope: Construct, id: string, props: KeygateStackProps = {}) {
    super(scope, id, props);
    this.keygate = new Keygate(this, 'Keygate', props);
    this.tables = this.keygate.tables;

    const outputs: Record<string, { description: string; value: string }> = {
      ApiUrl: {
        description: 'Base URL of the API (the stage), e.g. for SendGrid clients',
        value: this.keygate.url,
      },
      RestApiId: {
        description: 'ID of the REST API (the CLI flushes its authorizer cache)',
        value: this.keygate.api.restApiId,
      },
      StageName: { description: 'API Gateway stage', value: this.keygate.stageName },
      KeysTableName: {
        description: 'Name of the DynamoDB table that holds the API keys',
        value: this.tables.keysTable.tableName,
      },
      AccountsTableName: {
        description: 'Name of the DynamoDB table that holds the accounts',
        value: this.tables.accountsTable.tableName,
      },
      AuditTableName: {
        description: 'Name of the DynamoDB table that holds the audit log (append-only)',
        value: this.tables.auditTable.tableName,
      },
      KeyPrefix: {
        description: 'Prefix of the keys this deployment issues (KEYGATE_KEY_PREFIX for the CLI)',
        value: this.keygate.keyPrefix,
      },
      DefaultKeyLimit: {
        description: 'Key limit of accounts bootstrapped without --key-limit',
        value: String(this.keygate.defaultKeyLimit),
      },
    };
    const consoleUrl = this.keygate.consoleUrl;
    if (consoleUrl !== undefined) {
      outputs.ConsoleUrl = {
        description: 'The web console (sign in with an API key holding api_keys.*)',
        value: consoleUrl,
      };
    }
    for (const [name, output] of Object.entries(outputs)) new CfnOutput(this, name, output);
  }
}
