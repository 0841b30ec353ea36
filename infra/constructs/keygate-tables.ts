import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type GlobalSecondaryIndexPropsV2,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  ACCOUNTS_TABLE,
  AUDIT_TABLE,
  FLUSH_TABLE,
  type IndexDefinition,
  KEYS_TABLE,
  TABLES,
  type TableDefinition,
  USAGE_TABLE,
} from '../../shared/tables.js';
import { pascalCase } from './names.js';

export interface KeygateTablesProps {
  /**
   * What CloudFormation does with the tables when they leave the stack (or the stack is deleted).
   * Deletion protection is on unless it is `DESTROY`.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const PROJECTIONS: Readonly<Record<IndexDefinition['projection'], ProjectionType>> = {
  KEYS_ONLY: ProjectionType.KEYS_ONLY,
  ALL: ProjectionType.ALL,
};

/**
 * Keygate's DynamoDB tables, one `TableV2` per definition in `shared/tables.ts` (`TABLES`): the key
 * schema and the global secondary indexes come from those definitions, so the deployed tables
 * cannot drift from the ones the local runtime and the tests create.
 *
 * Every table is on-demand, encrypted at rest with the AWS-managed KMS key, has point-in-time
 * recovery, and is retained on removal with deletion protection unless `removalPolicy` is
 * `DESTROY` (then deletion protection is off, so the stack's deletion can delete it). Physical
 * names are left to CloudFormation; read them from `tableName`.
 */
export class KeygateTables extends Construct {
  /** Every table, by its definition (covers all of `TABLES`). */
  readonly tables: ReadonlyMap<TableDefinition, TableV2>;
  /** Keys, one item per key ({@link KEYS_TABLE}). */
  readonly keysTable: TableV2;
  /** Accounts and reserved account names ({@link ACCOUNTS_TABLE}). */
  readonly accountsTable: TableV2;
  /** The append-only audit log ({@link AUDIT_TABLE}). */
  readonly auditTable: TableV2;
  /** The stage's authorizer-cache flush lease, with a stream ({@link FLUSH_TABLE}). */
  readonly flushTable: TableV2;
  /** Usage counters of plans and limits ({@link USAGE_TABLE}). */
  readonly usageTable: TableV2;

  constructor(scope: Construct, id: string, props: KeygateTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tables = new Map<TableDefinition, TableV2>();
    for (const definition of TABLES) {
      tables.set(definition, this.createTable(definition, removalPolicy));
    }
    this.tables = tables;
    this.keysTable = this.tableFor(KEYS_TABLE);
    this.accountsTable = this.tableFor(ACCOUNTS_TABLE);
    this.auditTable = this.tableFor(AUDIT_TABLE);
    this.flushTable = this.tableFor(FLUSH_TABLE);
    this.usageTable = this.tableFor(USAGE_TABLE);
  }

  private createTable(definition: TableDefinition, removalPolicy: RemovalPolicy): TableV2 {
    // The construct ID decides the logical ID: changing it replaces the table, so derive it from
    // the (stable) suffix only.
    return new TableV2(this, `${pascalCase(definition.suffix)}Table`, {
      partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
      ...(definition.sortKey
        ? { sortKey: { name: definition.sortKey, type: AttributeType.STRING } }
        : {}),
      globalSecondaryIndexes: definition.indexes.map(globalSecondaryIndex),
      ...(definition.timeToLiveAttribute
        ? { timeToLiveAttribute: definition.timeToLiveAttribute }
        : {}),
      ...(definition.stream ? { dynamoStream: StreamViewType.NEW_IMAGE } : {}),
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Deletion protection exactly when the table is retained: while it is on, DynamoDB refuses
      // to delete the table until someone turns it off ("Using deletion protection",
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection),
      // so with DESTROY the stack's deletion would fail on the table. (SNAPSHOT is refused at
      // synth: DynamoDB has no snapshot deletion policy.)
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });
  }

  private tableFor(definition: TableDefinition): TableV2 {
    const table = this.tables.get(definition);
    if (!table) throw new Error(`Table '${definition.suffix}' is missing from TABLES`);
    return table;
  }
}

function globalSecondaryIndex(index: IndexDefinition): GlobalSecondaryIndexPropsV2 {
  return {
    indexName: index.indexName,
    partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
    ...(index.sortKey ? { sortKey: { name: index.sortKey, type: AttributeType.STRING } } : {}),
    projectionType: PROJECTIONS[index.projection],
  };
}
