import { listGrantablePlans } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { grantablePlansView } from '../../shared/http/wire/subusers.js';
import { ROUTES } from '../../shared/routes.js';
import { declaredPlans } from '../../shared/runtime/deployment.js';

export const handler = keyRouteHandler(
  ROUTES.listPlans,
  ({ caller }, deps) => listGrantablePlans(deps, caller, declaredPlans()),
  { view: grantablePlansView },
);
