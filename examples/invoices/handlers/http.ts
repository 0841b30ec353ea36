import type { APIGatewayProxyResult } from 'aws-lambda';

/**
 * JSON answers. Errors use the same envelope as Keygate's own (`{"errors": [{field, message}]}`),
 * so a client reads one shape whether the gateway, Keygate or this API refused it.
 */

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}

export function error(statusCode: number, message: string, field: string | null = null) {
  return json(statusCode, { errors: [{ field, message }] });
}

/** Another account's invoice is answered exactly as one that does not exist. */
export const notFound = () => error(404, 'invoice not found');
