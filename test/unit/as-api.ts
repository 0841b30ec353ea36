import * as domain from '../../shared/domain/api-keys.js';
import { listAuditEvents as listEvents } from '../../shared/domain/audit.js';
import type { Result } from '../../shared/domain/errors.js';
import { rollApiKey as rollKey } from '../../shared/domain/roll-and-revoke.js';
import {
  createdView,
  detailView,
  listView,
  newKeyOf,
  renamedView,
  replacementOf,
  rolledView,
} from '../../shared/http/wire/api-keys.js';
import { eventsPageView } from '../../shared/http/wire/audit.js';
import type {
  CreateApiKeyInput,
  ReplaceApiKeyInput,
  RollApiKeyInput,
} from '../../shared/schemas/api-keys.js';

/**
 * The API-keys operations as a caller of the API sees them: SendGrid's request bodies in, its
 * views out (the domain with the wire format of `shared/http/wire/api-keys.ts` around it), so
 * the service's tests read what a client reads without a handler in between.
 */
type Deps = Parameters<typeof domain.createApiKey>[0];
type Caller = domain.Caller;

function viewed<T, V>(result: Result<T>, view: (value: T) => V): Result<V> {
  return result.ok ? { ok: true, value: view(result.value) } : result;
}

export const createApiKey = async (deps: Deps, caller: Caller, body: CreateApiKeyInput) =>
  viewed(await domain.createApiKey(deps, caller, newKeyOf(body)), createdView);

export const listApiKeys = async (deps: Deps, caller: Caller, query: { limit?: number }) =>
  viewed(await domain.listApiKeys(deps, caller, query), listView);

export const getApiKey = async (deps: Deps, caller: Caller, keyId: string) =>
  viewed(await domain.getApiKey(deps, caller, keyId), detailView);

export const renameApiKey = async (
  deps: Deps,
  caller: Caller,
  keyId: string,
  body: { name: string },
) => viewed(await domain.renameApiKey(deps, caller, keyId, body), renamedView);

export const replaceApiKey = async (
  deps: Deps,
  caller: Caller,
  keyId: string,
  body: ReplaceApiKeyInput,
) => viewed(await domain.replaceApiKey(deps, caller, keyId, replacementOf(body)), detailView);

export const rollApiKey = async (
  deps: Deps,
  caller: Caller,
  keyId: string,
  body: RollApiKeyInput,
) => viewed(await rollKey(deps, caller, keyId, { graceSeconds: body.grace_seconds }), rolledView);

export const listAuditEvents = async (
  deps: Deps,
  caller: Caller,
  query: { limit?: number; cursor?: string; api_key_id?: string },
) =>
  viewed(
    await listEvents(deps, caller, {
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      ...(query.api_key_id !== undefined ? { keyId: query.api_key_id } : {}),
    }),
    eventsPageView,
  );
