import { replaceApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { ReplaceApiKeyBody } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  {
    route: ROUTES.replaceApiKey,
    body: ReplaceApiKeyBody,
    status: 200,
    uses: [AUTHORIZER_CACHE_FLUSH],
  },
  ({ caller, pathParameters, body }, deps) =>
    replaceApiKey(deps, caller, pathParameters.api_key_id, body),
);
