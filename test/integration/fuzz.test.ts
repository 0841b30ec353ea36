import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  ApiGatewayEmulator,
  type EmulatorRequest,
  type EmulatorResponse,
} from '../../local/emulator.js';
import { itemScopes } from '../../shared/adapters/dynamodb/keys-repository.js';
import { sealCursor } from '../../shared/domain/cursor.js';
import { MAX_ALLOWED_IPS } from '../../shared/domain/ip-allowlist.js';
import { hashApiKey } from '../../shared/domain/key-format.js';
import {
  ALL_SCOPES,
  AUTO_ASSIGNED_SCOPES,
  isBillingScope,
  type KeyType,
  keyTypeOf,
} from '../../shared/domain/scopes.js';
import { MAX_BODY_BYTES } from '../../shared/http/middlewares.js';
import { ROUTE_LIST, ROUTES, type RouteDefinition, type RouteId } from '../../shared/routes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { CONTACT_FIELDS, CONTACT_MAX_LENGTH } from '../../shared/schemas/billing.js';
import { countDynamoCommands } from '../helpers/gateway.js';
import { newAccount, type TestAccount } from '../helpers/harness.js';
import { runtimeLogsOn } from '../helpers/log-level.js';
import { accountItems, storedItem } from '../helpers/table-items.js';

/**
 * Hostile input, property-based (issue 8): every route of the table, through the API Gateway
 * emulator with the real authorizer and handlers on DynamoDB Local. Each property runs with a
 * fixed seed (fast-check prints it, with the counterexample, on failure); together they send
 * {@link PLANNED_REQUESTS} requests per run. Every response, whatever the request:
 *
 * - is never a 5xx;
 * - has a JSON body (or none, for a success that has none);
 * - for a 4xx, is SendGrid's envelope `{"errors":[{"field": string|null, "message": string}]}`;
 * - is a 2xx only where one is plausible (a route of the table, its success status, a key that
 *   may call it).
 *
 * Requests that must be rejected are sent in batches between two snapshots of every stored item
 * of the accounts involved, which must be equal: a rejected request writes nothing.
 */

const SEED = 20261127;

const PLAN = {
  /** Batches of requests that must all be rejected, each between two table snapshots. */
  rejected: { runs: 160, batch: 25 },
  /** One request each: random methods, paths, headers, queries and bodies. */
  chaos: 3000,
  /** One request each: a hostile Authorization header on a route that needs a key. */
  authorization: 3000,
  /** Five requests each: create, rename, replace, roll, billing update with server-owned fields. */
  massAssignment: { runs: 40, requests: 5 },
};
const PLANNED_REQUESTS =
  PLAN.rejected.runs * PLAN.rejected.batch +
  PLAN.chaos +
  PLAN.authorization +
  PLAN.massAssignment.runs * PLAN.massAssignment.requests;

/** fast-check settings shared by every property: the fixed seed, and no time-based cut-off. */
const runs = (numRuns: number) => ({ seed: SEED, numRuns });
const PROPERTY_TIMEOUT_MS = 300_000;

const MAIL_MAX_BODY_BYTES = 5 * 1024 * 1024;
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
let oversize: string | undefined;
/** A body over API Gateway's 10 MB, built once. */
const gatewayOversizeBody = () => {
  oversize ??= `{"name":"${'x'.repeat(GATEWAY_MAX_BODY_BYTES)}"}`;
  return oversize;
};
const KNOWN_SCOPES = new Set(ALL_SCOPES);
const GENERAL_SCOPES = ALL_SCOPES.filter((s) => !isBillingScope(s));
const BILLING_SCOPES = ALL_SCOPES.filter(isBillingScope);

/** The success statuses of each route (mail send: 202, or 200 in sandbox mode). */
const SUCCESS: Record<RouteId, readonly number[]> = {
  createApiKey: [201],
  listApiKeys: [200],
  getApiKey: [200],
  renameApiKey: [200],
  replaceApiKey: [200],
  listApiKeyEvents: [200],
  rollApiKey: [200],
  revokeApiKeysByValue: [200],
  revokeLeakedApiKeys: [202],
  deleteApiKey: [204],
  listScopes: [200],
  listScopeAreas: [200],
  listSubusers: [200],
  createSubuser: [200],
  updateSubuser: [204],
  deleteSubuser: [204],
  sendMail: [200, 202],
  getBillingProfile: [200],
  updateBillingProfile: [200],
  getHealth: [200],
  getOpenApi: [200],
};

// ---------------------------------------------------------------------------------------------
// The gateway, and the checks every response goes through

/**
 * The emulator's clock advances one second per request, so the public revocation route's
 * throttle (1 request/s, burst 10) refills and its handler is fuzzed rather than its 429. The
 * authorizer's cache (TTL 300 s) is still exercised: a result serves the next 300 requests.
 */
let clock = Date.parse('2026-11-27T12:00:00Z');
const emulator = new ApiGatewayEmulator({ cacheTtlSeconds: 300, now: () => clock });

/** The last lines the handlers logged (stdout is captured: 10,000 requests log a lot). */
const logTail: string[] = [];
let stdout: MockInstance | undefined;
let stderr: MockInstance | undefined;
let logsOff: (() => void) | undefined;
/** Requests each property actually sent. */
const sent = { rejected: 0, chaos: 0, authorization: 0, massAssignment: 0 };

function summary(request: EmulatorRequest): string {
  const body = request.body ?? '';
  return `${JSON.stringify(request.method)} ${JSON.stringify(request.path)} query=${JSON.stringify(
    request.query ?? {},
  )} headers=${JSON.stringify(request.headers ?? {}).slice(0, 400)} body(${body.length})=${JSON.stringify(
    body.slice(0, 300),
  )}`;
}

function isEnvelope(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  const errors = (body as { errors?: unknown }).errors;
  if (keys.length !== 1 || keys[0] !== 'errors' || !Array.isArray(errors)) return false;
  return (
    errors.length > 0 &&
    errors.every((e: unknown) => {
      if (typeof e !== 'object' || e === null) return false;
      const { field, message } = e as { field?: unknown; message?: unknown };
      return (
        Object.keys(e).sort().join(',') === 'field,message' &&
        (field === null || typeof field === 'string') &&
        typeof message === 'string'
      );
    })
  );
}

/** Sends one request and checks the invariants every response must hold. */
async function send(request: EmulatorRequest): Promise<EmulatorResponse> {
  clock += 1000;
  const response = await emulator.handle(request);
  const where = `${summary(request)}\n  → ${response.status} ${response.body.slice(0, 300)}`;
  expect(
    response.status,
    `5xx for ${where}\n  last log lines:\n${logTail.join('').slice(-3000)}`,
  ).toBeLessThan(500);
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  if (response.body === '') {
    expect(response.status, `an empty body is only for a success: ${where}`).toBeLessThan(300);
  } else {
    expect(response.headers['content-type'], where).toBe('application/json');
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new Error(`the body is not JSON: ${where}`);
    }
    if (response.status >= 400) expect(isEnvelope(body), `not the envelope: ${where}`).toBe(true);
  }
  return response;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: accounts and keys of every kind

interface Caller {
  key: string;
  keyId: string;
  type: KeyType;
  scopes: readonly string[];
}

interface Fixtures {
  /** The account whose stored items must never change under rejected requests. */
  account: TestAccount;
  owner: Caller;
  /** A general key: create, read and mail, but not update or delete. */
  restricted: Caller;
  billing: Caller;
  /** A general key with one scope no route needs: refused everywhere but `GET /v3/scopes`. */
  reader: Caller;
  /** Keys that no longer work: deleted, and the old value of a key rolled without grace. */
  deletedKey: string;
  rolledAwayKey: string;
  /** Another account, whose keys' IDs must answer 404 to this account's callers. */
  other: TestAccount;
  otherKeyId: string;
}

function allowed(caller: Pick<Caller, 'type' | 'scopes'>, route: RouteDefinition): boolean {
  if (route.access.kind === 'public') return true;
  const held = new Set(caller.scopes);
  return (
    route.access.keyTypes.includes(caller.type) && route.access.scopes.every((s) => held.has(s))
  );
}

async function setupCall(method: string, path: string, key: string, body?: unknown) {
  const response = await send({
    method,
    path,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: response.body === '' ? undefined : JSON.parse(response.body),
  };
}

async function createCaller(ownerKey: string, scopes: readonly string[]): Promise<Caller> {
  const res = await setupCall('POST', '/v3/api_keys', ownerKey, { name: 'fuzz', scopes });
  expect(res.status).toBe(201);
  const created = res.body as { api_key: string; api_key_id: string; type: KeyType };
  return { key: created.api_key, keyId: created.api_key_id, type: created.type, scopes };
}

function ownerCaller(account: TestAccount): Caller {
  return {
    key: account.ownerKey,
    keyId: account.owner.keyId,
    type: 'owner',
    scopes: account.owner.scopes,
  };
}

async function fixtures(): Promise<Fixtures> {
  const account = await newAccount();
  const other = await newAccount();
  const owner = ownerCaller(account);
  const doomed = await createCaller(account.ownerKey, ['mail.send']);
  expect((await setupCall('DELETE', `/v3/api_keys/${doomed.keyId}`, account.ownerKey)).status).toBe(
    204,
  );
  const rolled = await createCaller(account.ownerKey, ['mail.send']);
  const roll = await setupCall('POST', `/v3/api_keys/${rolled.keyId}/roll`, account.ownerKey, {
    grace_seconds: 0,
  });
  expect(roll.status).toBe(200);
  return {
    account,
    owner,
    restricted: await createCaller(account.ownerKey, [
      'api_keys.create',
      'api_keys.read',
      'mail.send',
    ]),
    billing: await createCaller(account.ownerKey, ['billing.read', 'billing.update']),
    reader: await createCaller(account.ownerKey, ['alerts.read']),
    deletedKey: doomed.key,
    rolledAwayKey: rolled.key,
    other,
    otherKeyId: (await createCaller(other.ownerKey, ['mail.send'])).keyId,
  };
}

// ---------------------------------------------------------------------------------------------
// Building blocks: hostile strings, JSON texts, keys

/** JSON text of a value. */
const j = (value: unknown): string => JSON.stringify(value);

/** An object's JSON text from raw entries: keys may repeat and be `__proto__`, as on the wire. */
function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${j(k)}:${v}`).join(',')}}`;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const base64url = (length: number) =>
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: length, maxLength: length });

/** A key of the documented format with a valid checksum (independent of the source's code). */
function forgeKey(prefix: string, keyId: string, random37: string): string {
  const body = `${prefix}.${keyId}.${random37}`;
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body) >>> 0, 0);
  return `${body}${checksum.toString('base64url')}`;
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const controlChar = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constant('\u007f'),
);
/** Unicode of every kind: any code point, lone surrogates, controls, bidi and zero-width marks. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({
    unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), loneSurrogate),
    maxLength: 10,
  }),
  fc.constantFrom(
    '\u0000',
    '\u202e\u2066',
    '\ufeff',
    '\u2028\u2029',
    '\u200b',
    'null',
    'undefined',
    'NaN',
    '<script>alert(1)</script>',
    "' OR '1'='1",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Log4Shell probe, not a template
    '${jndi:ldap://x}',
    '{{7*7}}',
    '%00%2e%2e%2f',
    '../../etc/passwd',
    '__proto__',
    'constructor',
    'SG.',
    'owner',
  ),
);
/** JSON values other than strings (wrong types for string fields), as text. */
const nonStringRaw = fc.oneof(
  fc.integer().map(j),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(j),
  fc.boolean().map(j),
  fc.constant('null'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }).map(j),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(j),
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
  ),
);
const nonArrayRaw = fc.oneof(
  fc.integer().map(j),
  fc.boolean().map(j),
  fc.constant('null'),
  hostileString.map(j),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(j),
  fc.constantFrom('{"0":"mail.send","length":1}', '{"__proto__":[]}'),
);
/** Nesting far deeper than any field needs: arrays or objects, 500 to 2,500 levels. */
const deepRaw = fc
  .tuple(fc.integer({ min: 500, max: 2500 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Server-owned fields and prototype keys a client might try to set. */
const POLLUTION_KEYS = [
  'account_id',
  'accountId',
  'type',
  'keyHash',
  'key_hash',
  'version',
  'keyCount',
  'keyLimit',
  'keyId',
  'api_key_id',
  'api_key',
  'ownerKeyId',
  'pk',
  'createdAt',
  'created_at',
  'updatedAt',
  'lastUsedAt',
  'previousKeyHash',
  'billingContact',
  '__proto__',
  'constructor',
  'prototype',
] as const;

function pollutionArb(fx: Fixtures) {
  const value = fc.oneof(
    fc.constantFrom('owner', 'billing', 'general', fx.other.accountId, fx.otherKeyId).map(j),
    fc.integer().map(j),
    fc.constantFrom('null', 'true', '[]', '{}', '1e400', '-0'),
    fc.constantFrom(
      '{"polluted":"yes","isAdmin":true}',
      '{"__proto__":{"polluted":"yes"}}',
      `{"type":"owner","accountId":${j(fx.other.accountId)},"scopes":["billing.update"]}`,
      '{"prototype":{"polluted":"yes"}}',
    ),
    hostileString.map(j),
  );
  return fc.array(fc.tuple(fc.constantFrom(...POLLUTION_KEYS), value), { maxLength: 6 });
}

/** A body object from required and optional raw entries, with pollution, in any order. */
function objectBody(
  fx: Fixtures,
  required: readonly (readonly [string, fc.Arbitrary<string>])[],
  optional: readonly (readonly [string, fc.Arbitrary<string>])[] = [],
): fc.Arbitrary<string> {
  const entry = ([name, arb]: readonly [string, fc.Arbitrary<string>]) =>
    arb.map((raw) => [name, raw] as const);
  return fc
    .tuple(
      fc.tuple(...required.map(entry)),
      fc.tuple(...optional.map((o) => fc.option(entry(o), { nil: undefined }))),
      pollutionArb(fx),
    )
    .chain(([req, opt, pollution]) =>
      fc.shuffledSubarray(
        [...req, ...opt.filter((e) => e !== undefined), ...pollution] as (readonly [
          string,
          string,
        ])[],
        { minLength: req.length + opt.filter((e) => e !== undefined).length + pollution.length },
      ),
    )
    .map(objectText);
}

// Valid field values, as JSON text.
const validName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a valid name has none
  .filter((s) => s.trim().length > 0 && s.trim().length <= 100 && !/[\u0000-\u001f\u007f]/.test(s));
const validNameRaw = validName.map(j);
const generalScopesRaw = fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 6 }).map(j);
const futureRaw = fc.integer({ min: 2100, max: 2900 }).map((year) => j(`${year}-01-01T00:00:00Z`));
const validIpsRaw = fc.subarray(['10.0.0.0/8', '::1', '203.0.113.7', '2001:db8::/32']).map(j);
const MINIMAL_MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

// Invalid field values, as JSON text: each is refused by the request schema.
const badNameRaw = fc.oneof(
  nonStringRaw,
  fc.constantFrom('', ' ', '\t', '\n \r', '\u00a0\u2003', '\ufeff').map(j),
  fc
    .string({ unit: 'grapheme-ascii', minLength: 101, maxLength: 200 })
    .filter((s) => s.trim().length > 100)
    .map(j),
  fc.tuple(validName, controlChar, validName).map(([a, c, b]) => j(`${a}${c}${b}`)),
  deepRaw,
);
const badScopesRaw = fc.oneof(
  nonArrayRaw,
  fc
    .tuple(fc.subarray([...GENERAL_SCOPES], { maxLength: 2 }), nonStringRaw)
    .map(([ok, bad]) => `[${[...ok.map(j), bad].join(',')}]`),
  fc.constant(j([''])),
  fc.string({ unit: 'grapheme-ascii', minLength: 101, maxLength: 150 }).map((s) => j([s])),
  fc.constant(j(Array.from({ length: 501 }, () => 'mail.send'))),
  deepRaw,
);
/** Scopes the catalogue does not know: refused with 400 before anything else is checked. */
const unknownScopesRaw = fc
  .tuple(
    fc.subarray([...ALL_SCOPES], { maxLength: 3 }),
    fc.array(
      hostileString.filter(
        (s) =>
          s.length > 0 && s.length <= 100 && !KNOWN_SCOPES.has(s) && !AUTO_ASSIGNED_SCOPES.has(s),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([known, unknown]) => j([...known, ...unknown]));
const badExpiresSchemaRaw = fc.oneof(
  nonStringRaw.filter((raw) => raw !== 'null'),
  hostileString.filter((s) => !/^\d{4}-\d\d-\d\dT/.test(s)).map(j),
  fc.constantFrom('2027-13-01T00:00:00Z', '2027-01-01', '2027-01-01T00:00:00', 'tomorrow').map(j),
);
const pastRaw = fc.constantFrom('2001-01-01T00:00:00Z', '1970-01-01T00:00:00+00:00').map(j);
const badIpsSchemaRaw = fc.oneof(
  nonArrayRaw.filter((raw) => raw !== 'null'),
  nonStringRaw.map((bad) => `["10.0.0.1",${bad}]`),
  fc.constant(j(['1'.repeat(65)])),
  fc.constant(j(Array.from({ length: MAX_ALLOWED_IPS + 1 }, (_, i) => `10.0.0.${i}`))),
);
/** Not an address or a block: refused with 400 by the domain (`x` is not a hex digit). */
const badIpsDomainRaw = hostileString.map((s) => j(['10.0.0.1', `x${s}`]));
const badGraceRaw = fc.oneof(
  nonStringRaw.filter((raw) => !/^-?\d+$/.test(raw)),
  hostileString.map(j),
  fc.integer({ max: -1 }).map(j),
  fc.integer({ min: 7 * 24 * 3600 + 1 }).map(j),
  fc.constantFrom('0.5', '1.5', '1e400', '-1e400', '604800.1', '1e21'),
);
const badKeysRaw = fc.oneof(
  nonArrayRaw,
  fc.constant('[]'),
  nonStringRaw.map((bad) => `["SG.x",${bad}]`),
  fc.constant(j(Array.from({ length: 101 }, (_, i) => `SG.${i}`))),
  fc.constant(j(['S'.repeat(513)])),
  deepRaw,
);

function badContactRaw(field: (typeof CONTACT_FIELDS)[number]): fc.Arbitrary<string> {
  const specific: Partial<Record<(typeof CONTACT_FIELDS)[number], fc.Arbitrary<string>>> = {
    email: fc.constantFrom('nope', 'a@', '@b.example', 'a b@example.com').map(j),
    zip: fc.constantFrom('#1', '-123', '12!').map(j),
    phone: fc.constantFrom('abc', '+', '()', '555-CALL').map(j),
    country: fc.constantFrom('USA', 'u', '1A', 'ü1').map(j),
  };
  return fc.oneof(
    nonStringRaw.filter((raw) => raw !== 'null'),
    fc.constantFrom('', '  ', '\t').map(j),
    fc
      .string({
        unit: 'grapheme-ascii',
        minLength: CONTACT_MAX_LENGTH[field] + 1,
        maxLength: CONTACT_MAX_LENGTH[field] + 40,
      })
      .filter((s) => s.trim().length > CONTACT_MAX_LENGTH[field])
      .map(j),
    fc
      .tuple(controlChar, fc.constantFrom('\u0085', '\u2028', '\u009f'))
      .map(([c, d]) => j(`A1${c}${d}1`)),
    specific[field] ?? fc.constant('[]'),
  );
}

/** Any contact field, valid (as text), for the optional part of a billing body. */
const validContact: readonly (readonly [string, fc.Arbitrary<string>])[] = [
  ['first_name', fc.constantFrom('"Ada"', 'null', '"Zoë"')],
  ['company', fc.constantFrom('"Acme"', 'null')],
  ['country', fc.constantFrom('"us"', '"DE"', 'null')],
];

/** Texts no JSON parser accepts, not even after trimming. */
const invalidJsonText = fc
  .oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => `${j({ a: v })}`.slice(0, -1)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
    fc.constantFrom(
      '{',
      '{"name":',
      "{'name':'x'}",
      '{"name":"x",}',
      'NaN',
      '{"a":1}{"b":2}',
      '\u0000{}',
    ),
    fc.integer({ min: 1, max: 3000 }).map((n) => '['.repeat(n)),
  )
  .filter((text) => {
    if (text.trim() === '') return false;
    try {
      JSON.parse(text.trim());
      return false;
    } catch {
      return true;
    }
  });
/** JSON that is not an object: arrays, strings, numbers, booleans, null. */
const nonObjectJsonText = fc
  .jsonValue({ maxDepth: 3 })
  .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
  .map(j);

const JSON_CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json;charset=UTF-8',
] as const;
const NON_JSON_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/json',
  'application/jsonp',
  'application/json5',
  '',
  'json',
  '*/*',
  'application/ json',
] as const;

/** Headers that change nothing about the outcome, with hostile names and values. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'on-behalf-of']);
const extraHeaders = fc.array(
  fc.tuple(
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }),
      fc.constantFrom(
        'X-Forwarded-For',
        'Host',
        'Cookie',
        'X-Api-Key',
        'Content-Length',
        'Content-Encoding',
        'Transfer-Encoding',
        'X-HTTP-Method-Override',
        'constructor',
      ),
    ),
    hostileString,
  ),
  { maxLength: 4 },
);
const headerPairs = (pairs: readonly (readonly [string, string])[]) =>
  pairs.filter(([name]) => !RESERVED_HEADERS.has(name.toLowerCase()));

const extraQuery = fc.array(fc.tuple(hostileString, hostileString), { maxLength: 3 });

/** A path segment as a client would send it (a lone surrogate has no UTF-8 form: U+FFFD). */
const encodeSegment = (segment: string) =>
  encodeURIComponent(
    segment.replace(
      /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '\ufffd',
    ),
  );

/**
 * A route's path with `id` as its key ID. A path parameter can never hold a `/`: API Gateway
 * decodes `%2F` into a separator before routing (the request then has another route, or none), so
 * the requests planned for a route keep theirs out.
 */
const pathOf = (route: RouteDefinition, id = '') =>
  route.path.replace(/\{(api_key_id|subuser_name)\}/, encodeSegment(id.replaceAll('/', '\u2215')));

// ---------------------------------------------------------------------------------------------
// Requests that must be rejected (property 1)

interface Planned {
  family: string;
  request: EmulatorRequest;
  /** The statuses the request may get. */
  expected: readonly number[];
}

type BodyRouteId =
  | 'createApiKey'
  | 'renameApiKey'
  | 'replaceApiKey'
  | 'rollApiKey'
  | 'revokeLeakedApiKeys'
  | 'revokeApiKeysByValue'
  | 'sendMail'
  | 'updateBillingProfile'
  | 'createSubuser'
  | 'updateSubuser';

/** Bodies each body-taking route's schema refuses (or, where noted, its domain, before any write). */
function invalidBodies(fx: Fixtures): Record<BodyRouteId, fc.Arbitrary<string>> {
  const generic = [invalidJsonText, nonObjectJsonText];
  const mailField = (name: string, raw: fc.Arbitrary<string>) => [name, raw] as const;
  return {
    createApiKey: fc.oneof(
      ...generic,
      objectBody(fx, [['name', badNameRaw]], [['scopes', generalScopesRaw]]),
      objectBody(
        fx,
        [],
        [
          ['scopes', generalScopesRaw],
          ['expires_at', futureRaw],
        ],
      ),
      objectBody(fx, [
        ['name', validNameRaw],
        ['scopes', badScopesRaw],
      ]),
      objectBody(fx, [
        ['name', validNameRaw],
        ['scopes', unknownScopesRaw],
      ]),
      objectBody(
        fx,
        [
          ['name', validNameRaw],
          ['expires_at', badExpiresSchemaRaw],
        ],
        [['scopes', generalScopesRaw]],
      ),
      // The domain's checks: with no scopes asked for, nothing is an escalation (which the
      // audit log records, by design), and the expiry and addresses are refused before a write.
      objectBody(
        fx,
        [
          ['name', validNameRaw],
          ['expires_at', pastRaw],
        ],
        [['allowed_ips', validIpsRaw]],
      ),
      objectBody(
        fx,
        [
          ['name', validNameRaw],
          ['allowed_ips', badIpsSchemaRaw],
        ],
        [['scopes', generalScopesRaw]],
      ),
      objectBody(
        fx,
        [
          ['name', validNameRaw],
          ['allowed_ips', badIpsDomainRaw],
        ],
        [['expires_at', futureRaw]],
      ),
    ),
    renameApiKey: fc.oneof(...generic, objectBody(fx, [['name', badNameRaw]]), objectBody(fx, [])),
    replaceApiKey: fc.oneof(
      ...generic,
      objectBody(fx, [
        ['name', badNameRaw],
        ['scopes', generalScopesRaw],
      ]),
      objectBody(fx, [['scopes', generalScopesRaw]]),
      objectBody(fx, [
        ['name', validNameRaw],
        ['scopes', badScopesRaw],
      ]),
      objectBody(fx, [['name', validNameRaw]]),
      objectBody(fx, [
        ['name', validNameRaw],
        ['scopes', generalScopesRaw],
        ['expires_at', badExpiresSchemaRaw],
      ]),
      objectBody(fx, [
        ['name', validNameRaw],
        ['scopes', generalScopesRaw],
        ['allowed_ips', badIpsSchemaRaw],
      ]),
    ),
    rollApiKey: fc.oneof(...generic, objectBody(fx, [['grace_seconds', badGraceRaw]])),
    revokeLeakedApiKeys: fc.oneof(
      ...generic,
      objectBody(fx, []),
      objectBody(fx, [['keys', badKeysRaw]]),
    ),
    revokeApiKeysByValue: fc.oneof(
      ...generic,
      objectBody(fx, []),
      objectBody(fx, [['keys', badKeysRaw]]),
    ),
    sendMail: fc.oneof(
      ...generic,
      objectBody(
        fx,
        [],
        [
          mailField('from', fc.constant(j(MINIMAL_MAIL.from))),
          mailField('subject', fc.constant(j(MINIMAL_MAIL.subject))),
          mailField('content', fc.constant(j(MINIMAL_MAIL.content))),
        ],
      ),
      objectBody(
        fx,
        [
          mailField(
            'personalizations',
            fc.oneof(
              nonArrayRaw,
              fc.constantFrom('[]', '[{}]', '[{"to":[]}]', '[{"to":"a@example.com"}]', '[null]'),
              deepRaw,
            ),
          ),
        ],
        [
          mailField('from', fc.constant(j(MINIMAL_MAIL.from))),
          mailField('subject', fc.constant(j(MINIMAL_MAIL.subject))),
          mailField('content', fc.constant(j(MINIMAL_MAIL.content))),
        ],
      ),
    ),
    createSubuser: fc.oneof(
      ...generic,
      objectBody(
        fx,
        [['username', badUsernameRaw]],
        validSubuser.filter(([n]) => n !== 'username'),
      ),
      objectBody(
        fx,
        [['email', badEmailRaw]],
        validSubuser.filter(([n]) => n !== 'email'),
      ),
      objectBody(
        fx,
        [['ips', badSubuserIpsRaw]],
        validSubuser.filter(([n]) => n !== 'ips'),
      ),
      objectBody(
        fx,
        [['password', fc.oneof(nonStringRaw, fc.constantFrom('""', j('p'.repeat(129))))]],
        validSubuser.filter(([n]) => n !== 'password'),
      ),
      // A required field left out
      fc.constantFrom(...validSubuser.map(([n]) => n)).chain((missing) =>
        objectBody(
          fx,
          [],
          validSubuser.filter(([n]) => n !== missing),
        ),
      ),
    ),
    updateSubuser: fc.oneof(
      ...generic,
      objectBody(fx, [['disabled', fc.oneof(nonBooleanRaw, fc.constantFrom('"true"', '1'))]]),
      // No field at all: "no fields provided"
      objectBody(fx, []),
    ),
    updateBillingProfile: fc.oneof(
      ...generic,
      objectBody(fx, []),
      objectBody(
        fx,
        [['plan', fc.oneof(fc.constantFrom('null', '"enterprise"', '"free"'), nonStringRaw)]],
        validContact,
      ),
      fc.constantFrom(...CONTACT_FIELDS).chain((field) =>
        objectBody(
          fx,
          [[field, badContactRaw(field)]],
          validContact.filter(([name]) => name !== field),
        ),
      ),
    ),
  };
}

/** A valid subuser body's fields, as raw JSON. */
const validSubuser: readonly (readonly [string, fc.Arbitrary<string>])[] = [
  ['username', fc.stringMatching(/^[a-z0-9][a-z0-9._-]{2,20}$/).map(j)],
  ['email', fc.constant(j('customer@example.com'))],
  ['password', fc.constant(j('throwaway password 1'))],
  ['ips', fc.constant('[]')],
];
const badUsernameRaw = fc.oneof(
  fc.constantFrom('""', '"-x"', '"a b"', '"a/b"', j('a'.repeat(65)), '"ä"', '"..%2F"'),
  nonStringRaw,
);
const badEmailRaw = fc.oneof(
  fc.constantFrom('""', '"x"', '"a@b"', '"a b@example.com"', j(`${'a'.repeat(250)}@x.io`)),
  nonStringRaw,
);
const badSubuserIpsRaw = fc.oneof(
  nonArrayRaw,
  fc.constantFrom('["::1"]', '["10.0.0.256"]', '[1]', '["10.0.0.0/8"]'),
);
const nonBooleanRaw = fc.constantFrom('null', '0', '"no"', '[]', '{}');

const BODY_ROUTES: readonly BodyRouteId[] = [
  'createApiKey',
  'createSubuser',
  'updateSubuser',
  'renameApiKey',
  'replaceApiKey',
  'rollApiKey',
  'revokeLeakedApiKeys',
  'revokeApiKeysByValue',
  'sendMail',
  'updateBillingProfile',
];

/** Key IDs of keys this account does not have: random, another account's, malformed. */
function foreignIdArb(fx: Fixtures): fc.Arbitrary<string> {
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
function anyIdArb(fx: Fixtures): fc.Arbitrary<string> {
  return fc.oneof(fc.constant(fx.reader.keyId), foreignIdArb(fx));
}

/** A request the route accepts, for the account's own target key where it takes one. */
function validRequest(
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

function authHeader(key: string) {
  return { Authorization: `Bearer ${key}` };
}

const KEYED_ROUTES = ROUTE_LIST.filter((r) => r.access.kind === 'key');
/** Every route but the public reads (`/health`, `/openapi.json`), which refuse nothing. */
const REFUSABLE_ROUTES = ROUTE_LIST.filter((r) => r.access.kind === 'key' || r.method !== 'GET');
const REJECTION_FAMILIES = [
  'invalid body',
  'invalid query',
  'on-behalf-of',
  'not found',
  'refused key',
  'bad authorization',
];

/** Hostile Authorization headers that are not a working key of anyone. */
function badAuthorizationArb(fx: Fixtures): fc.Arbitrary<string | undefined> {
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

function rejectedRequestArb(fx: Fixtures): fc.Arbitrary<Planned> {
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
        request: {
          ...request,
          headers: {
            ...authHeader(caller.key),
            ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
            [header]: value,
          },
        },
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
        request: {
          ...request,
          headers: {
            ...authHeader(caller.key),
            ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
        },
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
        request: {
          ...request,
          headers: {
            ...authHeader(caller.key),
            ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
        },
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
        request: {
          ...request,
          headers: {
            ...(authorization === undefined ? {} : { Authorization: authorization }),
            ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
        },
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
 * Every stored item of the accounts, except the authorizer's last-use stamp: `lastUsedAt` and
 * `lastUsedIp` are written (at most once a minute per key) whenever a key verifies, and a request
 * can be rejected after its key verified (a bad body, a missing scope). That stamp records the
 * key's use, not the request's effect; everything else must be byte-for-byte unchanged.
 */
async function snapshot(accountIds: readonly string[]) {
  const items = await accountItems(accountIds);
  return {
    ...items,
    keys: items.keys.map(({ lastUsedAt: _at, lastUsedIp: _ip, ...rest }) => rest),
  };
}

// ---------------------------------------------------------------------------------------------
// Random everything (property 2)

interface ChaosFixtures {
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
 * A DELETE aimed at a target goes to a disposable key instead, so that the targets live through
 * the run and reads, updates and rolls keep reaching a real key.
 */
function spareTargets(
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
function routeShapedArb(fx: Fixtures, chaos: ChaosFixtures): fc.Arbitrary<EmulatorRequest> {
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
    email: often(fc.emailAddress(), fc.option(hostileString, { nil: null })),
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
  const bodies: Partial<Record<RouteId, fc.Arbitrary<unknown>>> = {
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
                ...Object.entries(body as Record<string, unknown>).map(
                  ([k, v]) => [k, j(v)] as const,
                ),
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

function randomRequestArb(fx: Fixtures, chaos: ChaosFixtures): fc.Arbitrary<EmulatorRequest> {
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

// ---------------------------------------------------------------------------------------------

const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypesClean() {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  const probe = {} as Record<string, unknown>;
  for (const name of ['polluted', 'isAdmin', 'type', 'accountId', 'scopes']) {
    expect(probe[name], `Object.prototype.${name}`).toBeUndefined();
  }
}

describe('hostile input, fuzzed through the gateway (seed 20261127)', () => {
  let fx: Fixtures;
  let dynamo: ReturnType<typeof countDynamoCommands>;

  beforeAll(async () => {
    const capture = (chunk: string | Uint8Array) => {
      logTail.push(String(chunk));
      if (logTail.length > 20) logTail.shift();
      return true;
    };
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    // The last log lines explain a 5xx (see logTail).
    logsOff = runtimeLogsOn();
    fx = await fixtures();
    dynamo = countDynamoCommands();
  });

  afterAll(() => {
    stdout?.mockRestore();
    stderr?.mockRestore();
    logsOff?.();
  });

  it(`plans at least 10,000 requests per run (${PLANNED_REQUESTS})`, () => {
    expect(PLANNED_REQUESTS).toBeGreaterThanOrEqual(10_000);
  });

  it(
    'rejects hostile requests with a 4xx in the envelope, and they write nothing',
    async () => {
      // Arrange
      const arb = fc.array(rejectedRequestArb(fx), {
        minLength: PLAN.rejected.batch,
        maxLength: PLAN.rejected.batch,
      });
      const accounts = [fx.account.accountId, fx.other.accountId];
      const reached = new Set<string>();

      // Act / Assert: each batch between two snapshots of every item of both accounts.
      await fc.assert(
        fc.asyncProperty(arb, async (batch) => {
          const before = await snapshot(accounts);
          for (const { family, request, expected } of batch) {
            const response = await send(request);
            sent.rejected += 1;
            reached.add(family).add(response.routeId ?? '-');
            expect(
              expected,
              `${family}: ${summary(request)} → ${response.status} ${response.body.slice(0, 300)}`,
            ).toContain(response.status);
          }
          expect(await snapshot(accounts)).toEqual(before);
        }),
        runs(PLAN.rejected.runs),
      );
      expect(sent.rejected).toBeGreaterThanOrEqual(PLAN.rejected.runs * PLAN.rejected.batch);
      expectPrototypesClean();
      // Not vacuous: every kind of rejection, on every route that can refuse anything.
      expect(
        [...REJECTION_FAMILIES, ...REFUSABLE_ROUTES.map((r) => r.id)].filter(
          (x) => !reached.has(x),
        ),
      ).toEqual([]);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers random methods, paths, headers, queries and bodies without a 5xx, a 2xx only where plausible',
    async () => {
      // Arrange: an account of its own, whose keys the chaos may create, change and delete
      // (never its callers: their IDs are never in a path, their keys never reported leaked).
      const account = await newAccount();
      const owner = ownerCaller(account);
      const callers = [
        owner,
        await createCaller(account.ownerKey, ['api_keys.read', 'api_keys.update', 'mail.send']),
        await createCaller(account.ownerKey, ['billing.read']),
        await createCaller(account.ownerKey, ['alerts.read']),
      ];
      const limited = await setupCall('POST', '/v3/api_keys', account.ownerKey, {
        name: 'limited',
        allowed_ips: ['203.0.113.0/24'],
      });
      expect(limited.status).toBe(201);
      const limitedCaller = {
        key: (limited.body as { api_key: string }).api_key,
        keyId: (limited.body as { api_key_id: string }).api_key_id,
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
      const chaos: ChaosFixtures = {
        account,
        callers: [...callers, limitedCaller],
        targets,
        disposable,
        subusers,
        cursorKey: await defaultDeps().repo.cursorKey(),
      };
      const outcomes = new Set<string>();

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(
          fc
            .tuple(
              fc.oneof(randomRequestArb(fx, chaos), routeShapedArb(fx, chaos)),
              fc.constantFrom(...disposable),
            )
            .map(([request, spare]) => spareTargets(request, chaos, spare)),
          async (request) => {
            const response = await send(request);
            sent.chaos += 1;
            outcomes.add(`${response.routeId ?? '-'} ${Math.floor(response.status / 100)}xx`);
            if (response.status >= 300) return;
            const where = `${summary(request)} → ${response.status}`;
            const route = ROUTE_LIST.find((r) => r.id === response.routeId);
            expect(route, `a 2xx outside the route table: ${where}`).toBeDefined();
            if (!route) return;
            expect(SUCCESS[route.id], where).toContain(response.status);
            if (route.access.kind === 'key') {
              const caller = chaos.callers.find((c) => c.keyId === response.keyId);
              expect(caller, `a 2xx without a working key: ${where}`).toBeDefined();
              expect(caller && allowed(caller, route), `a 2xx for a refused key: ${where}`).toBe(
                true,
              );
              if (caller && 'allowedIps' in caller) {
                expect(request.sourceIp ?? '', where).toMatch(/^203\.0\.113\./);
              }
            }
          },
        ),
        runs(PLAN.chaos),
      );
      expect(sent.chaos).toBe(PLAN.chaos);
      expectPrototypesClean();
      // Not vacuous: every route answered a success, and every route that can refuse, a refusal.
      const missing = [
        ...ROUTE_LIST.map((r) => `${r.id} 2xx`),
        ...REFUSABLE_ROUTES.map((r) => `${r.id} 4xx`),
      ].filter((outcome) => !outcomes.has(outcome));
      expect(missing).toEqual([]);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers 401 to any Authorization that is not a working key, reading DynamoDB only for well-formed keys',
    async () => {
      // Arrange: single-character changes and wrappings of real keys, forged checksums, noise.
      const real = [fx.owner, fx.restricted, fx.billing, fx.reader].map((c) => c.key);
      const mutated = fc
        .record({
          key: fc.constantFrom(...real),
          index: fc.nat({ max: 68 }),
          replacement: fc.constantFrom(...BASE64URL, '.', '=', '+', '/', ' '),
          mutation: fc.constantFrom(
            'replace',
            'delete',
            'insert',
            'truncate',
            'prefix',
            'swapcase',
          ),
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
          .tuple(
            fc.constantFrom(fx.owner.keyId, fx.restricted.keyId, fx.billing.keyId),
            base64url(37),
          )
          .map(([id, r]) => forgeKey('SG', id, r)),
        fc.constantFrom(fx.deletedKey, fx.rolledAwayKey),
      );
      const arb = fc.constantFrom(...KEYED_ROUTES).chain((route) =>
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

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(arb, async ({ route, request, authorization }) => {
          const readsBefore = dynamo.count;
          const response = await send({
            ...request,
            headers: {
              Authorization: authorization.header,
              ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
            },
          });
          sent.authorization += 1;
          const where = `${JSON.stringify(authorization.header)} on ${route.method} ${route.path}`;
          expect(response.status, where).toBe(401);
          expect(JSON.parse(response.body), where).toEqual({
            errors: [{ field: null, message: 'authorization required' }],
          });
          expect(dynamo.count - readsBefore, `DynamoDB commands for ${where}`).toBe(
            authorization.reads,
          );
        }),
        runs(PLAN.authorization),
      );
      expect(sent.authorization).toBe(PLAN.authorization);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'never lets a body set server-owned fields of a key or an account (mass assignment)',
    async () => {
      // Arrange: an account with room for every key the property creates.
      const account = await newAccount({ keyLimit: 10_000 });
      const accountPk = { pk: `account#${account.accountId}` };
      const auth = {
        Authorization: `Bearer ${account.ownerKey}`,
        'Content-Type': 'application/json',
      };
      const KEY_ATTRIBUTES = new Set([
        'keyId',
        'accountId',
        'name',
        'scopeCodes',
        'type',
        'keyHash',
        'createdAt',
        'updatedAt',
        'version',
        'expiresAt',
        'allowedIps',
        'lastUsedAt',
        'lastUsedIp',
        'previousKeyHash',
        'previousValidUntil',
      ]);
      const CREATED_FIELDS = [
        'allowed_ips',
        'api_key',
        'api_key_id',
        'created_at',
        'expires_at',
        'last_used_at',
        'last_used_ip',
        'name',
        'scopes',
        'type',
        'updated_at',
      ];
      const scopesArb = fc.oneof(
        fc.constant(undefined),
        fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 5 }),
        fc.subarray([...BILLING_SCOPES], { minLength: 1 }),
      );
      const withScopes = (scopes: string[] | undefined) =>
        scopes === undefined ? [] : ([['scopes', fc.constant(j(scopes))]] as const);
      const arb = fc
        .record({
          scopes: scopesArb,
          newScopes: fc.subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 3 }),
          name: validName,
          newName: validName,
          company: fc.integer({ min: 0 }).map((n) => `Acme ${n}`),
        })
        .chain((plan) =>
          fc.record({
            plan: fc.constant(plan),
            create: objectBody(fx, [
              ['name', fc.constant(j(plan.name))],
              ...withScopes(plan.scopes),
            ]),
            rename: objectBody(fx, [['name', fc.constant(j(plan.newName))]]),
            replace: objectBody(fx, [
              ['name', fc.constant(j(plan.newName))],
              ['scopes', fc.constant(j(plan.newScopes))],
            ]),
            roll: objectBody(fx, [], [['grace_seconds', fc.integer({ min: 0, max: 60 }).map(j)]]),
            billing: objectBody(fx, [['company', fc.constant(j(plan.company))]]),
          }),
        );
      const request = (method: string, path: string, body: string) =>
        send({ method, path, headers: auth, body }).then((r) => {
          sent.massAssignment += 1;
          return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
        });
      const stored = async (keyId: string): Promise<Record<string, unknown>> => {
        const item = await storedItem('keys', { keyId });
        expect(item, `key ${keyId} is stored`).toBeDefined();
        const attributes = Object.keys(item ?? {});
        expect(
          attributes.filter((a) => !KEY_ATTRIBUTES.has(a)),
          'unexpected attributes',
        ).toEqual([]);
        // The scopes as the repository reads them back from their stored codes.
        const record = item as Record<string, unknown>;
        return { ...record, scopes: itemScopes(record) };
      };
      const accountItem = async () =>
        (await storedItem('accounts', accountPk)) as Record<string, unknown>;

      // Act / Assert
      await fc.assert(
        fc.asyncProperty(arb, async ({ plan, create, rename, replace, roll, billing }) => {
          // Create: the account, type, hash, version and counters are the server's.
          const accountBefore = await accountItem();
          const created = await request('POST', '/v3/api_keys', create);
          expect(created.status, create).toBe(201);
          expect(Object.keys(created.body).sort()).toEqual(CREATED_FIELDS);
          const keyId = String(created.body.api_key_id);
          const expectedType = plan.scopes === undefined ? 'general' : keyTypeOf(plan.scopes);
          expect(created.body.type).toBe(expectedType);
          let item = await stored(keyId);
          expect(item).toMatchObject({
            keyId,
            accountId: account.accountId,
            type: expectedType,
            keyHash: hashApiKey(String(created.body.api_key)),
            version: 1,
            name: plan.name.trim(),
          });
          const { keyCount, ...accountRest } = await accountItem();
          const { keyCount: countBefore, ...accountRestBefore } = accountBefore;
          expect(keyCount).toBe(Number(countBefore) + 1);
          expect(accountRest).toEqual(accountRestBefore);

          // Rename and replace: only the name and scopes change, and the version by one.
          const renamed = await request('PATCH', `/v3/api_keys/${keyId}`, rename);
          expect(renamed.status, rename).toBe(200);
          expect(Object.keys(renamed.body).sort()).toEqual(['api_key_id', 'name']);
          const afterRename = await stored(keyId);
          expect(afterRename).toMatchObject({
            accountId: account.accountId,
            type: expectedType,
            keyHash: item.keyHash,
            version: 2,
            scopes: item.scopes,
            name: plan.newName.trim(),
          });
          const replaced = await request('PUT', `/v3/api_keys/${keyId}`, replace);
          expect(replaced.status, replace).toBe(200);
          item = await stored(keyId);
          expect(item).toMatchObject({
            accountId: account.accountId,
            type: keyTypeOf(plan.newScopes),
            keyHash: afterRename.keyHash,
            version: 3,
            scopes: [...plan.newScopes].sort(),
          });

          // Roll: a new hash, of the key returned; nothing else of the caller's choosing.
          const rolled = await request('POST', `/v3/api_keys/${keyId}/roll`, roll);
          expect(rolled.status, roll).toBe(200);
          const afterRoll = await stored(keyId);
          expect(afterRoll).toMatchObject({
            accountId: account.accountId,
            type: keyTypeOf(plan.newScopes),
            keyHash: hashApiKey(String(rolled.body.api_key)),
            version: 4,
            scopes: item.scopes,
          });

          // Billing: the contact changes; the account's own fields do not.
          const before = await accountItem();
          const updated = await request('PATCH', '/v3/billing/profile', billing);
          expect(updated.status, billing).toBe(200);
          const after = await accountItem();
          const strip = ({
            billingContact: _c,
            billingUpdatedAt: _u,
            ...rest
          }: Record<string, unknown>) => rest;
          expect(strip(after)).toEqual(strip(before));
          expect(
            Object.keys(after.billingContact as object).every((f) =>
              (CONTACT_FIELDS as readonly string[]).includes(f),
            ),
          ).toBe(true);
          expect((after.billingContact as Record<string, unknown>).company).toBe(plan.company);
        }),
        runs(PLAN.massAssignment.runs),
      );
      expect(sent.massAssignment).toBe(PLAN.massAssignment.runs * PLAN.massAssignment.requests);
      expectPrototypesClean();
    },
    PROPERTY_TIMEOUT_MS,
  );
});
