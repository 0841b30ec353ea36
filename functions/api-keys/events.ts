import { listAuditEvents } from '../../shared/domain/audit.js';
import { keyRouteHandler } from '../../shared/http/api-handler.js';
import { eventsPageView } from '../../shared/http/wire/audit.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = keyRouteHandler(
  ROUTES.listApiKeyEvents,
  ({ caller, query: { limit, cursor, api_key_id } }, deps) =>
    listAuditEvents(deps, caller, { limit, cursor, keyId: api_key_id }),
  { view: eventsPageView },
);
