import { createSubuser } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';

// SendGrid answers a created subuser with 200 (its contract), not 201.
export const handler = keyRouteHandler(ROUTES.createSubuser, ({ caller, body }, deps) =>
  createSubuser(deps, caller, body),
);
