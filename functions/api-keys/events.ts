import { listAuditEvents } from '../../shared/domain/audit.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { ListEventsQuery } from '../../shared/schemas/api-keys.js';

export const handler = keyRouteHandler(
  { route: ROUTES.listApiKeyEvents, query: ListEventsQuery, status: 200 },
  ({ caller, query }, deps) => listAuditEvents(deps, caller, query),
);
