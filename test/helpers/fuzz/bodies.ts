import fc from 'fast-check';
import type * as z from 'zod';
import { CONTACT_FIELDS } from '../../../shared/schemas/billing.js';
import type { CreateSubuserBody } from '../../../shared/schemas/subusers.js';
import type { Fixtures } from './gateway.js';
import {
  badContactRaw,
  badExpiresSchemaRaw,
  badGraceRaw,
  badIpsDomainRaw,
  badIpsSchemaRaw,
  badKeysRaw,
  badNameRaw,
  badScopesRaw,
  deepRaw,
  futureRaw,
  generalScopesRaw,
  invalidJsonText,
  j,
  MINIMAL_MAIL,
  nonArrayRaw,
  nonObjectJsonText,
  nonStringRaw,
  objectBody,
  pastRaw,
  unknownScopesRaw,
  validContact,
  validIpsRaw,
  validNameRaw,
} from './values.js';

/**
 * Request bodies that each body-taking route refuses: invalid JSON, JSON that is not an object,
 * and objects with one field the schema (or, where noted, the domain, before any write) refuses,
 * among valid fields and server-owned ones, in any order.
 */

export type BodyRouteId =
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
export function invalidBodies(fx: Fixtures): Record<BodyRouteId, fc.Arbitrary<string>> {
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
      // Keygate's plan: not a string, too long, or (without plans) any plan at all
      objectBody(fx, [
        ['plan', fc.oneof(nonStringRaw, fc.constantFrom('null', j('p'.repeat(64)), '"pro"'))],
      ]),
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

type SubuserRequest = z.input<typeof CreateSubuserBody>;
/** The fields a subuser body must have: a field the schema comes to require must be given here. */
type RequiredSubuserField = {
  [K in keyof SubuserRequest]-?: undefined extends SubuserRequest[K] ? never : K;
}[keyof SubuserRequest];

const VALID_SUBUSER: Record<RequiredSubuserField, fc.Arbitrary<string>> = {
  username: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{2,20}$/).map(j),
  email: fc.constant(j('customer@example.com')),
  password: fc.constant(j('throwaway password 1')),
  ips: fc.constant('[]'),
};
/** A valid subuser body's required fields, as raw JSON: each is left out in turn below. */
const validSubuser: readonly (readonly [string, fc.Arbitrary<string>])[] =
  Object.entries(VALID_SUBUSER);
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

export const BODY_ROUTES: readonly BodyRouteId[] = [
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
