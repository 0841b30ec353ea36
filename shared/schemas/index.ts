import {
  ApiKeyList,
  ApiKeyView,
  AuditEventList,
  CreateApiKeyBody,
  CreatedApiKey,
  ListApiKeysQuery,
  ListEventsQuery,
  RenameApiKeyBody,
  RenamedApiKey,
  ReplaceApiKeyBody,
  RevokeByValueAnswer,
  RevokeLeakedKeysAnswer,
  RevokeLeakedKeysBody,
  RollApiKeyBody,
  RolledApiKey,
  ScopeAreaList,
  ScopeList,
} from './api-keys.js';
import { BillingProfile, UpdateBillingProfileBody } from './billing.js';
import { Health } from './health.js';
import { SendMailBody } from './mail.js';
import {
  CreatedSubuser,
  CreateSubuserBody,
  GrantablePlanList,
  ListSubusersQuery,
  SubuserList,
  UpdateSubuserBody,
} from './subusers.js';
import { ApiKeyUsage } from './usage.js';

/**
 * The request and response schemas the route table names (`request`, `response` in
 * `shared/routes.ts`). The table holds their names, not the schemas, so the authorizer, which
 * reads the table on every request, bundles no zod; handlers and the OpenAPI document look the
 * schemas up here.
 */
export const SCHEMAS = {
  ApiKeyList,
  ApiKeyUsage,
  ApiKeyView,
  AuditEventList,
  BillingProfile,
  CreateApiKeyBody,
  CreatedApiKey,
  CreatedSubuser,
  CreateSubuserBody,
  GrantablePlanList,
  Health,
  ListApiKeysQuery,
  ListEventsQuery,
  ListSubusersQuery,
  RenameApiKeyBody,
  RenamedApiKey,
  ReplaceApiKeyBody,
  RevokeByValueAnswer,
  RevokeLeakedKeysAnswer,
  RevokeLeakedKeysBody,
  RollApiKeyBody,
  RolledApiKey,
  ScopeAreaList,
  ScopeList,
  SendMailBody,
  SubuserList,
  UpdateBillingProfileBody,
  UpdateSubuserBody,
} as const;

export type SchemaName = keyof typeof SCHEMAS;
