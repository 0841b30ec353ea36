import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policyAllows } from '../../local/emulator.js';
import { keyMayCall, policyFor } from '../../shared/domain/policy.js';
import { ALL_SCOPES, isBillingScope, type KeyType } from '../../shared/domain/scopes.js';
import { arnMatches, routeArn } from '../../shared/gateway.js';
import { ROUTE_LIST } from '../../shared/routes.js';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';
const REQUIRED = [
  ...new Set(ROUTE_LIST.flatMap((r) => (r.access.kind === 'key' ? r.access.scopes : []))),
];

/** A concrete request ARN for a route, with path parameters filled in. */
function requestArn(method: string, path: string, value = 'qfTQ6KG0QBiwWdJ0-pCLCA') {
  return `${STAGE}/${method}${path.replace(/\{[^}]+\}/g, value)}`;
}

const keyTypes: KeyType[] = ['owner', 'general', 'billing'];

describe('policyFor', () => {
  it('allows exactly the routes the key may call, evaluated with IAM wildcards, for any scopes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...keyTypes),
        fc.subarray([...REQUIRED, 'alerts.read', 'billing.read']),
        (type, scopes) => {
          const policy = policyFor(STAGE, type, scopes);
          const held = new Set(scopes);
          for (const route of ROUTE_LIST.filter((r) => r.access.kind === 'key')) {
            const allowed = policyAllows(policy, requestArn(route.method, route.path));
            expect(allowed, `${type} ${scopes.join(' ')} ${route.method} ${route.path}`).toBe(
              keyMayCall(route, type, held),
            );
          }
        },
      ),
    );
  });

  it('never lets a wildcard reach a route of another method or a deeper path it does not own', () => {
    const policy = policyFor(STAGE, 'general', ['api_keys.read']);

    expect(policyAllows(policy, requestArn('GET', '/v3/api_keys/{id}'))).toBe(true);
    expect(policyAllows(policy, requestArn('DELETE', '/v3/api_keys/{id}'))).toBe(false);
    expect(policyAllows(policy, requestArn('POST', '/v3/api_keys'))).toBe(false);
    expect(policyAllows(policy, `${STAGE.replace('/prod', '/other')}/GET/v3/api_keys`)).toBe(false);
  });

  it('gives the owner key one stage-wide statement, well under the authorizer result limit', () => {
    const policy = policyFor(STAGE, 'owner', [...ALL_SCOPES]);
    const result = JSON.stringify({
      principalId: 'qfTQ6KG0QBiwWdJ0-pCLCA',
      policyDocument: policy,
      context: {
        accountId: 'x'.repeat(22),
        keyId: 'x'.repeat(22),
        type: 'owner',
        scopes: ALL_SCOPES.join(' '),
      },
    });

    expect(policy.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE}/*`] },
    ]);
    expect(Buffer.byteLength(JSON.stringify(policy))).toBeLessThan(200);
    expect(Buffer.byteLength(result)).toBeLessThan(8 * 1024);
  });

  it('lists routes for a Full Access general key and never the billing routes', () => {
    const policy = policyFor(
      STAGE,
      'general',
      ALL_SCOPES.filter((s) => !isBillingScope(s)),
    );

    const resources = policy.Statement[0]?.Resource ?? [];
    expect(resources.some((r) => r.includes('/billing/'))).toBe(false);
    expect(resources).toContain(`${STAGE}/POST/v3/mail/send`);
  });

  it('denies everything explicitly for a key that may call no route', () => {
    const policy = policyFor(STAGE, 'billing', ['alerts.read']);

    for (const route of ROUTE_LIST.filter(
      (r) => r.access.kind === 'key' && !r.access.keyTypes.includes('billing'),
    )) {
      expect(policyAllows(policy, requestArn(route.method, route.path))).toBe(false);
    }
  });

  it('returns the same object for the same stage, type and scopes (memoised)', () => {
    expect(policyFor(STAGE, 'general', ['mail.send'])).toBe(
      policyFor(STAGE, 'general', ['mail.send']),
    );
  });
});

describe('gateway ARN helpers', () => {
  it('turns path parameters into wildcards', () => {
    expect(routeArn(STAGE, 'GET', '/v3/api_keys/{api_key_id}')).toBe(`${STAGE}/GET/v3/api_keys/*`);
  });

  it("matches IAM's * across slashes and ? as one character, everything else literally", () => {
    expect(arnMatches('a/*', 'a/b/c')).toBe(true);
    expect(arnMatches('a/?', 'a/b')).toBe(true);
    expect(arnMatches('a/?', 'a/bc')).toBe(false);
    expect(arnMatches('a.b', 'axb')).toBe(false);
    expect(arnMatches('GET/v3/(x)', 'GET/v3/(x)')).toBe(true);
  });
});

describe('policyAllows', () => {
  const arn = `${STAGE}/GET/v3/scopes`;

  it('lets an explicit Deny win over an Allow', () => {
    const policy: Parameters<typeof policyAllows>[0] = {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE}/*`] },
        { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: arn },
      ],
    };

    expect(policyAllows(policy, arn)).toBe(false);
  });

  it('denies by default', () => {
    expect(policyAllows({ Version: '2012-10-17', Statement: [] }, arn)).toBe(false);
  });
});
