import { listAuditEvents } from '../../shared/domain/audit.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(ROUTES.listApiKeyEvents, ({ caller, query }, deps) =>
  listAuditEvents(deps, caller, query),
);
