import { getApiKey } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { detailView } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.getApiKey,
  ({ caller, pathParameters }, deps) => getApiKey(deps, caller, pathParameters.api_key_id),
  { view: detailView },
);
