import { rollApiKey } from '../../shared/domain/roll-and-revoke.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { RollApiKeyBody } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  { route: ROUTES.rollApiKey, body: RollApiKeyBody, status: 200, uses: [AUTHORIZER_CACHE_FLUSH] },
  ({ caller, pathParameters, body }, deps) =>
    rollApiKey(deps, caller, pathParameters.api_key_id, body),
);
