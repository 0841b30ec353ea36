import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { MAX_ALLOWED_IPS } from '../../../shared/domain/ip-allowlist.js';
import { ALL_SCOPES, AUTO_ASSIGNED_SCOPES, isBillingScope } from '../../../shared/domain/scopes.js';
import type { RouteDefinition } from '../../../shared/routes.js';
import {
  CreateApiKeyBody,
  RenameApiKeyBody,
  ReplaceApiKeyBody,
  RevokeLeakedKeysBody,
  RollApiKeyBody,
  RolledApiKey,
} from '../../../shared/schemas/api-keys.js';
import {
  BillingProfile,
  type CONTACT_FIELDS,
  CONTACT_MAX_LENGTH,
  UpdateBillingProfileBody,
} from '../../../shared/schemas/billing.js';
import { SendMailBody } from '../../../shared/schemas/mail.js';
import {
  CreatedSubuser,
  CreateSubuserBody,
  SubuserView,
  UpdateSubuserBody,
} from '../../../shared/schemas/subusers.js';
import type { Fixtures } from './gateway.js';

/**
 * The building blocks of the fuzz properties: hostile strings, JSON texts (valid and invalid
 * field values, as raw text, so keys may repeat and nesting may go deeper than a serializer
 * allows), keys, headers and paths.
 */

export const MAIL_MAX_BODY_BYTES = 5 * 1024 * 1024;
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
let oversize: string | undefined;
/** A body over API Gateway's 10 MB, built once. */
export const gatewayOversizeBody = () => {
  oversize ??= `{"name":"${'x'.repeat(GATEWAY_MAX_BODY_BYTES)}"}`;
  return oversize;
};
export const KNOWN_SCOPES = new Set(ALL_SCOPES);
export const GENERAL_SCOPES = ALL_SCOPES.filter((s) => !isBillingScope(s));
export const BILLING_SCOPES = ALL_SCOPES.filter(isBillingScope);

// ---------------------------------------------------------------------------------------------
// Building blocks: hostile strings, JSON texts, keys

/** JSON text of a value. */
export const j = (value: unknown): string => JSON.stringify(value);

/** An object's JSON text from raw entries: keys may repeat and be `__proto__`, as on the wire. */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${j(k)}:${v}`).join(',')}}`;
}

export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const base64url = (length: number) =>
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: length, maxLength: length });

/** A key of the documented format with a valid checksum (independent of the source's code). */
export function forgeKey(prefix: string, keyId: string, random37: string): string {
  const body = `${prefix}.${keyId}.${random37}`;
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body) >>> 0, 0);
  return `${body}${checksum.toString('base64url')}`;
}

export const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((c) => String.fromCharCode(c));
export const controlChar = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constant('\u007f'),
);
/** Unicode of every kind: any code point, lone surrogates, controls, bidi and zero-width marks. */
export const hostileString = fc.oneof(
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
export const nonStringRaw = fc.oneof(
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
export const nonArrayRaw = fc.oneof(
  fc.integer().map(j),
  fc.boolean().map(j),
  fc.constant('null'),
  hostileString.map(j),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(j),
  fc.constantFrom('{"0":"mail.send","length":1}', '{"__proto__":[]}'),
);
/** Nesting far deeper than any field needs: arrays or objects, 500 to 2,500 levels. */
export const deepRaw = fc
  .tuple(fc.integer({ min: 500, max: 2500 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** The fields some request schema names: a client may set them, on some route. */
const REQUEST_FIELDS = new Set(
  [
    CreateApiKeyBody,
    RenameApiKeyBody,
    ReplaceApiKeyBody,
    RollApiKeyBody,
    RevokeLeakedKeysBody,
    CreateSubuserBody,
    UpdateSubuserBody,
    UpdateBillingProfileBody,
    SendMailBody,
  ].flatMap((schema) => Object.keys(schema.shape)),
);

/**
 * The fields of the answers that no request names: the server's (`type`, `api_key_id`,
 * `created_at`…), taken from the response schemas so that a field added to an answer is tried as
 * a pollution key too.
 */
export const SERVER_FIELDS = [
  ...new Set(
    [RolledApiKey, CreatedSubuser, SubuserView, BillingProfile].flatMap((schema) =>
      Object.keys(schema.shape),
    ),
  ),
].filter((field) => !REQUEST_FIELDS.has(field));

/**
 * Server-owned fields and prototype keys a client might try to set: the answers' own fields, the
 * stored items' attributes (which no schema names) and their snake-case spellings, and the keys
 * of the prototype chain.
 */
export const POLLUTION_KEYS = [
  ...SERVER_FIELDS,
  'account_id',
  'accountId',
  'keyHash',
  'key_hash',
  'version',
  'keyCount',
  'keyLimit',
  'keyId',
  'ownerKeyId',
  'pk',
  'createdAt',
  'updatedAt',
  'lastUsedAt',
  'previousKeyHash',
  'billingContact',
  '__proto__',
  'constructor',
  'prototype',
];

export function pollutionArb(fx: Fixtures) {
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
export function objectBody(
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
export const validName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a valid name has none
  .filter((s) => s.trim().length > 0 && s.trim().length <= 100 && !/[\u0000-\u001f\u007f]/.test(s));
export const validNameRaw = validName.map(j);
export const generalScopesRaw = fc
  .subarray([...GENERAL_SCOPES], { minLength: 1, maxLength: 6 })
  .map(j);
export const futureRaw = fc
  .integer({ min: 2100, max: 2900 })
  .map((year) => j(`${year}-01-01T00:00:00Z`));
export const validIpsRaw = fc
  .subarray(['10.0.0.0/8', '::1', '203.0.113.7', '2001:db8::/32'])
  .map(j);
export const MINIMAL_MAIL = {
  personalizations: [{ to: [{ email: 'recipient@example.com' }] }],
  from: { email: 'sender@example.com' },
  subject: 'Hello',
  content: [{ type: 'text/plain', value: 'Howdy!' }],
};

// Invalid field values, as JSON text: each is refused by the request schema.
export const badNameRaw = fc.oneof(
  nonStringRaw,
  fc.constantFrom('', ' ', '\t', '\n \r', '\u00a0\u2003', '\ufeff').map(j),
  fc
    .string({ unit: 'grapheme-ascii', minLength: 101, maxLength: 200 })
    .filter((s) => s.trim().length > 100)
    .map(j),
  fc.tuple(validName, controlChar, validName).map(([a, c, b]) => j(`${a}${c}${b}`)),
  deepRaw,
);
export const badScopesRaw = fc.oneof(
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
export const unknownScopesRaw = fc
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
export const badExpiresSchemaRaw = fc.oneof(
  nonStringRaw.filter((raw) => raw !== 'null'),
  hostileString.filter((s) => !/^\d{4}-\d\d-\d\dT/.test(s)).map(j),
  fc.constantFrom('2027-13-01T00:00:00Z', '2027-01-01', '2027-01-01T00:00:00', 'tomorrow').map(j),
);
export const pastRaw = fc.constantFrom('2001-01-01T00:00:00Z', '1970-01-01T00:00:00+00:00').map(j);
export const badIpsSchemaRaw = fc.oneof(
  nonArrayRaw.filter((raw) => raw !== 'null'),
  nonStringRaw.map((bad) => `["10.0.0.1",${bad}]`),
  fc.constant(j(['1'.repeat(65)])),
  fc.constant(j(Array.from({ length: MAX_ALLOWED_IPS + 1 }, (_, i) => `10.0.0.${i}`))),
);
/** Not an address or a block: refused with 400 by the domain (`x` is not a hex digit). */
export const badIpsDomainRaw = hostileString.map((s) => j(['10.0.0.1', `x${s}`]));
export const badGraceRaw = fc.oneof(
  nonStringRaw.filter((raw) => !/^-?\d+$/.test(raw)),
  hostileString.map(j),
  fc.integer({ max: -1 }).map(j),
  fc.integer({ min: 7 * 24 * 3600 + 1 }).map(j),
  fc.constantFrom('0.5', '1.5', '1e400', '-1e400', '604800.1', '1e21'),
);
export const badKeysRaw = fc.oneof(
  nonArrayRaw,
  fc.constant('[]'),
  nonStringRaw.map((bad) => `["SG.x",${bad}]`),
  fc.constant(j(Array.from({ length: 101 }, (_, i) => `SG.${i}`))),
  fc.constant(j(['S'.repeat(513)])),
  deepRaw,
);

export function badContactRaw(field: (typeof CONTACT_FIELDS)[number]): fc.Arbitrary<string> {
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
export const validContact: readonly (readonly [string, fc.Arbitrary<string>])[] = [
  ['first_name', fc.constantFrom('"Ada"', 'null', '"Zoë"')],
  ['company', fc.constantFrom('"Acme"', 'null')],
  ['country', fc.constantFrom('"us"', '"DE"', 'null')],
];

/** Texts no JSON parser accepts, not even after trimming. */
export const invalidJsonText = fc
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
export const nonObjectJsonText = fc
  .jsonValue({ maxDepth: 3 })
  .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
  .map(j);

export const JSON_CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json;charset=UTF-8',
] as const;
export const NON_JSON_CONTENT_TYPES = [
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
export const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'on-behalf-of']);
export const extraHeaders = fc.array(
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
export const headerPairs = (pairs: readonly (readonly [string, string])[]) =>
  pairs.filter(([name]) => !RESERVED_HEADERS.has(name.toLowerCase()));

export const extraQuery = fc.array(fc.tuple(hostileString, hostileString), { maxLength: 3 });

/** A path segment as a client would send it (a lone surrogate has no UTF-8 form: U+FFFD). */
export const encodeSegment = (segment: string) =>
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
export const pathOf = (route: RouteDefinition, id = '') =>
  route.path.replace(/\{(api_key_id|subuser_name)\}/, encodeSegment(id.replaceAll('/', '\u2215')));
