import { revokeApiKeysByValue } from '../../shared/domain/roll-and-revoke.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  ROUTES.revokeApiKeysByValue,
  ({ caller, body }, deps) => revokeApiKeysByValue(deps, caller, body),
  { adapters: AUTHORIZER_CACHE_FLUSH },
);
