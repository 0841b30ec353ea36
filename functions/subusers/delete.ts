import { deleteSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  { route: ROUTES.deleteSubuser, status: 204, uses: [AUTHORIZER_CACHE_FLUSH] },
  ({ caller, pathParameters }, deps) => deleteSubuser(deps, caller, pathParameters.subuser_name),
);
