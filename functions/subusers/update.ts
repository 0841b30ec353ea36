import { updateSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import { UpdateSubuserBody } from '../../shared/schemas/subusers.js';

export const handler = keyRouteHandler(
  {
    route: ROUTES.updateSubuser,
    body: UpdateSubuserBody,
    status: 204,
    uses: [AUTHORIZER_CACHE_FLUSH],
  },
  ({ caller, body, pathParameters }, deps) =>
    updateSubuser(deps, caller, pathParameters.subuser_name, body),
);
