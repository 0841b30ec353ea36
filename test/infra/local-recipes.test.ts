import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import {
  SAM_DYNAMODB_ENDPOINT_ENV,
  SAM_OVERRIDDEN_ENV,
  SAM_REST_API_ID_ENV,
  samContainerEndpoint,
  samEnvVars,
  samTableNames,
} from '../../infra/local-recipes.js';
import { configFromEnv } from '../../shared/runtime/config.js';
import { keygateFunctionsOf, newApp, referencedId } from './support.js';

// What docs/deploy.md's `sam local start-api` recipe relies on in the synthesized template: SAM
// overrides only variables a function declares, so every one it sets must be declared.
const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const functions = Object.entries(keygateFunctionsOf(stack, template)).map(([id, fn]) => ({
  id,
  variables: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
}));

describe('the template, for the SAM recipe (infra/local-recipes.ts)', () => {
  it('has the route functions, the authorizer, the trailing flusher, the lifecycle-events publisher and the key-warnings scan', () => {
    expect(functions).toHaveLength(stack.keygate.routeFunctions.size + 4);
  });

  it.each(SAM_OVERRIDDEN_ENV.map((name) => [name]))('every function declares %s', (name) => {
    for (const fn of functions) expect(Object.keys(fn.variables), fn.id).toContain(name);
  });

  it('declares the DynamoDB endpoint empty, which the runtime reads as unset (AWS is untouched)', () => {
    for (const fn of functions) expect(fn.variables[SAM_DYNAMODB_ENDPOINT_ENV]).toBe('');
    const tables = {
      KEYGATE_KEYS_TABLE: 'k',
      KEYGATE_ACCOUNTS_TABLE: 'a',
      KEYGATE_AUDIT_TABLE: 'e',
    };
    expect(configFromEnv({ ...tables, [SAM_DYNAMODB_ENDPOINT_ENV]: '' }).dynamodbEndpoint).toBe(
      undefined,
    );
    expect(configFromEnv({ ...tables, ...samEnvVars().Parameters }).dynamodbEndpoint).toBe(
      samContainerEndpoint(),
    );
  });

  it('takes the table names from the deployed tables, which the env file replaces', () => {
    const tableIds = [stack.tables.keysTable, stack.tables.accountsTable, stack.tables.auditTable]
      .map((t) => stack.resolve(t.tableName))
      .map(referencedId);
    for (const fn of functions) {
      expect(
        ['KEYGATE_KEYS_TABLE', 'KEYGATE_ACCOUNTS_TABLE', 'KEYGATE_AUDIT_TABLE'].map((name) =>
          referencedId(fn.variables[name]),
        ),
      ).toEqual(tableIds);
    }
    const parameters = samEnvVars().Parameters;
    expect([
      parameters.KEYGATE_KEYS_TABLE,
      parameters.KEYGATE_ACCOUNTS_TABLE,
      parameters.KEYGATE_AUDIT_TABLE,
    ]).toEqual(Object.values(samTableNames()));
  });

  it('overrides nothing the template does not declare (an undeclared name would be ignored)', () => {
    const declared = new Set(functions.flatMap((fn) => Object.keys(fn.variables)));
    for (const name of Object.keys(samEnvVars().Parameters)) expect(declared).toContain(name);
    // The flush's API ID only where a function flushes; emptied so none is attempted locally.
    expect(functions.some((fn) => SAM_REST_API_ID_ENV in fn.variables)).toBe(true);
    expect(samEnvVars().Parameters[SAM_REST_API_ID_ENV]).toBe('');
  });
});
