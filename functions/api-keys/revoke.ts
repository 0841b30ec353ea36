import { revokeApiKeysByValue } from '../../shared/domain/roll-and-revoke.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { RevokeLeakedKeysBody } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  {
    route: ROUTES.revokeApiKeysByValue,
    body: RevokeLeakedKeysBody,
    status: 200,
    uses: [AUTHORIZER_CACHE_FLUSH],
  },
  ({ caller, body }, deps) => revokeApiKeysByValue(deps, caller, body),
);
