import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { KeygateTables } from './constructs/keygate-tables.js';

/** Keygate's AWS resources. For now: its DynamoDB tables and their names as outputs. */
export class KeygateStack extends Stack {
  readonly tables: KeygateTables;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.tables = new KeygateTables(this, 'Tables');

    new CfnOutput(this, 'KeysTableName', {
      description: 'Name of the DynamoDB table that holds the API keys',
      value: this.tables.keysTable.tableName,
    });
    new CfnOutput(this, 'AccountsTableName', {
      description: 'Name of the DynamoDB table that holds the accounts',
      value: this.tables.accountsTable.tableName,
    });
  }
}
