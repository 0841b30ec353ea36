import { createApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { CreateApiKeyBody } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  { route: ROUTES.createApiKey, body: CreateApiKeyBody, status: 201 },
  ({ caller, body }, deps) => createApiKey(deps, caller, body),
);
