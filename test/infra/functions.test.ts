import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { AUTHORIZER_MEMORY_MB, ROUTE_MEMORY_MB } from '../../infra/constructs/keygate.js';
import { KeygateFunction } from '../../infra/constructs/keygate-function.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { coldStartEntries } from '../../scripts/bench/cold-start.js';
import { ROUTE_LIST, type RouteId } from '../../shared/routes.js';
import {
  type CfnResource,
  keygateFunctionsOf,
  newApp,
  referencedId,
  render,
  resourceOf,
  resourcesOf,
} from './support.js';

// One synth per configuration, shared by every assertion: the defaults (no SES identity) and a
// deployment that sends mail.
const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const mailStack = new KeygateStack(newApp(), 'Mail', { sesIdentity: 'example.com' });
const mailTemplate = Template.fromStack(mailStack);

const idOf = (s: Stack, construct: { node: { defaultChild?: unknown } }) =>
  s.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

const KEYS = `\${${idOf(stack, stack.tables.keysTable)}.Arn}`;
const ACCOUNTS = `\${${idOf(stack, stack.tables.accountsTable)}.Arn}`;
const AUDIT = `\${${idOf(stack, stack.tables.auditTable)}.Arn}`;
const LEASE = `\${${idOf(stack, stack.tables.flushTable)}.Arn}`;
const USAGE = `\${${idOf(stack, stack.tables.usageTable)}.Arn}`;
const API = `\${${idOf(stack, stack.keygate.api)}}`;
const FLUSH = `arn:\${AWS::Partition}:apigateway:\${AWS::Region}::/restapis/${API}/stages/prod/cache/authorizers`;

/** A statement's condition, as {@link grantsOf} renders it after the action and resource. */
const when = (condition: Record<string, unknown>) => `when ${canonical(condition)}`;
/** Only the accounts table's item holding the deployment's audit-cursor key. */
const CURSOR_KEY_ITEM_ONLY = when({
  'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['deployment#cursor-key'] },
});
/** Only name reservations and accounts' items: resolving `on-behalf-of`. */
const NAMES_AND_ACCOUNTS_ONLY = when({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['name#*', 'account#*'] },
});
/** Resolving `on-behalf-of`: the name's reservation, then the subuser's item. */
const ON_BEHALF_OF = `dynamodb:GetItem ${ACCOUNTS} ${NAMES_AND_ACCOUNTS_ONLY}`;
/** Only accounts' own items (`account#<id>`): reading an account's plan. */
const ACCOUNT_ITEMS_ONLY = when({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['account#*'] },
});
/** Only the accounts table's counters of refused attempts (`refusals#<key>#<hour>`). */
const REFUSAL_COUNTERS_ONLY = when({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['refusals#*'] },
});

/**
 * What each function may do beyond writing its own log group, as `action resource` pairs,
 * written out by hand from the repository code (shared/adapters/dynamodb/keys-repository.ts):
 * deliberately not derived from infra/constructs/permissions.ts, so a change there that grants
 * more (or less) than the code uses fails here.
 */
const EXPECTED: Record<RouteId, string[]> = {
  // getAccount (max lifetime) + insertKey: TransactWrite [Update account counter, Put key, Put
  // event]; a refused escalation puts an event alone
  createApiKey: [
    `dynamodb:PutItem ${KEYS}`,
    `dynamodb:GetItem ${ACCOUNTS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${AUDIT}`,
    ON_BEHALF_OF,
  ],
  // listKeys: Query on the byAccount index
  listApiKeys: [`dynamodb:Query ${KEYS}/index/byAccount`, ON_BEHALF_OF],
  getApiKey: [`dynamodb:GetItem ${KEYS}`, ON_BEHALF_OF],
  // getKey, getAccount (its plan), then UsageStore.read: GetItem of the month's counters; never
  // a write to the usage table, never another kind of account item
  getApiKeyUsage: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:GetItem ${ACCOUNTS} ${ACCOUNT_ITEMS_ONLY}`,
    `dynamodb:GetItem ${USAGE}`,
    ON_BEHALF_OF,
  ],
  // getKey + updateKey (TransactWrite [Update key, Put event]); a rename never flushes; a
  // refused attempt: TransactWrite [Update its refusals counter, Put event]
  renameApiKey: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:UpdateItem ${ACCOUNTS} ${REFUSAL_COUNTERS_ONLY}`,
    `dynamodb:PutItem ${AUDIT}`,
    ON_BEHALF_OF,
  ],
  // getAccount (expiry) + getKey + updateKey + flush when access changes; refusals counted
  replaceApiKey: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:GetItem ${ACCOUNTS}`,
    `dynamodb:UpdateItem ${ACCOUNTS} ${REFUSAL_COUNTERS_ONLY}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
    ON_BEHALF_OF,
  ],
  // getKey + deleteKey: TransactWrite [Put event, Delete key, Update account counter] + flush
  deleteApiKey: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:DeleteItem ${KEYS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
    ON_BEHALF_OF,
  ],
  // listEvents: Query on the audit table, or on its byTarget index; cursorKey: GetItem of the
  // cursor key's item, and a conditional PutItem of it on the deployment's first use, never of
  // any other item of the accounts table
  listApiKeyEvents: [
    `dynamodb:Query ${AUDIT}`,
    `dynamodb:Query ${AUDIT}/index/byTarget`,
    `dynamodb:GetItem ${ACCOUNTS} ${CURSOR_KEY_ITEM_ONLY}`,
    `dynamodb:PutItem ${ACCOUNTS} ${CURSOR_KEY_ITEM_ONLY}`,
    ON_BEHALF_OF,
  ],
  // getKey + updateKey + flush; refusals counted
  rollApiKey: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:UpdateItem ${ACCOUNTS} ${REFUSAL_COUNTERS_ONLY}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
    ON_BEHALF_OF,
  ],
  // getKey (the ID is in the value) + deleteKey (TransactWrite [Delete key, Update account
  // counter, Put event]) / updateKey (grace periods) + flush; refusals counted on the accounts
  // table with the same UpdateItem
  revokeApiKeysByValue: [
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:DeleteItem ${KEYS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
    ON_BEHALF_OF,
  ],
  // findKeyIdByHash + getKey + deleteKey / updateKey + flush
  revokeLeakedApiKeys: [
    `dynamodb:Query ${KEYS}/index/byHash`,
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:DeleteItem ${KEYS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
  ],
  // Answer from the authorizer's context and the bundled catalogue; resolve on-behalf-of
  listScopes: [ON_BEHALF_OF],
  listScopeAreas: [ON_BEHALF_OF],
  // getAccount (a parent?) + Query on the accounts table's byParent index
  listSubusers: [`dynamodb:GetItem ${ACCOUNTS}`, `dynamodb:Query ${ACCOUNTS}/index/byParent`],
  // getAccount (a parent? its plan bounds the answer)
  listPlans: [`dynamodb:GetItem ${ACCOUNTS}`],
  // getAccount + createSubuser: TransactWrite [Update parent counter, Put name, Put user ID,
  // Put account, Put event]
  createSubuser: [
    `dynamodb:GetItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${ACCOUNTS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:PutItem ${AUDIT}`,
  ],
  // getAccount + find the subuser (GetItem name, account) + setAccountDisabled: TransactWrite
  // [Update account (and its plan), Put events], Query byAccount, TransactWrite [ConditionCheck
  // account, Update keys], UpdateItem (marking done); getKey of an owner key; flush. A plan alone:
  // setAccountPlan, TransactWrite [Update account, Put event]
  updateSubuser: [
    `dynamodb:GetItem ${ACCOUNTS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:ConditionCheckItem ${ACCOUNTS}`,
    `dynamodb:Query ${KEYS}/index/byAccount`,
    `dynamodb:GetItem ${KEYS}`,
    `dynamodb:UpdateItem ${KEYS}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
  ],
  // find the subuser + UpdateItem (being deleted) + Query byAccount + TransactWrite [Update
  // counter, Delete keys] + TransactWrite [Delete account, name, user ID; Update parent counter;
  // Put event] + flush
  deleteSubuser: [
    `dynamodb:GetItem ${ACCOUNTS}`,
    `dynamodb:UpdateItem ${ACCOUNTS}`,
    `dynamodb:DeleteItem ${ACCOUNTS}`,
    `dynamodb:Query ${KEYS}/index/byAccount`,
    `dynamodb:DeleteItem ${KEYS}`,
    `dynamodb:PutItem ${AUDIT}`,
    `apigateway:DELETE ${FLUSH}`,
    // The flush lease: claim, mark, record (shared/adapters/dynamodb/flush-lease.ts)
    `dynamodb:GetItem ${LEASE}`,
    `dynamodb:UpdateItem ${LEASE}`,
  ],
  // No SES identity configured: nothing (the mailer refuses every sender).
  sendMail: [],
  getBillingProfile: [`dynamodb:GetItem ${ACCOUNTS}`],
  updateBillingProfile: [`dynamodb:UpdateItem ${ACCOUNTS}`],
  getHealth: [],
  getOpenApi: [],
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  NotAction?: unknown;
  NotResource?: unknown;
}

function roleOf(t: Template, fn: CfnResource): CfnResource {
  return resourceOf(t, referencedId(fn.Properties.Role) ?? '');
}

function functionResource(s: Stack, t: Template, fn: NodejsFunction): CfnResource {
  return resourceOf(t, idOf(s, fn));
}

/** JSON with every object's keys sorted, so equal conditions render equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A role's grants as sorted `action resource` pairs, each followed by its statement's condition
 * (`when {…}`) if it has one, so a condition is part of what must match (checks the statements'
 * shape on the way).
 */
function grantsOf(role: CfnResource): string[] {
  expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  expect(policies).toHaveLength(1);
  const pairs: string[] = [];
  for (const statement of policies[0]?.PolicyDocument.Statement ?? []) {
    expect(statement.Effect).toBe('Allow');
    expect(statement.NotAction ?? statement.NotResource).toBeUndefined();
    const condition =
      statement.Condition === undefined
        ? ''
        : ` ${when(statement.Condition as Record<string, unknown>)}`;
    const actions = [statement.Action].flat();
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const action of actions) {
      for (const resource of resources) pairs.push(`${action} ${render(resource)}${condition}`);
    }
  }
  return pairs.sort();
}

function ownLogs(s: Stack, t: Template, fn: NodejsFunction): string[] {
  const logGroup = referencedId(
    (functionResource(s, t, fn).Properties.LoggingConfig as { LogGroup: unknown }).LogGroup,
  );
  return [`logs:CreateLogStream \${${logGroup}.Arn}`, `logs:PutLogEvents \${${logGroup}.Arn}`];
}

describe('functions', () => {
  // Keygate's functions: all but the console deployment's provider (see console.test.ts).
  const functions = keygateFunctionsOf(stack, template);

  it('are one per route of the table, plus the authorizer, the trailing flusher, the lifecycle-events publisher and the key-warnings scan', () => {
    expect(Object.keys(functions)).toHaveLength(ROUTE_LIST.length + 4);
    expect([...stack.keygate.routeFunctions.keys()].sort()).toEqual(
      ROUTE_LIST.map((r) => r.id).sort(),
    );
  });

  it('bundle exactly the entries the cold-start bench measures', () => {
    const deployed = stack.keygate.node
      .findAll()
      .filter((c): c is KeygateFunction => c instanceof KeygateFunction);

    expect(deployed).toHaveLength(Object.keys(functions).length);
    expect(deployed.map((f) => f.entry).sort()).toEqual(
      coldStartEntries()
        .flatMap((e) => (e.entry ? [e.entry] : []))
        .sort(),
    );
    expect(stack.keygate.node.findChild('Authorizer')).toBeInstanceOf(KeygateFunction);
    expect((stack.keygate.node.findChild('Authorizer') as KeygateFunction).entry).toBe(
      coldStartEntries()[0]?.entry,
    );
  });

  it.each(Object.entries(functions))(
    '%s runs nodejs24.x on arm64, ESM with source maps, JSON logs',
    (id, fn) => {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: {
          Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }),
        },
        LoggingConfig: expect.objectContaining({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
      });
      const timeout = fn.Properties.Timeout as number;
      expect(timeout).toBeGreaterThan(0);
      // Under API Gateway's 29 s, but the scheduled scan's (test/infra/key-warnings.test.ts).
      if (!id.startsWith('KeygateKeyWarnings')) expect(timeout).toBeLessThanOrEqual(29);
    },
  );

  it('have the memory sizes of the cost model (docs/cost.md): the authorizer, then routes', () => {
    const memoryOf = (fn: NodejsFunction) =>
      resourceOf(template, idOf(stack, fn)).Properties.MemorySize;

    expect(memoryOf(stack.keygate.authorizerFunction)).toBe(AUTHORIZER_MEMORY_MB);
    expect(AUTHORIZER_MEMORY_MB).toBe(1024);
    expect(ROUTE_MEMORY_MB).toBe(1769);
    for (const fn of stack.keygate.routeFunctions.values()) {
      expect(memoryOf(fn)).toBe(ROUTE_MEMORY_MB);
    }
  });

  it.each(Object.entries(functions))(
    '%s logs into its own log group, with a retention',
    (_id, fn) => {
      const logGroupId = referencedId(
        (fn.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup,
      );
      const logGroup = resourceOf(template, logGroupId ?? '');

      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(30);
      const users = Object.values(functions).filter(
        (f) =>
          referencedId((f.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup) ===
          logGroupId,
      );
      expect(users).toHaveLength(1);
    },
  );

  it('each have their own role, and no role has a managed or separate policy', () => {
    const roles = Object.values(functions).map((f) => referencedId(f.Properties.Role));

    expect(new Set(roles).size).toBe(roles.length);
    const policyRoles = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.Roles as unknown[]).map(referencedId),
    );
    expect(policyRoles.filter((role) => roles.includes(role))).toEqual([]);
    for (const role of roles) {
      const resource = resourceOf(template, role ?? '');
      expect(resource.Properties.ManagedPolicyArns).toBeUndefined();
      expect(resource.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
          },
        ],
      });
    }
  });
});

describe('least privilege', () => {
  it.each(ROUTE_LIST.map((r) => [r.id, r] as const))(
    '%s may do exactly what its code does, on exact resources',
    (id, _route) => {
      const fn = stack.keygate.routeFunctions.get(id);
      if (!fn) throw new Error(`No function for ${id}`);

      const grants = grantsOf(roleOf(template, functionResource(stack, template, fn)));

      expect(grants).toEqual([...ownLogs(stack, template, fn), ...EXPECTED[id]].sort());
    },
  );

  it('gives the authorizer GetItem on the keys table, and UpdateItem of the last-use attributes only', () => {
    const fn = stack.keygate.authorizerFunction;
    const role = roleOf(template, functionResource(stack, template, fn));

    expect(grantsOf(role)).toEqual(
      [
        ...ownLogs(stack, template, fn),
        `dynamodb:GetItem ${KEYS}`,
        `dynamodb:UpdateItem ${KEYS} ${when({
          'ForAllValues:StringEquals': {
            'dynamodb:Attributes': ['keyId', 'lastUsedAt', 'lastUsedIp'],
          },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
        })}`,
      ].sort(),
    );
    const statements = (
      role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    const update = statements.find((st) => [st.Action].flat().includes('dynamodb:UpdateItem'));
    expect(update?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['keyId', 'lastUsedAt', 'lastUsedIp'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
    });
  });

  it('never grants a wildcard action or a wildcard resource', () => {
    for (const role of Object.values(resourcesOf(template, 'AWS::IAM::Role'))) {
      if (role.Properties.Policies === undefined) continue;
      for (const grant of grantsOf(role)) {
        const [action = '', resource = ''] = grant.split(' ');
        expect(action).not.toContain('*');
        expect(resource.replace(/\$\{[^}]+\}/g, '')).not.toContain('*');
      }
    }
  });

  it('lets only the functions that revoke or change access flush the authorizer cache', () => {
    const flushers = ROUTE_LIST.filter((route) => {
      const fn = stack.keygate.routeFunctions.get(route.id);
      if (!fn) throw new Error(`No function for ${route.id}`);
      return grantsOf(roleOf(template, functionResource(stack, template, fn))).some((g) =>
        g.startsWith('apigateway:'),
      );
    }).map((r) => r.id);

    expect(flushers.sort()).toEqual([
      'deleteApiKey',
      'deleteSubuser',
      'replaceApiKey',
      'revokeApiKeysByValue',
      'revokeLeakedApiKeys',
      'rollApiKey',
      'updateSubuser',
    ]);
  });

  it('tells only the flushing functions which API and stage to flush', () => {
    for (const route of ROUTE_LIST) {
      const fn = stack.keygate.routeFunctions.get(route.id);
      if (!fn) throw new Error(`No function for ${route.id}`);
      const variables = (
        functionResource(stack, template, fn).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      const flushes = [
        'deleteApiKey',
        'deleteSubuser',
        'replaceApiKey',
        'revokeApiKeysByValue',
        'revokeLeakedApiKeys',
        'rollApiKey',
        'updateSubuser',
      ].includes(route.id);
      expect(
        variables.KEYGATE_REST_API_ID === undefined
          ? undefined
          : render(variables.KEYGATE_REST_API_ID),
      ).toBe(flushes ? API : undefined);
      expect(variables.KEYGATE_STAGE).toBe(flushes ? 'prod' : undefined);
    }
  });

  it('without an SES identity, gives mail send neither an identity nor an SES permission', () => {
    const fn = stack.keygate.routeFunctions.get('sendMail');
    if (!fn) throw new Error('No sendMail function');
    const resource = functionResource(stack, template, fn);

    expect(
      (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .KEYGATE_SES_IDENTITY,
    ).toBeUndefined();
    expect(grantsOf(roleOf(template, resource)).filter((g) => g.startsWith('ses:'))).toEqual([]);
  });

  it('with an SES identity, lets mail send (only) call SendEmail as that identity', () => {
    const fn = mailStack.keygate.routeFunctions.get('sendMail');
    if (!fn) throw new Error('No sendMail function');
    const resource = functionResource(mailStack, mailTemplate, fn);

    expect(
      (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .KEYGATE_SES_IDENTITY,
    ).toBe('example.com');
    expect(grantsOf(roleOf(mailTemplate, resource))).toEqual(
      [
        ...ownLogs(mailStack, mailTemplate, fn),
        `ses:SendEmail arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:identity/example.com`,
      ].sort(),
    );
    const others = Object.values(resourcesOf(mailTemplate, 'AWS::IAM::Role')).filter(
      (role) => role !== roleOf(mailTemplate, resource) && role.Properties.Policies !== undefined,
    );
    for (const role of others) expect(grantsOf(role).some((g) => g.startsWith('ses:'))).toBe(false);
  });

  it('in the SES sandbox, adds the listed recipient identities (and only those) to SendEmail', () => {
    const sandbox = new KeygateStack(newApp(), 'Sandbox', {
      sesIdentity: 'noreply@example.com',
      sesSandboxRecipients: ['me@example.org', 'example.net'],
    });
    const sandboxTemplate = Template.fromStack(sandbox);
    const fn = sandbox.keygate.routeFunctions.get('sendMail');
    if (!fn) throw new Error('No sendMail function');
    const identity = `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:identity`;

    expect(
      grantsOf(roleOf(sandboxTemplate, functionResource(sandbox, sandboxTemplate, fn))),
    ).toEqual(
      [
        ...ownLogs(sandbox, sandboxTemplate, fn),
        `ses:SendEmail ${identity}/noreply@example.com`,
        `ses:SendEmail ${identity}/me@example.org`,
        `ses:SendEmail ${identity}/example.net`,
      ].sort(),
    );
  });

  it.each([
    ['without an SES identity', { sesSandboxRecipients: ['me@example.org'] }, /needs sesIdentity/],
    [
      'that are neither address nor domain',
      { sesIdentity: 'example.com', sesSandboxRecipients: ['not a recipient'] },
      /sesSandboxRecipients must be an email address or a domain/,
    ],
  ])('refuses sandbox recipients %s', (_case, props, message) => {
    expect(() => new KeygateStack(newApp(), 'BadSandbox', props)).toThrow(message);
  });

  it('lets API Gateway invoke each function only from its own method (or as the authorizer)', () => {
    // The key-warnings scan's, for its schedule, is test/infra/key-warnings.test.ts's.
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal !== 'events.amazonaws.com',
    );

    expect(permissions).toHaveLength(ROUTE_LIST.length + 1);
    for (const permission of permissions) {
      expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(permission.Properties.Action).toBe('lambda:InvokeFunction');
      const source = render(permission.Properties.SourceArn);
      expect(source).toMatch(
        /^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{\w+\}\/(?:\$\{\w+\}\/(?:GET|POST|PUT|PATCH|DELETE)\/\S+|authorizers\/\$\{\w+\})$/,
      );
    }
  });
});
