/**
 * The route table: the single source of truth for Keygate's HTTP surface. CDK builds API Gateway
 * methods from it, the authorizer builds policies from it, the local runtime serves it, the
 * OpenAPI document describes it and the security tests iterate it.
 *
 * A route is one contract: its method and path, its access, what it accepts and answers, the
 * adapters and storage calls its operation makes, and its function's settings. The handler is
 * built from it (`keyRouteHandler(ROUTES.x, …)` parses with the named schemas and answers the
 * status), the OpenAPI document describes it, infra derives the function's IAM permissions and
 * memory and timeout from it, and a test holds each handler to its route.
 *
 * A route must declare its access: `public` explicitly, or the scopes a key needs (an empty list
 * means "any valid key"). The type has no default, so a route without a declaration does not
 * compile.
 */

import type { KeyType } from './domain/scopes.js';
import {
  AUDIT,
  accounts,
  CURSOR_KEY,
  index,
  keys,
  type Permission,
  REFUSALS,
  USAGE_READ,
} from './permissions.js';
import type { SchemaName } from './schemas/index.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type RouteAccess =
  | { kind: 'public' }
  | {
      kind: 'key';
      /** Every one of these scopes is required. Empty: any valid key of the allowed types. */
      scopes: readonly string[];
      /** Key types that may call the route at all, whatever their scopes. */
      keyTypes: readonly KeyType[];
      /**
       * The route creates, changes, rolls or revokes keys. A secret in its roll grace period is
       * refused here (the authorizer's policy and the handler both say so): a retiring secret
       * was rolled because it may have leaked, so it may read and use the API, never manage keys.
       */
      managesKeys?: boolean;
      /**
       * A parent's key may act for one of its subusers here with the `on-behalf-of` header
       * (SendGrid's key-management routes). Elsewhere the header is refused (400), never ignored.
       */
      onBehalfOf?: boolean;
    };

/** Keygate's route functions (docs/cost.md, "Memory sizes"): one vCPU. */
export const ROUTE_MEMORY_MB = 1769;
/** A team's route functions run the team's code, which Keygate cannot measure. */
export const TEAM_ROUTE_MEMORY_MB = 512;
/** A route function's settings unless its contract says otherwise (`lambda`). */
export const ROUTE_FUNCTION_DEFAULTS = { memoryMB: ROUTE_MEMORY_MB, timeoutSeconds: 10 } as const;

/** Adapters beyond storage that an operation may need; each is bundled only where declared. */
export type AdapterName = 'mailer' | 'authorizerCache';

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters. */
  path: string;
  /** Entry file under `functions/` (`functions/<handler>.ts`), which exports `handler`. */
  handler: string;
  access: RouteAccess;
  summary: string;
  /** Per-route throttling, tighter than the stage's (public routes that do work). */
  throttle?: { rateLimit: number; burstLimit: number };
  /**
   * A limit per source address (public routes anyone can call): at most `requests` in any
   * `windowSeconds`. On AWS a WAF rate-based rule keyed on the source IP; locally the emulator.
   * One caller's flood then cannot starve another caller, as a shared throttle would.
   */
  sourceLimit?: { requests: number; windowSeconds: number };
  /**
   * Part of SendGrid's preset (mail, billing): served unless a team's config leaves the preset
   * out. Keygate's key-management routes are always served.
   */
  preset?: 'sendgrid';
  /**
   * How many requests one call counts as against the caller's plan (default 1; 0: not counted).
   * A team sets it per route in its config.
   */
  cost?: number;
}

/** A route Keygate serves with a function of its own: its gate facts and its contract. */
export interface RouteContract extends RouteDefinition {
  /** The request's body and query, by schema name (`shared/schemas/index.ts`). */
  request?: { body?: SchemaName; query?: SchemaName };
  /** A successful answer's status, and its body's schema when it has one. */
  response: { status: number; body?: SchemaName };
  /**
   * The storage calls the operation makes, as IAM permissions (`shared/permissions.ts`). The
   * adapters' own (flush, send mail) and resolving `on-behalf-of` are added from `adapters` and
   * `access`.
   */
  permissions: readonly Permission[];
  /** Adapters beyond storage; the handler must be given exactly these (checked as it loads). */
  adapters?: readonly AdapterName[];
  /** The function's settings where they differ from a route function's defaults. */
  lambda?: { memoryMB?: number; timeoutSeconds?: number };
}

/** General routes: the owner key and general keys with the scopes. Billing keys never. */
const general = (...scopes: string[]): KeyAccess => ({
  kind: 'key',
  scopes,
  keyTypes: ['owner', 'general'],
});
/** Billing routes: the owner key and billing keys with the scopes. General keys never. */
const billing = (...scopes: string[]): KeyAccess => ({
  kind: 'key',
  scopes,
  keyTypes: ['owner', 'billing'],
});
/** General routes that create, change, roll or revoke keys: never for a retiring secret. */
const manage = (...scopes: string[]): KeyAccess => ({
  kind: 'key',
  scopes,
  keyTypes: ['owner', 'general'],
  managesKeys: true,
});
type KeyAccess = Extract<RouteAccess, { kind: 'key' }>;
const ANY_KEY: KeyAccess = { kind: 'key', scopes: [], keyTypes: ['owner', 'general', 'billing'] };
/** The same access, and a parent's key may act for a subuser (`on-behalf-of`). */
const forSubusers = (access: KeyAccess): RouteAccess => ({ ...access, onBehalfOf: true });
const PUBLIC: RouteAccess = { kind: 'public' };

export const ROUTES = {
  createApiKey: {
    method: 'POST',
    path: '/v3/api_keys',
    handler: 'api-keys/create',
    request: { body: 'CreateApiKeyBody' },
    response: { status: 201, body: 'CreatedApiKey' },
    // `getAccount` (its maximum key lifetime), then one transaction: `Update` the account's
    // counter, `Put` the key, `Put` the event.
    permissions: [
      keys('dynamodb:PutItem'),
      accounts('dynamodb:GetItem', 'dynamodb:UpdateItem'),
      AUDIT,
    ],
    access: forSubusers(manage('api_keys.create')),
    summary: 'Create an API key; the key is returned once',
  },
  listApiKeys: {
    method: 'GET',
    path: '/v3/api_keys',
    handler: 'api-keys/list',
    request: { query: 'ListApiKeysQuery' },
    response: { status: 200, body: 'ApiKeyList' },
    permissions: [index('keys', 'byAccount')],
    access: forSubusers(general('api_keys.read')),
    summary: "List the account's API keys",
  },
  getApiKey: {
    method: 'GET',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/get',
    response: { status: 200, body: 'ApiKeyView' },
    permissions: [keys('dynamodb:GetItem')],
    access: forSubusers(general('api_keys.read')),
    summary: 'Retrieve an API key',
  },
  getApiKeyUsage: {
    method: 'GET',
    path: '/v3/api_keys/{api_key_id}/usage',
    handler: 'api-keys/usage',
    response: { status: 200, body: 'ApiKeyUsage' },
    // `getKey`, `getAccount` (its plan), then one `GetItem` of the month's counters for the key
    // and for the account, each only when it has limits: reading, never counting.
    permissions: [
      keys('dynamodb:GetItem'),
      {
        kind: 'table',
        table: 'accounts',
        actions: ['dynamodb:GetItem'],
        leadingKeys: ['account#*'],
      },
      USAGE_READ,
    ],
    access: forSubusers(general('api_keys.read')),
    summary: 'Keygate: where the key and its account stand against their limits (counts, resets)',
  },
  renameApiKey: {
    method: 'PATCH',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/rename',
    request: { body: 'RenameApiKeyBody' },
    response: { status: 200, body: 'RenamedApiKey' },
    // `getKey`, `updateKey` (`Update` the key, `Put` the event); a rename never flushes.
    permissions: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem'), AUDIT, REFUSALS],
    access: forSubusers(manage('api_keys.update')),
    summary: "Update an API key's name",
  },
  replaceApiKey: {
    method: 'PUT',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/replace',
    request: { body: 'ReplaceApiKeyBody' },
    response: { status: 200, body: 'ApiKeyView' },
    // `getAccount` (when an expiry is asked for), `getKey`, `updateKey`; a flush when access changes.
    permissions: [
      keys('dynamodb:GetItem', 'dynamodb:UpdateItem'),
      accounts('dynamodb:GetItem'),
      REFUSALS,
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: forSubusers(manage('api_keys.update')),
    summary: "Replace an API key's name and scopes",
  },
  listApiKeyEvents: {
    method: 'GET',
    path: '/v3/api_keys/events',
    handler: 'api-keys/events',
    request: { query: 'ListEventsQuery' },
    response: { status: 200, body: 'AuditEventList' },
    // `Query` on the audit table and its `byTarget` index; the cursor key (created on first use).
    permissions: [
      { kind: 'table', table: 'audit', actions: ['dynamodb:Query'] },
      index('audit', 'byTarget'),
      CURSOR_KEY,
    ],
    access: forSubusers(general('api_keys.read')),
    summary: "Keygate: the account's audit log, newest first (one key's with ?api_key_id=)",
  },
  rollApiKey: {
    method: 'POST',
    path: '/v3/api_keys/{api_key_id}/roll',
    handler: 'api-keys/roll',
    request: { body: 'RollApiKeyBody' },
    response: { status: 200, body: 'RolledApiKey' },
    permissions: [keys('dynamodb:GetItem', 'dynamodb:UpdateItem'), REFUSALS, AUDIT],
    adapters: ['authorizerCache'],
    // Roll mints a secret, as create does: it needs both.
    access: forSubusers(manage('api_keys.create', 'api_keys.update')),
    summary: 'Keygate: a new secret for the key, shown once; the old one works for a grace period',
  },
  revokeLeakedApiKeys: {
    method: 'POST',
    path: '/v3/api_keys/revoke-leaked',
    handler: 'api-keys/revoke-leaked',
    request: { body: 'RevokeLeakedKeysBody' },
    response: { status: 202, body: 'RevokeLeakedKeysAnswer' },
    // `Query` on `byHash`, `getKey`, then `deleteKey` or `updateKey` (owner keys, grace periods).
    permissions: [
      index('keys', 'byHash'),
      keys('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
      accounts('dynamodb:UpdateItem'),
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: PUBLIC,
    summary: 'Keygate: report leaked keys; valid ones are revoked (the answer never says which)',
    // Per source address, so junk from one address cannot keep a genuine report out; the route
    // throttle is only a ceiling that protects the tables from many addresses at once.
    sourceLimit: { requests: 10, windowSeconds: 60 },
    throttle: { rateLimit: 50, burstLimit: 100 },
  },
  revokeApiKeysByValue: {
    method: 'POST',
    path: '/v3/api_keys/revoke',
    handler: 'api-keys/revoke',
    request: { body: 'RevokeLeakedKeysBody' },
    response: { status: 200, body: 'RevokeByValueAnswer' },
    // `getKey` (the ID is in the value), then `deleteKey` or `updateKey` (grace periods); refused
    // attempts count on the accounts table.
    permissions: [
      keys('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
      accounts('dynamodb:UpdateItem'),
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: forSubusers(manage('api_keys.delete')),
    summary:
      "Keygate: revoke keys of the caller's account by their value (authenticated; not subject to the public route's per-address limit)",
  },
  deleteApiKey: {
    method: 'DELETE',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/delete',
    response: { status: 204 },
    // `getKey`, then one transaction: `Delete` the key, `Update` the account's counter, `Put`
    // the event; then a flush.
    permissions: [
      keys('dynamodb:GetItem', 'dynamodb:DeleteItem'),
      accounts('dynamodb:UpdateItem'),
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: forSubusers(manage('api_keys.delete')),
    summary: 'Delete (revoke) an API key',
  },
  listScopes: {
    method: 'GET',
    path: '/v3/scopes',
    handler: 'scopes/list',
    response: { status: 200, body: 'ScopeList' },
    // From the authorizer's context: no I/O.
    permissions: [],
    access: forSubusers(ANY_KEY),
    summary: 'List the scopes of the calling key',
  },
  listScopeAreas: {
    method: 'GET',
    path: '/v3/scopes/areas',
    handler: 'scopes/areas',
    response: { status: 200, body: 'ScopeAreaList' },
    // From the deployment's catalogue, in the bundle: no I/O.
    permissions: [],
    access: forSubusers(ANY_KEY),
    summary:
      "Keygate: the deployment's areas (the permission picker's rows) and their Read and Full Access scopes",
  },
  listSubusers: {
    method: 'GET',
    path: '/v3/subusers',
    handler: 'subusers/list',
    request: { query: 'ListSubusersQuery' },
    response: { status: 200, body: 'SubuserList' },
    // `getAccount` (the caller must be a parent), `Query` on accounts' `byParent`.
    permissions: [accounts('dynamodb:GetItem'), index('accounts', 'byParent')],
    access: general('subusers.read'),
    summary: "List the account's subusers (?username= a name prefix, &limit=, &offset=)",
  },
  createSubuser: {
    method: 'POST',
    path: '/v3/subusers',
    handler: 'subusers/create',
    request: { body: 'CreateSubuserBody' },
    // SendGrid answers a created subuser with 200, not 201 (its contract).
    response: { status: 200, body: 'CreatedSubuser' },
    // `getAccount`, then one transaction: `Update` the parent's counter, `Put` the name's and
    // the ID's reservations and the account, `Put` the event.
    permissions: [accounts('dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'), AUDIT],
    access: manage('subusers.create'),
    summary:
      'Create a subuser: an account of its own, managed by this one (password and ips accepted, never stored)',
  },
  updateSubuser: {
    method: 'PATCH',
    path: '/v3/subusers/{subuser_name}',
    handler: 'subusers/update',
    request: { body: 'UpdateSubuserBody' },
    response: { status: 204 },
    // The name's reservation and the subuser (`GetItem`), a transaction (`Update` the account's
    // state and plan, `Put` the events; a plan alone ends there), then `Query` on keys' `byAccount` and transactions that `ConditionCheck`
    // the account and `Update` each key, an `UpdateItem` ending the marking window; a flush.
    permissions: [
      accounts('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'),
      index('keys', 'byAccount'),
      keys('dynamodb:GetItem', 'dynamodb:UpdateItem'),
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: manage('subusers.update'),
    summary:
      "Enable or disable a subuser (a disabled subuser's keys are refused), or put it on another plan (Keygate's plan)",
  },
  listPlans: {
    method: 'GET',
    path: '/v3/plans',
    handler: 'subusers/plans',
    response: { status: 200, body: 'GrantablePlanList' },
    // `getAccount`: the caller must be a parent, and its own plan bounds the answer.
    permissions: [accounts('dynamodb:GetItem')],
    access: general('subusers.read'),
    summary:
      'Keygate: the plans this account may give its subusers (none looser than its own), and its own plan',
  },
  deleteSubuser: {
    method: 'DELETE',
    path: '/v3/subusers/{subuser_name}',
    handler: 'subusers/delete',
    response: { status: 204 },
    // As update to find it, then `UpdateItem` (being deleted), `Query` on `byAccount`,
    // transactions that `Update` the counter and `Delete` keys, and one that `Delete`s the
    // account and its reservations, `Update`s the parent's counter and `Put`s the event; a
    // flush. The audit log stays append-only: the subuser's events are kept.
    permissions: [
      accounts('dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
      index('keys', 'byAccount'),
      keys('dynamodb:DeleteItem'),
      AUDIT,
    ],
    adapters: ['authorizerCache'],
    access: manage('subusers.delete'),
    summary: 'Delete a subuser and revoke every key it has',
  },
  sendMail: {
    method: 'POST',
    path: '/v3/mail/send',
    handler: 'mail/send',
    request: { body: 'SendMailBody' },
    // 202 with an empty body and the ID in X-Message-Id; 200 in sandbox mode (SendGrid's answers).
    response: { status: 202 },
    permissions: [],
    adapters: ['mailer'],
    // Several SES calls may be needed; API Gateway's integration timeout is 29 s.
    lambda: { timeoutSeconds: 28 },
    preset: 'sendgrid',
    access: general('mail.send'),
    summary: 'Send an email (SendGrid v3 mail payload)',
  },
  getBillingProfile: {
    method: 'GET',
    path: '/v3/billing/profile',
    handler: 'billing/get-profile',
    response: { status: 200, body: 'BillingProfile' },
    permissions: [accounts('dynamodb:GetItem')],
    preset: 'sendgrid',
    access: billing('billing.read'),
    summary: "The account's plan and billing contact",
  },
  updateBillingProfile: {
    method: 'PATCH',
    path: '/v3/billing/profile',
    handler: 'billing/update-profile',
    request: { body: 'UpdateBillingProfileBody' },
    response: { status: 200, body: 'BillingProfile' },
    // A conditional `UpdateItem` on the account.
    permissions: [accounts('dynamodb:UpdateItem')],
    preset: 'sendgrid',
    access: billing('billing.update'),
    summary: "Update the account's billing contact",
  },
  getHealth: {
    method: 'GET',
    path: '/health',
    handler: 'health/get',
    response: { status: 200, body: 'Health' },
    permissions: [],
    access: PUBLIC,
    summary: 'Liveness check',
  },
  getOpenApi: {
    method: 'GET',
    path: '/openapi.json',
    handler: 'openapi/get',
    response: { status: 200 },
    permissions: [],
    access: PUBLIC,
    summary: 'The OpenAPI 3.1 document of this API',
  },
} as const satisfies Record<string, RouteContract>;

export type RouteId = keyof typeof ROUTES;

export const ROUTE_LIST: readonly (RouteContract & { id: RouteId })[] = Object.entries(ROUTES).map(
  ([id, route]) => ({ id: id as RouteId, ...route }),
);
