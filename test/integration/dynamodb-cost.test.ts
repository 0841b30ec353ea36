import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureOperationCosts, type OperationCosts } from '../../scripts/bench/dynamodb-cost.js';
import { dynamoDocumentClient } from '../../shared/runtime/storage.js';
import { ApiKeyView, CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { createGateway } from '../helpers/gateway.js';
import { newAccount } from '../helpers/harness.js';
import { storedItem } from '../helpers/table-items.js';

/**
 * What each operation costs in DynamoDB, as DynamoDB Local reports it (`ReturnConsumedCapacity`),
 * for the account's owner key: the largest key there is (every scope of the catalogue). The
 * same measurement `npm run bench` prints; here the structural targets are asserted.
 */
describe('DynamoDB cost per operation', () => {
  let costs: OperationCosts;

  beforeAll(async () => {
    const account = await newAccount();
    costs = await measureOperationCosts(
      dynamoDocumentClient(),
      account.ownerKey,
      process.env.KEYGATE_USAGE_TABLE,
    );
  });

  const cost = (label: string) => {
    const found = costs[label];
    if (!found) throw new Error(`no figure for ${label}`);
    return found;
  };

  it('verifies a cached key with no DynamoDB call', () => {
    expect(cost('verify (cache hit)').calls).toEqual([]);
  });

  it('verifies on a cache miss with one strongly consistent read of at most 1 RCU, even a full-access key', () => {
    const miss = cost('verify (cache miss)');

    expect(miss.calls).toHaveLength(1);
    expect(miss.calls[0]).toMatchObject({
      command: 'GetItem',
      consistentRead: true,
      writeUnits: 0,
    });
    expect(miss.readUnits).toBeLessThanOrEqual(1);
  });

  it('records a first use in a minute with one write beside the read', () => {
    const first = cost('verify (cache miss, first use this minute)');

    expect(first.calls.map((c) => c.command)).toEqual(['GetItem', 'UpdateItem']);
    expect(first.readUnits).toBeLessThanOrEqual(1);
  });

  it('creates a key in one transaction', () => {
    const writes = cost('create').calls.filter((c) => c.command !== 'GetItem');

    expect(writes.map((c) => c.command)).toEqual(['TransactWriteItems']);
  });

  it('lists with one query on the account index, never a scan', () => {
    const list = cost('list');

    expect(list.calls).toHaveLength(1);
    expect(list.calls[0]?.command).toBe('Query');
    expect(list.calls[0]?.targets.some((t) => t.endsWith('/byAccount'))).toBe(true);
  });

  it('counts a request against a plan in one write of 1 WCU; a refusal costs its failed write and one read', () => {
    const admitted = cost('plan check, admitted (rate and quotas)');
    const refused = cost('plan check, refused');

    expect(admitted.calls.map((c) => c.command)).toEqual(['UpdateItem']);
    expect(admitted.writeUnits).toBe(1);
    expect(refused.calls.map((c) => c.command)).toEqual(['UpdateItem', 'GetItem']);
    expect(refused.calls[0]?.failed).toBe('ConditionalCheckFailedException');
    expect(refused.calls[1]).toMatchObject({ consistentRead: true });
  });

  it("counts a key with limits of its own on an account with a plan in two writes (the key's, the account's); nothing when nothing limits", () => {
    const both = cost("key's own limits and the plan, admitted");
    const unlimited = cost('limits check, unlimited');

    expect(both.calls.map((c) => c.command)).toEqual(['UpdateItem', 'UpdateItem']);
    expect(both.writeUnits).toBe(2);
    expect(unlimited.calls).toEqual([]);
  });

  it('never scans, and writes each change in one transaction', () => {
    for (const [label, { calls }] of Object.entries(costs)) {
      expect(
        calls.filter((c) => c.command === 'Scan'),
        label,
      ).toEqual([]);
      expect(
        calls.filter(
          (c) => c.writeUnits > 0 && !['TransactWriteItems', 'UpdateItem'].includes(c.command),
        ),
        label,
      ).toEqual([]);
    }
  });
});

describe('scopes stored as codes', () => {
  it('stores a key’s scopes as a short bitmap, never as the list of names', async () => {
    const account = await newAccount();

    const item = await storedItem('keys', { keyId: account.owner.keyId });

    expect(item?.scopes).toBeUndefined();
    expect(typeof item?.scopeCodes).toBe('string');
    expect(String(item?.scopeCodes).length).toBeLessThan(50);
  });

  it('still reads a key item written with the list of names, and rewrites it as codes on update', async () => {
    // Arrange: the item shape before scope codes.
    const account = await newAccount();
    const gateway = createGateway();
    const created = await gateway.call(
      'POST',
      '/v3/api_keys',
      { key: account.ownerKey, body: { name: 'legacy', scopes: ['mail.send', 'alerts.read'] } },
      CreatedApiKey,
    );
    const { api_key: key, api_key_id: keyId } = created.body;
    const { scopeCodes: _codes, ...rest } = (await storedItem('keys', { keyId })) ?? {};
    await dynamoDocumentClient().send(
      new PutCommand({
        TableName: process.env.KEYGATE_KEYS_TABLE,
        Item: { ...rest, scopes: ['alerts.read', 'mail.send'] },
      }),
    );

    // Act
    const read = await gateway.call(
      'GET',
      `/v3/api_keys/${keyId}`,
      { key: account.ownerKey },
      ApiKeyView,
    );
    const used = await gateway.call('GET', '/v3/scopes', { key });
    const updated = await gateway.call('PUT', `/v3/api_keys/${keyId}`, {
      key: account.ownerKey,
      body: { name: 'legacy', scopes: ['mail.send'] },
    });

    // Assert
    expect(read.body.scopes).toEqual(['alerts.read', 'mail.send']);
    expect(used.status).toBe(200);
    expect(updated.status).toBe(200);
    const after = await storedItem('keys', { keyId });
    expect(after?.scopes).toBeUndefined();
    expect(typeof after?.scopeCodes).toBe('string');
    const reread = await gateway.call(
      'GET',
      `/v3/api_keys/${keyId}`,
      { key: account.ownerKey },
      ApiKeyView,
    );
    expect(reread.body.scopes).toEqual(['mail.send']);
  });
});
