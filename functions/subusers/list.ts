import { listSubusers } from '../../shared/domain/subusers.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { ListSubusersQuery } from '../../shared/schemas/subusers.js';

export const handler = keyRouteHandler(
  { route: ROUTES.listSubusers, query: ListSubusersQuery, status: 200 },
  ({ caller, query }, deps) => listSubusers(deps, caller, query),
);
