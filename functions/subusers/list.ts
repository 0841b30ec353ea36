import { listSubusers } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(ROUTES.listSubusers, ({ caller, query }, deps) =>
  listSubusers(deps, caller, query),
);
