import { createSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { createdSubuserView } from '../../shared/http/wire/subusers.js';
import { ROUTES } from '../../shared/routes.js';
import { declaredPlans } from '../../shared/runtime/deployment.js';

// `password` and `ips` are checked for shape and go no further: Keygate has neither.
export const handler = keyRouteHandler(
  ROUTES.createSubuser,
  ({ caller, body: { username, email, plan } }, deps) =>
    createSubuser(deps, caller, { username, email, plan }, declaredPlans()),
  {
    view: (subuser, { body }) =>
      createdSubuserView(subuser, body.include_region === true, declaredPlans()),
  },
);
