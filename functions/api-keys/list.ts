import { listApiKeys } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { ListApiKeysQuery } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  { route: ROUTES.listApiKeys, query: ListApiKeysQuery, status: 200 },
  ({ caller, query }, deps) => listApiKeys(deps, caller, query),
);
