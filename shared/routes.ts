/**
 * The route table: the single source of truth for Keygate's HTTP surface. CDK builds API Gateway
 * methods from it, the authorizer builds policies from it, the local runtime serves it, the
 * OpenAPI document describes it and the security tests iterate it.
 *
 * A route must declare its access: `public` explicitly, or the scopes a key needs (an empty list
 * means "any valid key"). The type has no default, so a route without a declaration does not
 * compile.
 */

import type { KeyType } from './domain/scopes.js';

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

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters. */
  path: string;
  /** Entry file under `functions/`, without extension. */
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
    access: forSubusers(manage('api_keys.create')),
    summary: 'Create an API key; the key is returned once',
  },
  listApiKeys: {
    method: 'GET',
    path: '/v3/api_keys',
    handler: 'api-keys/list',
    access: forSubusers(general('api_keys.read')),
    summary: "List the account's API keys",
  },
  getApiKey: {
    method: 'GET',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/get',
    access: forSubusers(general('api_keys.read')),
    summary: 'Retrieve an API key',
  },
  renameApiKey: {
    method: 'PATCH',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/rename',
    access: forSubusers(manage('api_keys.update')),
    summary: "Update an API key's name",
  },
  replaceApiKey: {
    method: 'PUT',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/replace',
    access: forSubusers(manage('api_keys.update')),
    summary: "Replace an API key's name and scopes",
  },
  listApiKeyEvents: {
    method: 'GET',
    path: '/v3/api_keys/events',
    handler: 'api-keys/events',
    access: forSubusers(general('api_keys.read')),
    summary: "Keygate: the account's audit log, newest first (one key's with ?api_key_id=)",
  },
  rollApiKey: {
    method: 'POST',
    path: '/v3/api_keys/{api_key_id}/roll',
    handler: 'api-keys/roll',
    // Roll mints a secret, as create does: it needs both.
    access: forSubusers(manage('api_keys.create', 'api_keys.update')),
    summary: 'Keygate: a new secret for the key, shown once; the old one works for a grace period',
  },
  revokeLeakedApiKeys: {
    method: 'POST',
    path: '/v3/api_keys/revoke-leaked',
    handler: 'api-keys/revoke-leaked',
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
    access: forSubusers(manage('api_keys.delete')),
    summary:
      "Keygate: revoke keys of the caller's account by their value (authenticated; not subject to the public route's per-address limit)",
  },
  deleteApiKey: {
    method: 'DELETE',
    path: '/v3/api_keys/{api_key_id}',
    handler: 'api-keys/delete',
    access: forSubusers(manage('api_keys.delete')),
    summary: 'Delete (revoke) an API key',
  },
  listScopes: {
    method: 'GET',
    path: '/v3/scopes',
    handler: 'scopes/list',
    access: forSubusers(ANY_KEY),
    summary: 'List the scopes of the calling key',
  },
  listScopeAreas: {
    method: 'GET',
    path: '/v3/scopes/areas',
    handler: 'scopes/areas',
    access: forSubusers(ANY_KEY),
    summary:
      "Keygate: the deployment's areas (the permission picker's rows) and their Read and Full Access scopes",
  },
  listSubusers: {
    method: 'GET',
    path: '/v3/subusers',
    handler: 'subusers/list',
    access: general('subusers.read'),
    summary: "List the account's subusers (?username= a name prefix, &limit=, &offset=)",
  },
  createSubuser: {
    method: 'POST',
    path: '/v3/subusers',
    handler: 'subusers/create',
    access: manage('subusers.create'),
    summary:
      'Create a subuser: an account of its own, managed by this one (password and ips accepted, never stored)',
  },
  updateSubuser: {
    method: 'PATCH',
    path: '/v3/subusers/{subuser_name}',
    handler: 'subusers/update',
    access: manage('subusers.update'),
    summary: "Enable or disable a subuser: a disabled subuser's keys are refused",
  },
  deleteSubuser: {
    method: 'DELETE',
    path: '/v3/subusers/{subuser_name}',
    handler: 'subusers/delete',
    access: manage('subusers.delete'),
    summary: 'Delete a subuser and revoke every key it has',
  },
  sendMail: {
    method: 'POST',
    path: '/v3/mail/send',
    handler: 'mail/send',
    preset: 'sendgrid',
    access: general('mail.send'),
    summary: 'Send an email (SendGrid v3 mail payload)',
  },
  getBillingProfile: {
    method: 'GET',
    path: '/v3/billing/profile',
    handler: 'billing/get-profile',
    preset: 'sendgrid',
    access: billing('billing.read'),
    summary: "The account's plan and billing contact",
  },
  updateBillingProfile: {
    method: 'PATCH',
    path: '/v3/billing/profile',
    handler: 'billing/update-profile',
    preset: 'sendgrid',
    access: billing('billing.update'),
    summary: "Update the account's billing contact",
  },
  getHealth: {
    method: 'GET',
    path: '/health',
    handler: 'health/get',
    access: PUBLIC,
    summary: 'Liveness check',
  },
  getOpenApi: {
    method: 'GET',
    path: '/openapi.json',
    handler: 'openapi/get',
    access: PUBLIC,
    summary: 'The OpenAPI 3.1 document of this API',
  },
} as const satisfies Record<string, RouteDefinition>;

export type RouteId = keyof typeof ROUTES;

export const ROUTE_LIST: readonly (RouteDefinition & { id: RouteId })[] = Object.entries(
  ROUTES,
).map(([id, route]) => ({ id: id as RouteId, ...route }));
