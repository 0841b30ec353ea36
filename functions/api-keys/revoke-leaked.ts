import { revokeLeakedKeys } from '../../shared/domain/roll-and-revoke.js';
import { publicOperationHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = publicOperationHandler(
  ROUTES.revokeLeakedApiKeys,
  ({ body, sourceIp }, deps) => revokeLeakedKeys(deps, body, sourceIp),
  { adapters: AUTHORIZER_CACHE_FLUSH },
);
