import { rollApiKey } from '../../shared/domain/roll-and-revoke.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { rolledView } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  ROUTES.rollApiKey,
  ({ caller, pathParameters, body }, deps) =>
    rollApiKey(deps, caller, pathParameters.api_key_id, { graceSeconds: body.grace_seconds }),
  { adapters: AUTHORIZER_CACHE_FLUSH, view: rolledView },
);
