import { updateBillingProfile } from '../../shared/domain/billing.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { billingProfileView } from '../../shared/http/wire/billing.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.updateBillingProfile,
  ({ caller, body }, deps) => updateBillingProfile(deps, caller, body),
  { view: billingProfileView },
);
