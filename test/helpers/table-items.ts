import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../local/dynamodb-local.js';

/**
 * Test-only reads of whole tables (the application never scans): every item of the keys,
 * accounts and audit tables that belongs to the given accounts. Other test files run in parallel
 * against the same DynamoDB Local, so items are filtered to these accounts; each of the three
 * tables carries `accountId` on every item (the accounts table on both `account#<id>` and
 * `name#<name>`).
 */

export interface AccountItems {
  keys: Record<string, unknown>[];
  accounts: Record<string, unknown>[];
  audit: Record<string, unknown>[];
}

let client: DynamoDBDocumentClient | undefined;

function documentClient(): DynamoDBDocumentClient {
  const endpoint = process.env.KEYGATE_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('KEYGATE_DYNAMODB_ENDPOINT is not set (integration setup)');
  client ??= DynamoDBDocumentClient.from(localClient(endpoint));
  return client;
}

function tableName(variable: string): string {
  const name = process.env[variable];
  if (!name) throw new Error(`${variable} is not set (integration setup)`);
  return name;
}

async function scanAccounts(table: string, accountIds: readonly string[]) {
  const values = Object.fromEntries(accountIds.map((id, i) => [`:a${i}`, id]));
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: `accountId IN (${Object.keys(values).join(', ')})`,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const byKey =
  (...attributes: string[]) =>
  (a: Record<string, unknown>, b: Record<string, unknown>) => {
    const key = (item: Record<string, unknown>) =>
      attributes.map((n) => String(item[n])).join('\0');
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  };

/** Every stored item of these accounts, in a stable order. */
export async function accountItems(accountIds: readonly string[]): Promise<AccountItems> {
  const [keys, accounts, audit] = await Promise.all([
    scanAccounts(tableName('KEYGATE_KEYS_TABLE'), accountIds),
    scanAccounts(tableName('KEYGATE_ACCOUNTS_TABLE'), accountIds),
    scanAccounts(tableName('KEYGATE_AUDIT_TABLE'), accountIds),
  ]);
  return {
    keys: keys.sort(byKey('keyId')),
    accounts: accounts.sort(byKey('pk')),
    audit: audit.sort(byKey('accountId', 'eventId')),
  };
}

/** One stored item, raw (every attribute, as DynamoDB holds it), read strongly consistently. */
export async function storedItem(
  table: 'keys' | 'accounts',
  key: { keyId: string } | { pk: string },
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient().send(
    new GetCommand({
      TableName: tableName(table === 'keys' ? 'KEYGATE_KEYS_TABLE' : 'KEYGATE_ACCOUNTS_TABLE'),
      Key: key,
      ConsistentRead: true,
    }),
  );
  return Item;
}
