import { createApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { createdView, newKeyOf } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.createApiKey,
  ({ caller, body }, deps) => createApiKey(deps, caller, newKeyOf(body)),
  { view: createdView },
);
