import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnGlobalTable, type TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeygateTables } from '../../infra/constructs/keygate-tables.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { ACCOUNTS_TABLE, KEYS_TABLE, TABLES, type TableDefinition } from '../../shared/tables.js';
import { type CfnResource, newApp, resourceOf } from './support.js';

function logicalIdOf(stack: Stack, table: TableV2): string {
  const resource = table.node.defaultChild;
  if (!(resource instanceof CfnGlobalTable)) throw new Error('TableV2 without a CfnGlobalTable');
  return stack.getLogicalId(resource);
}

// Expectations derived from shared/tables.ts, so the test fails as soon as infra drifts from it.
function expectedAttributeDefinitions(definition: TableDefinition) {
  const names = new Set([definition.partitionKey]);
  if (definition.sortKey) names.add(definition.sortKey);
  for (const index of definition.indexes) {
    names.add(index.partitionKey);
    if (index.sortKey) names.add(index.sortKey);
  }
  return [...names].sort().map((name) => ({ AttributeName: name, AttributeType: 'S' }));
}

function expectedGlobalSecondaryIndexes(definition: TableDefinition) {
  return definition.indexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' }] : []),
    ],
    Projection: { ProjectionType: index.projection },
  }));
}

function byAttributeName(a: { AttributeName: string }, b: { AttributeName: string }): number {
  return a.AttributeName.localeCompare(b.AttributeName);
}

describe('KeygateStack tables', () => {
  let stack: KeygateStack;
  let template: Template;

  beforeAll(() => {
    stack = new KeygateStack(newApp(), 'Keygate');
    template = Template.fromStack(stack);
  });

  it('creates exactly one global table per definition', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLES.length);
    expect(stack.tables.tables.size).toBe(TABLES.length);
  });

  it('exposes the keys and accounts tables', () => {
    expect(stack.tables.keysTable).toBe(stack.tables.tables.get(KEYS_TABLE));
    expect(stack.tables.accountsTable).toBe(stack.tables.tables.get(ACCOUNTS_TABLE));
  });

  describe.each(TABLES.map((definition) => [definition.suffix, definition] as const))(
    "the '%s' table",
    (_suffix, definition) => {
      let resource: CfnResource;

      beforeAll(() => {
        const table = stack.tables.tables.get(definition);
        if (!table) throw new Error(`No table for '${definition.suffix}'`);
        resource = resourceOf(template, logicalIdOf(stack, table));
      });

      it('is a DynamoDB global table (TableV2)', () => {
        expect(resource.Type).toBe('AWS::DynamoDB::GlobalTable');
      });

      it('has the key schema of the definition', () => {
        expect(resource.Properties.KeySchema).toEqual([
          { AttributeName: definition.partitionKey, KeyType: 'HASH' },
          ...(definition.sortKey ? [{ AttributeName: definition.sortKey, KeyType: 'RANGE' }] : []),
        ]);
      });

      it('defines exactly the key attributes of the table and its indexes, all strings', () => {
        const actual = resource.Properties.AttributeDefinitions as { AttributeName: string }[];
        expect([...actual].sort(byAttributeName)).toEqual(expectedAttributeDefinitions(definition));
      });

      it('has the global secondary indexes of the definition', () => {
        expect(resource.Properties.GlobalSecondaryIndexes).toEqual(
          definition.indexes.length > 0 ? expectedGlobalSecondaryIndexes(definition) : undefined,
        );
      });

      it('is on-demand', () => {
        expect(resource.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      });

      it('is encrypted at rest with the AWS-managed KMS key', () => {
        expect(resource.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      });

      it('has point-in-time recovery and deletion protection on its (single) replica', () => {
        const replicas = resource.Properties.Replicas as Record<string, unknown>[];
        expect(replicas).toHaveLength(1);
        expect(replicas[0]).toMatchObject({
          Region: { Ref: 'AWS::Region' },
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
      });

      it('is retained on deletion and replacement', () => {
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      });
    },
  );

  it('outputs both table names under the names the CLI reads', () => {
    const outputs = template.findOutputs('*');
    expect(outputs).toMatchObject({
      KeysTableName: { Value: { Ref: logicalIdOf(stack, stack.tables.keysTable) } },
      AccountsTableName: { Value: { Ref: logicalIdOf(stack, stack.tables.accountsTable) } },
    });
  });
});

describe('KeygateTables removalPolicy', () => {
  const replicaOf = (table: Record<string, unknown>) =>
    ((table.Properties as Record<string, unknown>).Replicas as Record<string, unknown>[])[0];

  it('with DESTROY, deletes the tables with the stack, deletion protection off (it would block the delete)', () => {
    const stack = new Stack(newApp(), 'Test');
    new KeygateTables(stack, 'Tables', { removalPolicy: RemovalPolicy.DESTROY });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(TABLES.length);
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      expect(replicaOf(table)?.DeletionProtectionEnabled).toBe(false);
      expect(replicaOf(table)?.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
  });

  it.each([
    ['RETAIN', RemovalPolicy.RETAIN, 'Retain', 'Retain'],
    [
      'RETAIN_ON_UPDATE_OR_DELETE',
      RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      'RetainExceptOnCreate',
      'Retain',
    ],
  ])('with %s, keeps deletion protection on', (_name, removalPolicy, deletion, replace) => {
    const stack = new Stack(newApp(), 'Test');
    new KeygateTables(stack, 'Tables', { removalPolicy });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable');
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: deletion, UpdateReplacePolicy: replace });
      expect(replicaOf(table)?.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('refuses SNAPSHOT at synth (DynamoDB has no snapshot deletion policy)', () => {
    const stack = new Stack(newApp(), 'Test');
    expect(
      () => new KeygateTables(stack, 'Tables', { removalPolicy: RemovalPolicy.SNAPSHOT }),
    ).toThrow(/snapshot/i);
  });
});
