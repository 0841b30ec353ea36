import { beforeAll, describe, expect, it } from 'vitest';
import type { ScopeCatalogue } from '../../shared/domain/catalogue.js';
import type { RouteDefinition } from '../../shared/routes.js';
import { CreatedApiKey } from '../../shared/schemas/api-keys.js';
import { type CallOptions, countDynamoCommands, type Gateway } from './gateway.js';
import { newAccount, type TestAccount } from './harness.js';

/**
 * The shared security suite, as a function of a route list: for every route that needs a key,
 * no key, a malformed key, a deleted key, a missing scope, a wrong key type, another account's
 * resource, exactly the required scopes, the owner key and a retiring secret; for every public
 * route, no key and a bad one. Generated from the routes whatever their source (Keygate's route
 * table, a team's config), run through the API Gateway emulator with the real authorizer and
 * handlers on DynamoDB Local. Call it at the top level of a test file.
 */

export interface SuiteRequest {
  path: string;
  body?: unknown;
  query?: Record<string, string>;
}

export interface SuiteFixture {
  /**
   * A valid request for `account`, and the status it succeeds with. `scopes` are the route's
   * required scopes: every caller that passes the gate holds them, so resources the request
   * touches are made with them (a caller may only manage keys it could have granted).
   */
  request(account: TestAccount, scopes: readonly string[]): Promise<SuiteRequest>;
  success: number;
  /** A request for a resource of `other` (another account), where the route has one. */
  crossAccount?(other: TestAccount, scopes: readonly string[]): Promise<SuiteRequest>;
  /**
   * Routes that take `on-behalf-of`: a valid request about the subuser `subuser` of `parent`
   * (its resources made by the parent's owner key acting for it), sent by the suite with the
   * header. Defaults to {@link request} of the parent (routes that name no resource).
   */
  onBehalfOf?(
    parent: TestAccount,
    subuser: string,
    scopes: readonly string[],
  ): Promise<SuiteRequest>;
}

export type SuiteRoute = Pick<RouteDefinition, 'method' | 'path' | 'access'> & { id: string };

/** The scopes a key may hold, by key type: what "everything but" and "wrong type" keys get. */
export interface ScopePools {
  general: readonly string[];
  billing: readonly string[];
}

export interface SecuritySuiteOptions<R extends SuiteRoute> {
  call: Gateway['call'];
  routes: readonly R[];
  fixture(route: R): SuiteFixture;
  pools: ScopePools;
  /**
   * The one scope an "any key" route's least key holds, by the route's key types.
   *
   * @default mail.send for general keys, billing.read for billing keys
   */
  anyKeyScope?: { general: string; billing: string };
  /** Makes a subuser of the account through the API: its username (routes with `on-behalf-of`). */
  subuserOf?(account: TestAccount): Promise<string>;
}

/** A deployment's catalogue as scope pools (billing areas apart). */
export function scopePools(catalogue: ScopeCatalogue): ScopePools {
  return {
    general: catalogue.all.filter((s) => !catalogue.isBilling(s)),
    billing: catalogue.all.filter((s) => catalogue.isBilling(s)),
  };
}

/** Creates a key through the API with `owner`'s key (Full Access when `scopes` is undefined). */
export function keyCreator(call: Gateway['call']) {
  return async (
    owner: string,
    scopes: readonly string[] | undefined,
    name = 'fixture',
    onBehalfOf?: string,
  ) => {
    const body = { name, scopes: scopes === undefined ? undefined : [...scopes] };
    const res = await call(
      'POST',
      '/v3/api_keys',
      {
        key: owner,
        body,
        ...(onBehalfOf === undefined ? {} : { headers: { 'on-behalf-of': onBehalfOf } }),
      },
      CreatedApiKey,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
}

export function securitySuite<R extends SuiteRoute>(options: SecuritySuiteOptions<R>): void {
  const { call, pools } = options;
  const createKey = keyCreator(call);
  const anyKey = options.anyKeyScope ?? { general: 'mail.send', billing: 'billing.read' };

  /**
   * The least a key needs for a route: its required scopes, or, for "any key" routes, one scope
   * of a key type the route allows.
   */
  function exactScopes(access: { scopes: readonly string[]; keyTypes: readonly string[] }) {
    if (access.scopes.length > 0) return [...access.scopes];
    return access.keyTypes.includes('general') ? [anyKey.general] : [anyKey.billing];
  }

  function send(route: R, request: SuiteRequest, callOptions: CallOptions) {
    return call(route.method, request.path, {
      body: request.body,
      query: request.query,
      ...callOptions,
    });
  }

  const keyed = options.routes.flatMap((route) =>
    route.access.kind === 'key'
      ? [[`${route.method} ${route.path}`, route, route.access] as const]
      : [],
  );
  const publicRoutes = options.routes.filter((r) => r.access.kind === 'public');

  describe.each(keyed)('%s', (_name, route, access) => {
    const fixture = options.fixture(route);
    const request = (account: TestAccount) => fixture.request(account, access.scopes);
    let account: TestAccount;

    beforeAll(async () => {
      account = await newAccount();
    });

    it('answers 401 without a key', async () => {
      const res = await send(route, await request(account), {});

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: [{ field: null, message: 'authorization required' }] });
    });

    it.each([
      ['too short', 'Bearer SG.abc.def'],
      ['wrong checksum', `Bearer SG.${'A'.repeat(22)}.${'B'.repeat(43)}`],
      ['wrong scheme', `Basic ${'A'.repeat(40)}`],
      ['no scheme', `SG.${'A'.repeat(22)}.${'B'.repeat(43)}`],
    ])(
      'answers 401 to a malformed key (%s) without reading DynamoDB',
      async (_case, authorization) => {
        // Arrange
        const req = await request(account);
        const reads = countDynamoCommands();

        // Act
        const res = await send(route, req, { authorization });

        // Assert
        expect(res.status).toBe(401);
        expect(reads.count).toBe(0);
      },
    );

    it('answers 401 to a deleted key, even right after it was allowed', async () => {
      // Arrange
      const scopes = exactScopes(access);
      const key = await createKey(account.ownerKey, scopes, 'doomed');
      const req = await request(account);
      expect((await send(route, req, { key: key.api_key })).status).not.toBe(401);
      expect(
        (await call('DELETE', `/v3/api_keys/${key.api_key_id}`, { key: account.ownerKey })).status,
      ).toBe(204);

      // Act
      const res = await send(route, await request(account), { key: key.api_key });

      // Assert
      expect(res.status).toBe(401);
    });

    if (access.scopes.length > 0) {
      it('answers 403 to a key of an allowed type that lacks the scope', async () => {
        // Arrange: everything its type can hold, except what the route needs.
        const pool = access.keyTypes.includes('general') ? pools.general : pools.billing;
        const scopes = pool.filter((s) => !access.scopes.includes(s));
        const key = await createKey(account.ownerKey, scopes, 'almost');

        // Act
        const res = await send(route, await request(account), { key: key.api_key });

        // Assert
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ errors: [{ field: null, message: 'access forbidden' }] });
      });
    }

    if (!access.keyTypes.includes('billing')) {
      it('answers 403 to a billing key, whatever its scopes', async () => {
        const key = await createKey(account.ownerKey, pools.billing, 'billing');

        const res = await send(route, await request(account), { key: key.api_key });

        expect(res.status).toBe(403);
      });
    }

    if (!access.keyTypes.includes('general')) {
      it('answers 403 to a general key, even one with every general scope', async () => {
        const key = await createKey(account.ownerKey, undefined, 'full');

        const res = await send(route, await request(account), { key: key.api_key });

        expect(res.status).toBe(403);
      });
    }

    if (fixture.crossAccount) {
      const crossAccount = fixture.crossAccount;
      it("answers 404 for another account's resource", async () => {
        // Arrange
        const other = await newAccount();
        const req = await crossAccount(other, access.scopes);

        // Act
        const res = await send(route, req, { key: account.ownerKey });

        // Assert
        expect(res.status).toBe(404);
      });
    }

    it('succeeds for a key holding exactly the required scopes', async () => {
      // Arrange
      const scopes = exactScopes(access);
      const key = await createKey(account.ownerKey, scopes, 'exact');

      // Act
      const res = await send(route, await request(account), { key: key.api_key });

      // Assert
      expect(res.status).toBe(fixture.success);
    });

    it('succeeds for the owner key', async () => {
      const res = await send(route, await request(account), { key: account.ownerKey });

      expect(res.status).toBe(fixture.success);
    });

    if (access.onBehalfOf === true) {
      const subuserOf = options.subuserOf;
      if (!subuserOf) throw new Error('routes with on-behalf-of need the subuserOf option');
      const onBehalfOf = (parent: TestAccount, subuser: string) =>
        fixture.onBehalfOf
          ? fixture.onBehalfOf(parent, subuser, access.scopes)
          : fixture.request(parent, access.scopes);
      const refusal = { errors: [{ field: null, message: 'access forbidden' }] };

      it("acts for the parent's own subuser with on-behalf-of, with exactly the scopes", async () => {
        // Arrange
        const subuser = await subuserOf(account);
        const key = await createKey(account.ownerKey, exactScopes(access), 'parent-exact');
        const req = await onBehalfOf(account, subuser);

        // Act
        const res = await send(route, req, {
          key: key.api_key,
          headers: { 'on-behalf-of': subuser },
        });

        // Assert
        expect(res.status, JSON.stringify(res.body)).toBe(fixture.success);
      });

      it.each([
        ['an unknown username', async () => `nobody-${Date.now().toString(36)}`],
        ["another parent's subuser", async () => subuserOf(await newAccount())],
        ['a malformed username', async () => '../../etc'],
      ])('answers 403 to on-behalf-of naming %s, as SendGrid does', async (_case, target) => {
        // Arrange
        const name = await target();
        const req = await fixture.request(account, access.scopes);

        // Act
        const res = await send(route, req, {
          key: account.ownerKey,
          headers: { 'on-behalf-of': name },
        });

        // Assert
        expect(res.status).toBe(403);
        expect(res.body).toEqual(refusal);
      });

      it("answers 403 to a subuser's own key sending on-behalf-of (and serves it without)", async () => {
        // Arrange: a key of the subuser, made by its parent
        const subuser = await subuserOf(account);
        const key = await createKey(account.ownerKey, exactScopes(access), 'child', subuser);
        const req = await onBehalfOf(account, subuser);

        // Act
        const withHeader = await send(route, req, {
          key: key.api_key,
          headers: { 'on-behalf-of': subuser },
        });
        const without = await send(route, await onBehalfOf(account, subuser), { key: key.api_key });

        // Assert
        expect(withHeader.status).toBe(403);
        expect(withHeader.body).toEqual(refusal);
        expect(without.status, JSON.stringify(without.body)).toBe(fixture.success);
      });
    } else {
      it('answers 400 to on-behalf-of, which this route does not take', async () => {
        const res = await send(route, await request(account), {
          key: account.ownerKey,
          headers: { 'on-behalf-of': 'anyone' },
        });

        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          errors: [
            {
              field: 'on-behalf-of',
              message: 'the on-behalf-of header is not supported on this route',
            },
          ],
        });
      });
    }

    it(
      access.managesKeys
        ? 'answers 403 to a secret in its roll grace period: a retiring secret manages no key'
        : 'serves a secret in its roll grace period (reading and using the API)',
      async () => {
        // Arrange: the owner rolls a key that holds the route's scopes; its old secret still works
        const key = await createKey(account.ownerKey, exactScopes(access), 'rolled');
        const rolled = await call('POST', `/v3/api_keys/${key.api_key_id}/roll`, {
          key: account.ownerKey,
          body: { grace_seconds: 86_400 },
        });
        expect(rolled.status).toBe(200);
        expect((await call('GET', '/v3/scopes', { key: key.api_key })).status).toBe(200);

        // Act
        const res = await send(route, await request(account), { key: key.api_key });

        // Assert
        expect(res.status).toBe(access.managesKeys ? 403 : fixture.success);
      },
    );
  });

  describe.each(publicRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'public %s',
    (_name, route) => {
      it('answers without a key, and ignores a bad one', async () => {
        const fixture = options.fixture(route);
        const req = await fixture.request(undefined as never, []);

        const anonymous = await send(route, req, {});
        const garbage = await send(route, req, { authorization: 'Bearer nonsense' });

        expect(anonymous.status).toBe(fixture.success);
        expect(garbage.status).toBe(fixture.success);
      });
    },
  );
}
