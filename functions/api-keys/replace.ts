import { replaceApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { detailView, replacementOf } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  ROUTES.replaceApiKey,
  ({ caller, pathParameters, body }, deps) =>
    replaceApiKey(deps, caller, pathParameters.api_key_id, replacementOf(body)),
  { adapters: AUTHORIZER_CACHE_FLUSH, view: detailView },
);
