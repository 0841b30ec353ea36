import { deleteSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';

export const handler = keyRouteHandler(
  ROUTES.deleteSubuser,
  ({ caller, pathParameters }, deps) => deleteSubuser(deps, caller, pathParameters.subuser_name),
  { adapters: AUTHORIZER_CACHE_FLUSH },
);
