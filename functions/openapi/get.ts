import { publicRouteHandler } from '../../shared/http/api-handler.js';
import { openApiDocument } from '../../shared/openapi.js';

export const handler = publicRouteHandler(() => ({ status: 200, body: openApiDocument() }));
