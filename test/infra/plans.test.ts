import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { INVOICES_DIR, loadInvoicesExample } from '../helpers/examples.js';
import { newApp, resourcesOf } from './support.js';

/**
 * Plans on AWS: where the team declared plans, every key route's function (Keygate's and the
 * team's) may count usage (the usage table, its account's plan) and knows the table; public
 * routes count nothing; without plans no function can touch the usage table at all.
 */

const loaded = await loadInvoicesExample();

function usageOf(stack: KeygateStack) {
  const template = Template.fromStack(stack);
  const usageTable = stack.getLogicalId(
    stack.keygate.tables.usageTable.node.defaultChild as Parameters<
      KeygateStack['getLogicalId']
    >[0],
  );
  const functions = new Map<string, boolean>();
  const named = [...stack.keygate.routeFunctions, ...stack.keygate.teamFunctions];
  const lambdas = resourcesOf(template, 'AWS::Lambda::Function');
  for (const [id, fn] of named) {
    const logical = stack.getLogicalId(
      fn.node.defaultChild as Parameters<KeygateStack['getLogicalId']>[0],
    );
    const variables = (
      lambdas[logical]?.Properties as { Environment?: { Variables?: Record<string, unknown> } }
    )?.Environment?.Variables;
    functions.set(String(id), variables?.KEYGATE_USAGE_TABLE !== undefined);
  }
  // Each function's role holds its policy inline.
  const policies = JSON.stringify(resourcesOf(template, 'AWS::IAM::Role'));
  return { functions, usageTable, policies };
}

/** Each route function's actions on the usage table (those with none left out), sorted. */
function usageGrants(stack: KeygateStack, usageTable: string): Map<string, string[]> {
  const template = Template.fromStack(stack);
  const roles = resourcesOf(template, 'AWS::IAM::Role');
  const grants = new Map<string, string[]>();
  for (const [id, fn] of stack.keygate.routeFunctions) {
    const role = (fn.role?.node.defaultChild ?? undefined) as
      | Parameters<KeygateStack['getLogicalId']>[0]
      | undefined;
    if (!role) continue;
    const policies =
      (roles[stack.getLogicalId(role)]?.Properties as { Policies?: unknown[] })?.Policies ?? [];
    const actions = new Set<string>();
    for (const statement of JSON.parse(JSON.stringify(policies)).flatMap(
      (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
    ) as { Action: string | string[]; Resource: unknown }[]) {
      if (!JSON.stringify(statement.Resource).includes(usageTable)) continue;
      for (const action of [statement.Action].flat()) actions.add(action);
    }
    if (actions.size > 0) grants.set(String(id), [...actions].sort());
  }
  return grants;
}

describe('plans on AWS', () => {
  it('lets every key route count usage, and no public route', () => {
    // Arrange
    const stack = new KeygateStack(newApp(), 'Keygate', {
      deployment: {
        spec: { ...loaded.spec, plans: [{ id: 'starter', quota: { perDay: 1000 } }] },
        configDir: INVOICES_DIR,
      },
    });

    // Act
    const { functions, usageTable, policies } = usageOf(stack);

    // Assert
    const publicRoutes = ['revokeLeakedApiKeys', 'getHealth', 'getOpenApi'];
    for (const [id, counts] of functions) expect(counts, id).toBe(!publicRoutes.includes(id));
    expect(functions.get('GET /v1/invoices')).toBe(true);
    expect(policies).toContain(usageTable);
  });

  it('without plans, gives no function the usage table but the usage route, which may only read it', () => {
    // Arrange
    const stack = new KeygateStack(newApp(), 'Keygate', {
      deployment: { spec: loaded.spec, configDir: INVOICES_DIR },
    });

    // Act
    const { functions, usageTable } = usageOf(stack);
    const grants = usageGrants(stack, usageTable);

    // Assert
    for (const [id, knows] of functions) expect(knows, id).toBe(id === 'getApiKeyUsage');
    expect(grants).toEqual(new Map([['getApiKeyUsage', ['dynamodb:GetItem']]]));
  });

  it('with plans, lets the usage route read the counters and count itself, nothing more', () => {
    // Arrange
    const stack = new KeygateStack(newApp(), 'Keygate', {
      deployment: {
        spec: { ...loaded.spec, plans: [{ id: 'starter', quota: { perDay: 1000 } }] },
        configDir: INVOICES_DIR,
      },
    });

    // Act
    const grants = usageGrants(stack, usageOf(stack).usageTable);

    // Assert: its own request counts against the plan (UpdateItem, as every key route's)
    expect(grants.get('getApiKeyUsage')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(grants.get('getApiKey')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });
});
