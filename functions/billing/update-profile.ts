import { updateBillingProfile } from '../../shared/domain/billing.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { UpdateBillingProfileBody } from '../../shared/schemas/billing.js';

export const handler = keyRouteHandler(
  { route: ROUTES.updateBillingProfile, body: UpdateBillingProfileBody, status: 200 },
  ({ caller, body }, deps) => updateBillingProfile(deps, caller, body),
);
