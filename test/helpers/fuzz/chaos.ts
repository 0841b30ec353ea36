import fc from 'fast-check';
import { expect } from 'vitest';
import type { EmulatorRequest } from '../../../local/emulator.js';
import { sealCursor } from '../../../shared/domain/cursor.js';
import { ALL_SCOPES, AUTO_ASSIGNED_SCOPES, isBillingScope } from '../../../shared/domain/scopes.js';
import { ROUTE_LIST, type RouteId } from '../../../shared/routes.js';
import { defaultDeps } from '../../../shared/runtime/deps.js';
import { CreatedApiKey } from '../../../shared/schemas/api-keys.js';
import type { CONTACT_FIELDS } from '../../../shared/schemas/billing.js';
import { newAccount, type TestAccount } from '../harness.js';
import { BODY_ROUTES, invalidBodies } from './bodies.js';
import { type Caller, createCaller, type Fixtures, ownerCaller, setupCall } from './gateway.js';
import {
  authHeader,
  badAuthorizationArb,
  foreignIdArb,
  KEYED_ROUTES,
  validRequest,
} from './requests.js';
import {
  BILLING_SCOPES,
  base64url,
  deepRaw,
  encodeSegment,
  extraHeaders,
  extraQuery,
  forgeKey,
  GENERAL_SCOPES,
  headerPairs,
  hostileString,
  JSON_CONTENT_TYPES,
  j,
  NON_JSON_CONTENT_TYPES,
  objectText,
  pathOf,
  pollutionArb,
  validName,
} from './values.js';

/**
 * Random everything: requests of any method, path, header, query and body, and route-shaped
 * requests with valid keys of every kind and hostile values, for the account the chaos may
 * change (see {@link ChaosFixtures}).
 */

export interface ChaosFixtures {
  account: TestAccount;
  callers: (Caller & { allowedIps?: string })[];
  /** Keys the chaos may read, change and roll, but not delete (see {@link spareTargets}). */
  targets: string[];
  /** Keys the chaos may delete. */
  disposable: string[];
  /** Subusers of the account, which the chaos may disable, enable and delete. */
  subusers: string[];
  /** The deployment's audit-cursor key, to seal cursors around hostile positions. */
  cursorKey: Uint8Array;
}

/**
 * An account of its own for the chaos, whose keys it may create, change and delete: never its
 * callers (their IDs are never in a path, their keys never reported leaked), one of them limited
 * to an address block.
 */
export async function chaosFixtures(): Promise<ChaosFixtures> {
  const account = await newAccount();
  const owner = ownerCaller(account);
  const callers = [
    owner,
    await createCaller(account.ownerKey, ['api_keys.read', 'api_keys.update', 'mail.send']),
    await createCaller(account.ownerKey, ['billing.read']),
    await createCaller(account.ownerKey, ['alerts.read']),
  ];
  const limited = await setupCall(
    'POST',
    '/v3/api_keys',
    account.ownerKey,
    { name: 'limited', allowed_ips: ['203.0.113.0/24'] },
    CreatedApiKey,
  );
  expect(limited.status).toBe(201);
  const limitedCaller = {
    key: limited.body.api_key,
    keyId: limited.body.api_key_id,
    type: 'general' as const,
    scopes: owner.scopes.filter((s) => !isBillingScope(s)),
    allowedIps: '203.0.113.',
  };
  const targets = [
    (await createCaller(account.ownerKey, ['mail.send'])).keyId,
    (await createCaller(account.ownerKey, ['alerts.read', 'alerts.create'])).keyId,
  ];
  const disposable: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    disposable.push((await createCaller(account.ownerKey, ['alerts.read'])).keyId);
  }
  const subusers: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    const username = `chaos-${i}-${Date.now().toString(36)}`;
    const made = await setupCall('POST', '/v3/subusers', account.ownerKey, {
      username,
      email: 'customer@example.com',
      password: 'throwaway password 1',
      ips: [],
    });
    expect(made.status).toBe(200);
    subusers.push(username);
  }
  return {
    account,
    callers: [...callers, limitedCaller],
    targets,
    disposable,
    subusers,
    cursorKey: await defaultDeps().repo.cursorKey(),
  };
}

/**
 * A DELETE aimed at a target goes to a disposable key instead, so that the targets live through
 * the run and reads, updates and rolls keep reaching a real key.
 */
export function spareTargets(
  request: EmulatorRequest,
  chaos: ChaosFixtures,
  spare: string,
): EmulatorRequest {
  if (request.method.toUpperCase() !== 'DELETE') return request;
  return {
    ...request,
    path: chaos.targets.reduce((path, id) => path.replaceAll(id, spare), request.path),
  };
}

/**
 * Nesting too deep for `JSON.stringify` (and for fast-check's reporting) travels through the
 * generators as a token, and becomes nested arrays in the body's text.
 */
const deepToken = (depth: number) => `@@deep:${depth}@@`;
const expandDeepTokens = (text: string) =>
  text.replace(
    /"@@deep:(\d+)@@"/g,
    (_, depth: string) => `${'['.repeat(Number(depth))}${']'.repeat(Number(depth))}`,
  );

/**
 * Route-shaped requests with valid keys of every kind, whose bodies and queries have the right
 * shape but hostile values: unicode of every kind, extreme dates and addresses, nesting where
 * the schema allows any JSON, authentic cursors of the caller's own account around hostile
 * positions. They may succeed.
 */
export function routeShapedArb(fx: Fixtures, chaos: ChaosFixtures): fc.Arbitrary<EmulatorRequest> {
  // Each value is usually one the route accepts (so requests get past validation), and now and
  // then anything at all.
  const often = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
    fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: other });
  const ids = often(fc.constantFrom(...chaos.targets, ...chaos.disposable), foreignIdArb(fx));
  const subuserNames = often(
    fc.constantFrom(...chaos.subusers),
    fc.oneof(hostileString, fc.constantFrom('nobody', 'CHAOS-0', '-x')),
  );
  const name = often(
    validName,
    fc.oneof(
      hostileString.filter((s) => s.trim().length > 0),
      fc.constantFrom('x'.repeat(100), ` ${'y'.repeat(100)} `, '\u202eevil', 'Owner key'),
    ),
  );
  const scopes = fc.oneof(
    { weight: 4, arbitrary: fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 8 }) },
    { weight: 1, arbitrary: fc.subarray([...ALL_SCOPES], { maxLength: 8 }) },
    {
      weight: 1,
      arbitrary: fc.subarray([...GENERAL_SCOPES, ...AUTO_ASSIGNED_SCOPES], {
        minLength: 1,
        maxLength: 8,
      }),
    },
    { weight: 1, arbitrary: fc.subarray([...BILLING_SCOPES], { minLength: 1 }) },
  );
  const anyDate = fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z') })
    .filter((d) => !Number.isNaN(d.getTime()))
    .map((d) => d.toISOString());
  const futureDate = fc
    .date({ min: new Date('2030-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z') })
    .filter((d) => !Number.isNaN(d.getTime()))
    .map((d) => d.toISOString());
  const date = fc.oneof(
    { weight: 4, arbitrary: futureDate },
    { weight: 1, arbitrary: anyDate },
    fc.constantFrom(
      '9999-12-31T23:59:59+14:00',
      '2099-01-01T00:00:00.123456789Z',
      '2099-01-01T00:00:00-23:59',
      '2030-06-30T23:59:59.999+00:00',
    ),
  );
  const ip = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([a, n]) => `${a}/${n}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 140 })).map(([a, n]) => `${a}/${n}`),
    fc.constantFrom(
      '::ffff:10.0.0.1',
      'fe80::1%eth0',
      ' 10.0.0.1 ',
      '0.0.0.0/0',
      '::/0',
      '1.2.3.4/',
    ),
  );
  const ips = often(
    fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 4 }),
    fc.array(ip, { maxLength: 6 }),
  );
  // Mail bodies may be 5 MiB: nesting far deeper than the 16 KB routes allow.
  const veryDeep = fc.integer({ min: 2_000, max: 100_000 }).map(deepToken);
  const anyJson = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    deepRaw.map((raw) => JSON.parse(raw) as unknown),
    veryDeep,
  );
  // Mostly valid addresses and non-empty texts, so that mail gets past validation and hostile
  // values reach the mailer; now and then an invalid one.
  const address = fc.oneof(
    { weight: 8, arbitrary: fc.emailAddress() },
    {
      weight: 1,
      arbitrary: fc.constantFrom('a@example.com', 'A@EXAMPLE.COM', 'x@xn--bcher-kva.example'),
    },
    { weight: 1, arbitrary: hostileString },
  );
  const text = hostileString.filter((s) => s.length > 0);
  const stringMap = fc.dictionary(hostileString, hostileString, { maxKeys: 4 });
  const personalization = fc.record(
    {
      to: fc.array(
        fc.record({ email: address, name: hostileString }, { requiredKeys: ['email'] }),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
      cc: fc.array(fc.record({ email: address }), { maxLength: 2 }),
      subject: text,
      headers: stringMap,
      substitutions: stringMap,
      custom_args: stringMap,
      dynamic_template_data: fc.dictionary(hostileString, anyJson, { minKeys: 1, maxKeys: 3 }),
      send_at: fc.integer({ min: 0, max: 2 ** 31 }),
    },
    { requiredKeys: ['to'] },
  );
  const mail = fc.record(
    {
      personalizations: fc.array(personalization, { minLength: 1, maxLength: 3 }),
      from: fc.record({ email: address, name: hostileString }, { requiredKeys: ['email'] }),
      subject: text,
      content: fc.array(
        fc.record({ type: fc.constantFrom('text/plain', 'text/html'), value: text }),
        { minLength: 1, maxLength: 2 },
      ),
      headers: stringMap,
      categories: fc.uniqueArray(hostileString, { maxLength: 4 }),
      custom_args: stringMap,
      template_id: text,
      attachments: fc.array(
        fc.record({
          content: fc.base64String({ minLength: 4, maxLength: 40 }),
          filename: text,
          type: text,
        }),
        { maxLength: 2 },
      ),
      mail_settings: fc.record({ sandbox_mode: fc.record({ enable: fc.boolean() }) }),
    },
    { requiredKeys: ['personalizations', 'from', 'subject', 'content'] },
  );
  const contactText = often(validName, fc.option(hostileString, { nil: null }));
  const validContact: Record<(typeof CONTACT_FIELDS)[number], fc.Arbitrary<string | null>> = {
    first_name: contactText,
    last_name: contactText,
    // fast-check's addresses are RFC 5322's, which the contact's stricter rule often refuses:
    // plain ones too, so a whole contact is valid often enough for the route to answer 2xx.
    email: often(
      fc.oneof(fc.constantFrom('billing@example.com', 'Ops.Team@acme.example'), fc.emailAddress()),
      fc.option(hostileString, { nil: null }),
    ),
    company: contactText,
    address1: contactText,
    address2: contactText,
    city: contactText,
    state: contactText,
    zip: often(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 -]{0,10}$/), hostileString),
    country: often(fc.constantFrom('US', 'de', ' fr '), hostileString),
    phone: often(fc.stringMatching(/^\+?[0-9]{3,15}$/), hostileString),
  };
  const contact = fc.record(validContact, { requiredKeys: [] });
  const leakedKeys = fc.record({
    keys: fc.array(
      fc.oneof(
        hostileString,
        fc
          .tuple(fc.constantFrom(...chaos.targets), base64url(37))
          .map(([id, r]) => forgeKey('SG', id, r)),
        fc.tuple(base64url(22), base64url(37)).map(([id, r]) => ` ${forgeKey('SG', id, r)}\n`),
      ),
      { minLength: 1, maxLength: 5 },
    ),
  });
  const bodies: Partial<Record<RouteId, fc.Arbitrary<Record<string, unknown>>>> = {
    createApiKey: fc.record(
      { name, scopes, expires_at: date, allowed_ips: ips },
      { requiredKeys: ['name'] },
    ),
    renameApiKey: fc.record({ name }),
    replaceApiKey: fc.record(
      {
        name,
        scopes,
        expires_at: fc.option(date, { nil: null }),
        allowed_ips: fc.option(ips, { nil: null }),
      },
      { requiredKeys: ['name', 'scopes'] },
    ),
    rollApiKey: fc.record(
      { grace_seconds: fc.integer({ min: 0, max: 7 * 24 * 3600 }) },
      { requiredKeys: [] },
    ),
    revokeLeakedApiKeys: leakedKeys,
    revokeApiKeysByValue: leakedKeys,
    sendMail: mail,
    updateBillingProfile: contact,
    createSubuser: fc.record(
      {
        username: often(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/), hostileString),
        email: often(fc.emailAddress(), hostileString),
        password: often(text, hostileString),
        ips: often(fc.array(fc.ipV4(), { maxLength: 3 }), fc.array(ip, { maxLength: 3 })),
        region: fc.constantFrom('global', 'eu', 'mars'),
        include_region: fc.boolean(),
      },
      { requiredKeys: ['username', 'email', 'password', 'ips'] },
    ),
    updateSubuser: fc.record({ disabled: fc.boolean() }, { requiredKeys: [] }),
  };
  const queries: Partial<Record<RouteId, fc.Arbitrary<Record<string, string>>>> = {
    listApiKeys: fc.record(
      { limit: fc.integer({ min: 1, max: 1000 }).map(String) },
      { requiredKeys: [] },
    ),
    listSubusers: fc.record(
      {
        username: often(fc.constantFrom('chaos', 'CHAOS-1', ''), hostileString),
        limit: often(fc.integer({ min: 1, max: 500 }).map(String), hostileString),
        offset: often(fc.integer({ min: 0, max: 20 }).map(String), hostileString),
        include_region: fc.constantFrom('true', 'false', 'yes'),
      },
      { requiredKeys: [] },
    ),
    // A cursor sealed as the server seals its own (the deployment's key, this account, the same
    // key filter), around a position that is anything at all: clients cannot forge one (the
    // audit-cursor tests refuse every forgery), but an authentic cursor must never carry a
    // position that storage refuses with a 5xx either.
    listApiKeyEvents: fc
      .record({
        limit: fc.option(fc.integer({ min: 1, max: 100 }).map(String), { nil: undefined }),
        apiKeyId: fc.option(
          fc.oneof(
            ids,
            fc.constantFrom('', ' ', '-', '%', chaos.callers[0]?.keyId ?? ''),
            hostileString.filter((s) => s.length <= 64),
          ),
          { nil: undefined },
        ),
        eventId: fc.option(
          fc.oneof(hostileString, fc.constant(''), fc.string({ minLength: 1000, maxLength: 1500 })),
          { nil: undefined },
        ),
      })
      .map(({ limit, apiKeyId, eventId }) => {
        const query: Record<string, string> = {};
        if (limit !== undefined) query.limit = limit;
        if (apiKeyId !== undefined) query.api_key_id = apiKeyId;
        if (eventId !== undefined) {
          query.cursor = sealCursor(chaos.cursorKey, eventId, {
            accountId: chaos.account.accountId,
            ...(apiKeyId === undefined ? {} : { targetKeyId: apiKeyId }),
          });
        }
        return query;
      }),
  };
  return fc
    .constantFrom(...ROUTE_LIST)
    .chain((route) =>
      fc.record({
        route: fc.constant(route),
        caller: fc.oneof(
          { weight: 3, arbitrary: fc.constant(chaos.callers[0] as Caller) },
          { weight: 4, arbitrary: fc.constantFrom(...chaos.callers) },
        ),
        id: route.path.includes('{subuser_name}') ? subuserNames : ids,
        body: bodies[route.id] ?? fc.constant(undefined),
        query: queries[route.id] ?? fc.constant({}),
        pollution: pollutionArb(fx),
        extra: extraHeaders,
        sourceIp: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('203.0.113.9')), {
          nil: undefined,
        }),
      }),
    )
    .map(({ route, caller, id, body, query, pollution, extra, sourceIp }) => {
      // The body's own fields, then the pollution, in one object text (keys may repeat).
      const text =
        body === undefined
          ? undefined
          : expandDeepTokens(
              objectText([
                ...Object.entries(body).map(([k, v]) => [k, j(v)] as const),
                ...pollution,
              ]),
            );
      return {
        method: route.method,
        path: pathOf(route, id),
        query,
        headers: {
          ...Object.fromEntries(headerPairs(extra)),
          ...(route.access.kind === 'key' ? authHeader(caller.key) : {}),
          ...(text === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(text === undefined ? {} : { body: text }),
        ...(sourceIp === undefined ? {} : { sourceIp }),
      };
    });
}

export function randomRequestArb(
  fx: Fixtures,
  chaos: ChaosFixtures,
): fc.Arbitrary<EmulatorRequest> {
  const bodies = invalidBodies(fx);
  const ids = fc.oneof(fc.constantFrom(...chaos.targets, ...chaos.disposable), foreignIdArb(fx));
  const templatePath = fc
    .record({
      route: fc.constantFrom(...ROUTE_LIST),
      id: ids,
      encode: fc.boolean(),
      suffix: fc.constantFrom('', '', '', '/', '//', '/..', '?x=1', '%2F', '/roll'),
    })
    .map(
      ({ route, id, encode, suffix }) =>
        `${route.path.replace('{api_key_id}', encode ? encodeSegment(id) : id)}${suffix}`,
    );
  const randomPath = fc.oneof(
    fc.webPath(),
    fc.array(hostileString, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
    fc.constantFrom(
      '',
      '/',
      '//',
      '/v3',
      '/v3/',
      '/V3/API_KEYS',
      '/v3/api_keys/%',
      '/v3/api_keys/%zz',
      '/v3//api_keys',
    ),
  );
  const method = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
    {
      weight: 1,
      arbitrary: fc.mixedCase(fc.constantFrom('get', 'post', 'put', 'patch', 'delete')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'TRACE', 'CONNECT', '', 'G E T', 'PROPFIND'),
    },
    { weight: 1, arbitrary: hostileString },
  );
  const authorization = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...chaos.callers.map((c) => `Bearer ${c.key}`)) },
    { weight: 2, arbitrary: badAuthorizationArb(fx) },
  );
  const anyBody = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(...BODY_ROUTES).chain((id) => bodies[id]),
    fc.constantFrom(...KEYED_ROUTES).chain((route) => validRequest(fx, route).map((r) => r.body)),
    fc.json({ maxDepth: 4 }),
    hostileString,
  );
  const query = fc.oneof(
    extraQuery.map((pairs) => Object.fromEntries(pairs) as Record<string, string | string[]>),
    fc.record(
      {
        limit: fc.oneof(hostileString, fc.integer({ min: -5, max: 2000 }).map(String)),
        cursor: fc.oneof(hostileString, base64url(40)),
        api_key_id: fc.oneof(hostileString, ids),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Record<string, string | string[]>>,
    fc.array(hostileString, { minLength: 2, maxLength: 3 }).map((values) => ({ limit: values })),
  );
  return fc
    .record({
      method,
      path: fc.oneof({ weight: 3, arbitrary: templatePath }, { weight: 1, arbitrary: randomPath }),
      authorization: fc.option(authorization, { nil: undefined }),
      contentType: fc.option(fc.constantFrom(...JSON_CONTENT_TYPES, ...NON_JSON_CONTENT_TYPES), {
        nil: undefined,
      }),
      onBehalfOf: fc.option(hostileString, { freq: 10, nil: undefined }),
      extra: extraHeaders,
      query: fc.option(query, { nil: undefined }),
      body: anyBody,
      sourceIp: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('203.0.113.9')), {
        nil: undefined,
      }),
    })
    .map((r) => ({
      method: r.method,
      path: r.path,
      headers: {
        ...Object.fromEntries(headerPairs(r.extra)),
        ...(r.authorization === undefined ? {} : { Authorization: r.authorization }),
        ...(r.contentType === undefined ? {} : { 'Content-Type': r.contentType }),
        ...(r.onBehalfOf === undefined ? {} : { 'On-Behalf-Of': r.onBehalfOf }),
      },
      ...(r.query === undefined ? {} : { query: r.query }),
      ...(r.body === undefined ? {} : { body: r.body }),
      ...(r.sourceIp === undefined ? {} : { sourceIp: r.sourceIp }),
    }));
}
