import { publicRouteHandler } from '../../shared/http/api-handler.js';
import { ROUTES } from '../../shared/routes.js';
import { HEALTHY } from '../../shared/schemas/health.js';

/** Liveness: answers without I/O, so it reports the function, not its dependencies. */
export const handler = publicRouteHandler(ROUTES.getHealth, () => HEALTHY);
