import { publicRouteHandler } from '../../shared/http/api-handler.js';
import { openApiDocument } from '../../shared/openapi.js';
import { ROUTES } from '../../shared/routes.js';

export const handler = publicRouteHandler(ROUTES.getOpenApi, openApiDocument);
