import { describe, expect, it } from 'vitest';
import { policyAllows } from '../../local/emulator.js';
import { ALL_SCOPES } from '../../shared/domain/scopes.js';
import { findRoute, policyFor } from '../../shared/gateway/policy.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import {
  EXTRA_ROUTES_ENV,
  type ExtraRoute,
  parseExtraRoutes,
  serializeExtraRoutes,
} from '../../shared/runtime/extra-routes.js';
import { policyRoutes } from '../../shared/runtime/storage.js';

const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';
const ID = 'qfTQ6KG0QBiwWdJ0-pCLCA';

const REPORTS: ExtraRoute = {
  method: 'GET',
  path: '/v3/reports/{report_id}',
  scopes: ['stats.read'],
  keyTypes: ['owner', 'general'],
};

describe('parseExtraRoutes', () => {
  it('reads nothing from an unset or empty variable', () => {
    expect(parseExtraRoutes(undefined)).toEqual([]);
    expect(parseExtraRoutes('')).toEqual([]);
    expect(parseExtraRoutes('[]')).toEqual([]);
  });

  it('reads back what serializeExtraRoutes wrote, as key-access policy routes', () => {
    // Act
    const routes = parseExtraRoutes(serializeExtraRoutes([REPORTS]));

    // Assert
    expect(routes).toEqual([
      {
        method: 'GET',
        path: '/v3/reports/{report_id}',
        access: { kind: 'key', scopes: ['stats.read'], keyTypes: ['owner', 'general'] },
      },
    ]);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['not an array', '{"method":"GET"}', /JSON array/],
    ['an entry that is not an object', '[1]', /\[0\] must be an object/],
    ['an unknown method', JSON.stringify([{ ...REPORTS, method: 'ANY' }]), /method/],
    ['a path without a leading slash', JSON.stringify([{ ...REPORTS, path: 'v3/x' }]), /path/],
    ['a greedy path parameter', JSON.stringify([{ ...REPORTS, path: '/v3/{proxy+}' }]), /path/],
    ['scopes that are not strings', JSON.stringify([{ ...REPORTS, scopes: [1] }]), /scopes/],
    ['no key types', JSON.stringify([{ ...REPORTS, keyTypes: [] }]), /keyTypes/],
    ['an unknown key type', JSON.stringify([{ ...REPORTS, keyTypes: ['admin'] }]), /keyTypes/],
    ['a route listed twice', serializeExtraRoutes([REPORTS, REPORTS]), /twice/],
  ])('refuses %s (the cold start fails closed)', (_case, value, message) => {
    expect(() => parseExtraRoutes(value)).toThrow(message);
  });
});

describe('policies with extra routes', () => {
  const routes = [...ROUTE_LIST, ...parseExtraRoutes(serializeExtraRoutes([REPORTS]))];
  const reportArn = `${STAGE}/GET/v3/reports/${ID}`;
  const reports = findRoute(routes, 'GET', REPORTS.path);
  const general = (scopes: string[]) => ({ type: 'general' as const, scopes });

  it('find the extra route by method and resource path', () => {
    expect(reports?.path).toBe(REPORTS.path);
    expect(findRoute(ROUTE_LIST, 'GET', REPORTS.path)).toBeUndefined();
  });

  it('allow an extra route to a key holding its scope and type', () => {
    expect(policyAllows(policyFor(STAGE, general(['stats.read']), reports), reportArn)).toBe(true);
  });

  it('deny it to a key without the scope, or of a type the route does not admit', () => {
    expect(policyAllows(policyFor(STAGE, general(['mail.send']), reports), reportArn)).toBe(false);
    expect(
      policyAllows(
        policyFor(STAGE, { type: 'billing', scopes: ['stats.read'] }, reports),
        reportArn,
      ),
    ).toBe(false);
  });

  it('allow it to the owner key, also with a secret in its grace period (ordinary use)', () => {
    const owner = { type: 'owner' as const, scopes: [...ALL_SCOPES] };
    expect(policyAllows(policyFor(STAGE, owner, reports), reportArn)).toBe(true);
    // An added route is ordinary use: a secret in its grace period may call it.
    expect(
      policyAllows(policyFor(STAGE, { ...owner, secret: 'previous' }, reports), reportArn),
    ).toBe(true);
  });

  it('are memoised per route, and never mixed up with a route of the same path elsewhere', () => {
    const withExtra = policyFor(STAGE, general(['stats.read']), reports);
    const otherList = parseExtraRoutes(
      serializeExtraRoutes([{ ...REPORTS, scopes: ['stats.global.read'] }]),
    );
    const other = policyFor(STAGE, general(['stats.read']), otherList[0]);

    expect(policyFor(STAGE, general(['stats.read']), reports)).toBe(withExtra);
    expect(policyAllows(other, reportArn)).toBe(false);
  });
});

describe('policyRoutes', () => {
  it(`parses ${EXTRA_ROUTES_ENV} once and returns the same list afterwards`, () => {
    // Arrange
    const env = { [EXTRA_ROUTES_ENV]: serializeExtraRoutes([REPORTS]) };

    // Act
    const first = policyRoutes(env);
    const second = policyRoutes({ [EXTRA_ROUTES_ENV]: 'not even JSON' });

    // Assert
    expect(first).toHaveLength(ROUTE_LIST.length + 1);
    expect(first.slice(0, ROUTE_LIST.length)).toEqual(ROUTE_LIST);
    expect(first.at(-1)?.path).toBe(REPORTS.path);
    expect(second).toBe(first);
  });
});
