import { deleteApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  ROUTES.deleteApiKey,
  ({ caller, pathParameters }, deps) => deleteApiKey(deps, caller, pathParameters.api_key_id),
  { adapters: AUTHORIZER_CACHE_FLUSH },
);
