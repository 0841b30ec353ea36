import type { WarningsConfig } from '../domain/key-warnings.js';
import type { Plan } from '../domain/limits.js';
import type { KeyType } from '../domain/scopes.js';
import type { HttpMethod } from '../routes.js';

/**
 * What a team writes to put Keygate's keys in front of its own API: `keygate.config.ts` at the
 * project root (or any path in `KEYGATE_CONFIG`), whose default export is a plain object of this
 * shape. `defineConfig` only types it; a plain object works, so the file needs no import.
 *
 * @example
 * export default {
 *   areas: [{ id: 'invoices', label: 'Invoices', scopes: ['invoices.read', 'invoices.create'] }],
 *   routes: [
 *     { method: 'GET', path: '/v1/invoices', scopes: ['invoices.read'], handler: './handlers/list.ts' },
 *   ],
 * };
 */
export interface TeamConfig {
  /** The team's areas, as the console's permission picker shows them (No / Read / Full access). */
  areas?: readonly TeamArea[];
  /** The team's routes, each behind Keygate's authorizer, served by the team's handler. */
  routes?: readonly TeamRoute[];
  /**
   * `sendgrid` (the default) keeps SendGrid's catalogue and its mail and billing routes beside the
   * team's; `none` leaves them out. Keygate's own key-management routes (and their `API Keys`
   * area) are always there.
   */
  preset?: 'sendgrid' | 'none';
  /**
   * Plans: named limits for the team's customers. Every key route counts each request against
   * the caller's account's plan (docs/limits.md). A rate limit (`perSecond`, `burst`) and quotas
   * per UTC day and month: `[{ id: 'starter', rate: { perSecond: 5, burst: 10 },
   * quota: { perDay: 1000 } }]`.
   */
  plans?: readonly Plan[];
  /** The plan of accounts that have none; without it they are not limited. */
  defaultPlan?: string;
  /**
   * Key warnings, from a scan every hour (docs/limits.md#warnings): `expiryDays` (default
   * `[30, 7, 1]`, `[]` for none): `api_key.expiry_warning` when a key is that many days from its
   * expiry; `unusedDays` (default: none): `api_key.unused_warning` when a key has not been used
   * for that many days; `disableUnused` (default false): also disable such a key (never the owner
   * key), until an operator enables it (`keygate keys enable`).
   */
  warnings?: WarningsConfig;
}

export interface TeamArea {
  /** Lowercase letters, digits, `-` and `_`, starting with a letter: `invoices`. */
  id: string;
  label: string;
  /** Its scopes, `<area>.<action>` style: `invoices.read`. Read Access is the `*.read` ones. */
  scopes: readonly string[];
  /** Billing areas make billing keys, which hold nothing else (SendGrid's rule). */
  billing?: boolean;
}

export interface TeamRoute {
  method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters: `/v1/invoices/{invoice_id}`. */
  path: string;
  /** Every one of these is required; an empty list admits any valid key. */
  scopes: readonly string[];
  /**
   * Key types that may call it at all. Default: owner and billing keys for a route whose scopes
   * are all billing scopes, owner and general keys otherwise.
   */
  keyTypes?: readonly KeyType[];
  /**
   * The handler module, relative to the config file; it exports `handler`, a plain API Gateway
   * proxy handler, which Keygate wraps (`shared/http/team-handler.ts`).
   */
  handler: string;
  /** One line for the OpenAPI document. */
  summary?: string;
  /** How many requests one call counts as against a plan's limits (Unkey's `cost`); default 1. */
  cost?: number;
}

/** Types a config; the identity. */
export function defineConfig(config: TeamConfig): TeamConfig {
  return config;
}
