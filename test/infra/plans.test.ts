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

  it('without plans, gives no function the usage table', () => {
    // Arrange
    const stack = new KeygateStack(newApp(), 'Keygate', {
      deployment: { spec: loaded.spec, configDir: INVOICES_DIR },
    });

    // Act
    const { functions, usageTable, policies } = usageOf(stack);

    // Assert
    expect([...functions.values()].every((counts) => !counts)).toBe(true);
    expect(policies).not.toContain(usageTable);
  });
});
