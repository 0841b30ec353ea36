import { listApiKeys } from '../../shared/domain/api-keys.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { listView } from '../../shared/http/wire/api-keys.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.listApiKeys,
  ({ caller, query }, deps) => listApiKeys(deps, caller, query),
  { view: listView },
);
