import { updateSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { declaredPlans } from '../../shared/runtime/deployment.js';

export const handler = keyRouteHandler(
  ROUTES.updateSubuser,
  ({ caller, body, pathParameters }, deps) =>
    updateSubuser(deps, caller, pathParameters.subuser_name, body, declaredPlans()),
  { adapters: AUTHORIZER_CACHE_FLUSH },
);
