import { renameApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { renamedView } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.renameApiKey,
  ({ caller, pathParameters, body }, deps) =>
    renameApiKey(deps, caller, pathParameters.api_key_id, body),
  { view: renamedView },
);
