import fc from 'fast-check';
import type { EmulatorRequest } from '../../../local/emulator.js';
import { MAX_BODY_BYTES } from '../../../shared/http/middlewares.js';
import { ROUTE_LIST, ROUTES, type RouteDefinition, type RouteId } from '../../../shared/routes.js';
import { BODY_ROUTES, invalidBodies } from './bodies.js';
import { allowed, type Fixtures } from './gateway.js';
import {
  BASE64URL,
  base64url,
  extraHeaders,
  extraQuery,
  forgeKey,
  GENERAL_SCOPES,
  gatewayOversizeBody,
  headerPairs,
  hostileString,
  JSON_CONTENT_TYPES,
  j,
  MAIL_MAX_BODY_BYTES,
  MINIMAL_MAIL,
  NON_JSON_CONTENT_TYPES,
  pathOf,
  validName,
} from './values.js';

/**
 * Requests for the fuzz properties: valid ones (to carry a hostile header or key ID), and those
 * that must be rejected, by family: an invalid body, an invalid query, `on-behalf-of`, a key ID
 * the account does not have, a key the route refuses, no working key.
 */

/** A request that must be rejected, and the statuses it may get. */
export interface Planned {
  family: string;
  request: EmulatorRequest;
  /** The statuses the request may get. */
  expected: readonly number[];
}

/** Key IDs of keys this account does not have: random, another account's, malformed. */
export function foreignIdArb(fx: Fixtures): fc.Arbitrary<string> {
  return fc
    .oneof(
      base64url(22),
      fc.constant(fx.otherKeyId),
      fc.constant(fx.other.owner.keyId),
      hostileString,
      base64url(21),
      base64url(23),
      fc.constantFrom('..', '.', '%2e', 'null', '0', ' '.repeat(22), 'AAAAAAAAAAAAAAAAAAAAA='),
    )
    .filter((id) => id !== '' && id !== 'events' && id !== 'revoke-leaked');
}

/** Any key ID a path may carry, the account's own target included. */
export function anyIdArb(fx: Fixtures): fc.Arbitrary<string> {
  return fc.oneof(fc.constant(fx.reader.keyId), foreignIdArb(fx));
}

/** A request the route accepts, for the account's own target key where it takes one. */
export function validRequest(
  fx: Fixtures,
  route: RouteDefinition & { id: RouteId },
  id = fx.reader.keyId,
) {
  const bodies: Partial<Record<RouteId, fc.Arbitrary<string>>> = {
    createApiKey: fc
      .tuple(validName, fc.option(fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 4 })))
      .map(([name, scopes]) => j(scopes === null ? { name } : { name, scopes })),
    renameApiKey: validName.map((name) => j({ name })),
    replaceApiKey: validName.map((name) => j({ name, scopes: ['alerts.read'] })),
    rollApiKey: fc
      .option(fc.integer({ min: 0, max: 3600 }))
      .map((g) => j(g === null ? {} : { grace_seconds: g })),
    sendMail: fc.constant(
      j({ ...MINIMAL_MAIL, mail_settings: { sandbox_mode: { enable: true } } }),
    ),
    updateBillingProfile: fc.constant(j({ company: 'Acme' })),
  };
  const queries: Partial<Record<RouteId, fc.Arbitrary<Record<string, string>>>> = {
    listApiKeys: fc
      .option(fc.integer({ min: 1, max: 1000 }))
      .map((n): Record<string, string> => (n === null ? {} : { limit: String(n) })),
    listApiKeyEvents: fc
      .option(fc.integer({ min: 1, max: 100 }))
      .map((n): Record<string, string> => (n === null ? {} : { limit: String(n) })),
  };
  return fc
    .tuple(bodies[route.id] ?? fc.constant(undefined), queries[route.id] ?? fc.constant({}))
    .map(([body, query]) => ({
      method: route.method,
      path: pathOf(route, id),
      query,
      ...(body === undefined ? {} : { body }),
    }));
}

/** `request` with these headers, and the JSON Content-Type when it has a body. */
export function withHeaders(
  request: EmulatorRequest,
  headers: Record<string, string>,
): EmulatorRequest {
  return {
    ...request,
    headers: {
      ...headers,
      ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
  };
}

export function authHeader(key: string) {
  return { Authorization: `Bearer ${key}` };
}

export const KEYED_ROUTES = ROUTE_LIST.filter((r) => r.access.kind === 'key');
/** Every route but the public reads (`/health`, `/openapi.json`), which refuse nothing. */
export const REFUSABLE_ROUTES = ROUTE_LIST.filter(
  (r) => r.access.kind === 'key' || r.method !== 'GET',
);
export const REJECTION_FAMILIES = [
  'invalid body',
  'invalid query',
  'on-behalf-of',
  'not found',
  'refused key',
  'bad authorization',
];

/** Hostile Authorization headers that are not a working key of anyone. */
export function badAuthorizationArb(fx: Fixtures): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Token ${fx.owner.key}`),
    hostileString.map((s) => `Bearer ${s}`),
    fc.constant(`Bearer ${fx.deletedKey}`),
    fc.constant(`Bearer ${fx.rolledAwayKey}`),
    base64url(37).map((r) => `Bearer ${forgeKey('SG', fx.reader.keyId, r)}`),
    fc.tuple(base64url(22), base64url(37)).map(([id, r]) => `Bearer ${forgeKey('SG', id, r)}`),
  );
}

export function rejectedRequestArb(fx: Fixtures): fc.Arbitrary<Planned> {
  const callers = [fx.owner, fx.restricted, fx.billing, fx.reader];
  const bodies = invalidBodies(fx);
  const byId = (id: RouteId): RouteDefinition & { id: RouteId } => ({ id, ...ROUTES[id] });

  // A body the route refuses, from a caller the gate lets through; 413 and 415 come first.
  const invalidBody = fc
    .constantFrom(...BODY_ROUTES)
    .chain((id) => {
      const route = byId(id);
      const permitted = callers.filter((c) => allowed(c, route));
      return fc.record({
        route: fc.constant(route),
        caller: fc.constantFrom(...permitted),
        id: anyIdArb(fx),
        body: fc.oneof(
          { weight: 30, arbitrary: bodies[id] },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              id === 'sendMail'
                ? `{"a":"${'x'.repeat(MAIL_MAX_BODY_BYTES)}"}`
                : `{"name":"${'x'.repeat(MAX_BODY_BYTES)}"}`,
              // Beyond API Gateway's own limit: refused by the gateway before any handler.
              gatewayOversizeBody(),
            ),
          },
        ),
        contentType: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(undefined, ...JSON_CONTENT_TYPES) },
          { weight: 1, arbitrary: fc.constantFrom(...NON_JSON_CONTENT_TYPES) },
        ),
        extra: extraHeaders,
      });
    })
    .map(({ route, caller, id, body, contentType, extra }): Planned => {
      const limit = route.id === 'sendMail' ? MAIL_MAX_BODY_BYTES : MAX_BODY_BYTES;
      const bytes = Buffer.byteLength(body);
      const json =
        contentType === undefined ||
        (JSON_CONTENT_TYPES as readonly string[]).includes(contentType);
      const expected = bytes > limit ? 413 : json ? 400 : 415;
      return {
        family: 'invalid body',
        request: {
          method: route.method,
          path: pathOf(route, id),
          headers: {
            ...Object.fromEntries(headerPairs(extra)),
            ...(route.access.kind === 'key' ? authHeader(caller.key) : {}),
            ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
          },
          body,
        },
        expected: [expected],
      };
    });

  // A query string the route refuses.
  const badLimit = (max: number, digits: number) =>
    fc.oneof(
      fc.integer({ min: max + 1, max: 10 ** digits - 1 }).map(String),
      fc.constantFrom('0', '00', '-1', '1e2', ' 5', '5 ', '', '５', '0x10', '1.0', 'Infinity'),
      fc.integer({ min: 10 ** digits, max: 2 ** 31 }).map(String),
      hostileString.filter((s) => !/^[0-9]+$/.test(s)),
    );
  const badQuery = fc
    .oneof(
      fc.record({
        route: fc.constant(byId('listApiKeys')),
        query: badLimit(1000, 4).map((limit) => ({ limit }) as Record<string, string | string[]>),
      }),
      fc.record({
        route: fc.constant(byId('listApiKeyEvents')),
        query: fc.oneof(
          badLimit(100, 3).map((limit) => ({ limit })),
          fc
            .oneof(
              hostileString.filter((s) => s !== ''),
              base64url(60),
              fc.constant('x'.repeat(2049)),
              fc
                .constantFrom(
                  { accountId: fx.other.accountId, eventId: '2026-01-01T00:00:00.000Z#x' },
                  { accountId: fx.account.accountId },
                  { eventId: 'x' },
                  // Well-formed for this account, with an event ID no table could hold.
                  { accountId: fx.account.accountId, eventId: '' },
                  { accountId: fx.account.accountId, eventId: 'x'.repeat(1025) },
                  [],
                )
                .map((o) => Buffer.from(j(o)).toString('base64url')),
            )
            .map((cursor) => ({ cursor })),
          fc.constantFrom({ api_key_id: 'A'.repeat(65) }, { api_key_id: '' }),
        ) as fc.Arbitrary<Record<string, string | string[]>>,
      }),
    )
    .chain(({ route, query }) =>
      fc.record({
        route: fc.constant(route),
        query: fc.constant(query),
        caller: fc.constantFrom(...callers.filter((c) => allowed(c, route))),
        extra: extraQuery,
        multi: fc.boolean(),
      }),
    )
    .map(({ route, query, caller, extra, multi }): Planned => {
      const [name, value] = Object.entries(query)[0] ?? ['limit', ''];
      return {
        family: 'invalid query',
        request: {
          method: route.method,
          path: route.path,
          headers: authHeader(caller.key),
          query: {
            ...Object.fromEntries(
              extra.filter(([k]) => !['limit', 'cursor', 'api_key_id'].includes(k)),
            ),
            // A repeated parameter: API Gateway's single-value map keeps the last.
            [name]: multi ? ['1', value as string] : value,
          },
        },
        expected: [400],
      };
    });

  // Acting for a subuser that is not the caller's is refused before anything else, even for a
  // request that would succeed.
  const onBehalfOf = fc
    .constantFrom(...KEYED_ROUTES)
    .chain((route) =>
      fc.record({
        route: fc.constant(route),
        caller: fc.constantFrom(...callers.filter((c) => allowed(c, route))),
        request: validRequest(fx, route),
        header: fc.mixedCase(fc.constant('on-behalf-of')),
        value: hostileString,
      }),
    )
    .map(
      ({ route, caller, request, header, value }): Planned => ({
        family: 'on-behalf-of',
        request: withHeaders(request, { ...authHeader(caller.key), [header]: value }),
        // Where the header is taken, no fuzzed name is one of the caller's subusers (it has
        // none): refused as SendGrid refuses it (403), or an empty name (400). Elsewhere, 400.
        expected:
          route.access.kind === 'key' && route.access.onBehalfOf === true && value.trim() !== ''
            ? [403]
            : [400],
      }),
    );

  // A key ID this account does not have: 404, exactly as for an unknown one.
  const ID_ROUTES = [
    'getApiKey',
    'getApiKeyUsage',
    'renameApiKey',
    'replaceApiKey',
    'deleteApiKey',
    'rollApiKey',
  ] as const;
  const notFound = fc
    .record({ id: fc.constantFrom(...ID_ROUTES), keyId: foreignIdArb(fx) })
    .chain(({ id, keyId }) =>
      fc.record({
        request: validRequest(fx, byId(id), keyId),
        caller: fc.constantFrom(...callers.filter((c) => allowed(c, byId(id)))),
      }),
    )
    .map(
      ({ request, caller }): Planned => ({
        family: 'not found',
        request: withHeaders(request, authHeader(caller.key)),
        expected: [404],
      }),
    );

  // A valid request from a key the route refuses (type or scopes): 403 at the gate.
  const refusedPairs = KEYED_ROUTES.flatMap((route) =>
    callers.filter((c) => !allowed(c, route)).map((caller) => ({ route, caller })),
  );
  const refusedKey = fc.constantFrom(...refusedPairs).chain(({ route, caller }) =>
    validRequest(fx, route).map(
      (request): Planned => ({
        family: 'refused key',
        request: withHeaders(request, authHeader(caller.key)),
        expected: [403],
      }),
    ),
  );

  // A valid request with no working key: 401.
  const badAuthorization = fc
    .constantFrom(...KEYED_ROUTES)
    .chain((route) =>
      fc.record({ request: validRequest(fx, route), authorization: badAuthorizationArb(fx) }),
    )
    .map(
      ({ request, authorization }): Planned => ({
        family: 'bad authorization',
        request: withHeaders(
          request,
          authorization === undefined ? {} : { Authorization: authorization },
        ),
        expected: [401],
      }),
    );

  return fc.oneof(
    { weight: 8, arbitrary: invalidBody },
    { weight: 2, arbitrary: badQuery },
    { weight: 1, arbitrary: onBehalfOf },
    { weight: 2, arbitrary: notFound },
    { weight: 2, arbitrary: refusedKey },
    { weight: 2, arbitrary: badAuthorization },
  );
}

/**
 * A valid request on a route that needs a key, with an Authorization that is not a working key:
 * single-character changes and wrappings of real keys, forged checksums, noise (`reads: 0`, refused
 * before any storage read), and well-formed keys never issued (`reads: 1`, the key's lookup).
 */
export function unworkingAuthorizationArb(fx: Fixtures) {
  const real = [fx.owner, fx.restricted, fx.billing, fx.reader].map((c) => c.key);
  const mutated = fc
    .record({
      key: fc.constantFrom(...real),
      index: fc.nat({ max: 68 }),
      replacement: fc.constantFrom(...BASE64URL, '.', '=', '+', '/', ' '),
      mutation: fc.constantFrom('replace', 'delete', 'insert', 'truncate', 'prefix', 'swapcase'),
    })
    .map(({ key, index, replacement, mutation }) => {
      const at = index % key.length;
      const swapped =
        key[at] === key[at]?.toUpperCase() ? key[at]?.toLowerCase() : key[at]?.toUpperCase();
      switch (mutation) {
        case 'replace':
          return `${key.slice(0, at)}${replacement === key[at] ? '!' : replacement}${key.slice(at + 1)}`;
        case 'delete':
          return `${key.slice(0, at)}${key.slice(at + 1)}`;
        case 'insert':
          return `${key.slice(0, at)}${replacement}${key.slice(at)}`;
        case 'truncate':
          return key.slice(0, at);
        case 'prefix':
          return `sg${key.slice(2)}`;
        default:
          return swapped === key[at]
            ? `${key}A`
            : `${key.slice(0, at)}${swapped}${key.slice(at + 1)}`;
      }
    })
    .filter((key) => !real.includes(key));
  const malformed = fc.oneof(
    mutated.map((key) => `Bearer ${key}`),
    fc
      .record({
        key: fc.constantFrom(...real),
        scheme: fc.constantFrom(
          'Basic',
          'Token',
          'Bearer:',
          'Bearer\t',
          'BearerX',
          'Bearer\u00a0',
          'Digest',
        ),
      })
      .map(({ key, scheme }) => `${scheme} ${key}`),
    fc.constantFrom(...real).map((key) => `Bearer ${key} ${key}`),
    fc.constantFrom(...real).map((key) => `Bearer${key}`),
    fc.constantFrom(...real),
    fc.tuple(base64url(22), base64url(43)).map(([id, s]) => `Bearer SG.${id}.${s}`),
    fc.tuple(base64url(22), base64url(37)).map(([id, r]) => `Bearer ${forgeKey('XX', id, r)}`),
    hostileString.map((s) => `Bearer ${s}`),
    hostileString,
  );
  // Well-formed (valid checksum): for an unknown ID, or a real ID with a secret never issued.
  const wellFormed = fc.oneof(
    fc.tuple(base64url(22), base64url(37)).map(([id, r]) => forgeKey('SG', id, r)),
    fc
      .tuple(fc.constantFrom(fx.owner.keyId, fx.restricted.keyId, fx.billing.keyId), base64url(37))
      .map(([id, r]) => forgeKey('SG', id, r)),
    fc.constantFrom(fx.deletedKey, fx.rolledAwayKey),
  );
  return fc.constantFrom(...KEYED_ROUTES).chain((route) =>
    fc.record({
      route: fc.constant(route),
      request: validRequest(fx, route),
      authorization: fc.oneof(
        { weight: 4, arbitrary: malformed.map((header) => ({ header, reads: 0 })) },
        {
          weight: 1,
          arbitrary: wellFormed.map((key) => ({ header: `Bearer ${key}`, reads: 1 })),
        },
      ),
    }),
  );
}
