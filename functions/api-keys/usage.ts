import { getKeyUsage } from '../../shared/domain/usage.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { usageView } from '../../shared/http/wire/usage.js';
import { ROUTES } from '../../shared/routes.js';
import { declaredPlans } from '../../shared/runtime/deployment.js';
import { usageStore } from '../../shared/runtime/plan-limits.js';

export const handler = keyRouteHandler(
  ROUTES.getApiKeyUsage,
  ({ caller, pathParameters }, deps) =>
    getKeyUsage(deps, { usage: usageStore, ...declaredPlans() }, caller, pathParameters.api_key_id),
  { view: usageView },
);
