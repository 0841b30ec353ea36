import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Standing } from '../domain/limits.js';

/**
 * SendGrid's rate-limit headers: the limit, the requests left, and the epoch second at which it
 * is whole again (SendGrid documents `X-RateLimit-Reset` as a Unix time in seconds:
 * https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits).
 */
export function rateLimitHeaders(standing: Standing): Record<string, string> {
  return {
    'x-ratelimit-limit': String(standing.limit),
    'x-ratelimit-remaining': String(Math.max(0, standing.remaining)),
    'x-ratelimit-reset': String(Math.ceil(standing.resetsAt.getTime() / 1000)),
  };
}

/** The answer with where the caller stands (nothing when unlimited). */
export function withStanding(
  response: APIGatewayProxyResult,
  standing: Standing | undefined,
): APIGatewayProxyResult {
  if (!standing) return response;
  return { ...response, headers: { ...response.headers, ...rateLimitHeaders(standing) } };
}
