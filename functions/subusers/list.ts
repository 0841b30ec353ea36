import { listSubusers } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { subuserView } from '../../shared/http/wire/subusers.js';
import { ROUTES } from '../../shared/routes.js';
import { declaredPlans } from '../../shared/runtime/deployment.js';

export const handler = keyRouteHandler(
  ROUTES.listSubusers,
  ({ caller, query: { username, limit, offset } }, deps) =>
    listSubusers(deps, caller, { prefix: username, limit, offset }),
  {
    view: (subusers, { query }) => {
      const declared = declaredPlans();
      return subusers.map((s) => subuserView(s, query.include_region === 'true', declared));
    },
  },
);
