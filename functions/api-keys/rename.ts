import { renameApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { RenameApiKeyBody } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  { route: ROUTES.renameApiKey, body: RenameApiKeyBody, status: 200 },
  ({ caller, pathParameters, body }, deps) =>
    renameApiKey(deps, caller, pathParameters.api_key_id, body),
);
