import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { authorize, decisionDimensions } from '../../shared/gateway/authorize.js';
import { addLambdaContext, logger } from '../../shared/observability/logger.js';
import { countMetric, METRIC_NAMES } from '../../shared/observability/metrics.js';
import { keyRepository, policyRoutes, runtimeConfig } from '../../shared/runtime/storage.js';

/**
 * The REST API's REQUEST authorizer, on every non-public route. Throwing exactly
 * `Error('Unauthorized')` makes API Gateway answer 401; any other error makes it fail closed
 * (`AUTHORIZER_CONFIGURATION_ERROR`, which Keygate's gateway responses answer with 503 and
 * `Retry-After`: a storage outage, or a broken deployment setting). The policy is for the
 * requested route (of the route table, or one the deployment added: `KEYGATE_EXTRA_ROUTES`).
 * Logs carry the key ID and the decision, never the key. Each decision is counted
 * (`AuthorizerDecision` by outcome and reason), written before it returns: a single metric, so
 * nothing is left buffered at the end of the invocation.
 */
export async function handler(
  event: APIGatewayRequestAuthorizerEvent,
  context?: Context,
): Promise<APIGatewayAuthorizerResult> {
  addLambdaContext(context);
  let outcome: Awaited<ReturnType<typeof authorize>>;
  try {
    outcome = await authorize(
      {
        repo: keyRepository(),
        config: runtimeConfig(),
        routes: policyRoutes(),
        now: () => new Date(),
        onTouchFailed: (error) => logger.warn('last-used update failed', { error }),
      },
      {
        authorization: authorizationHeader(event.headers),
        methodArn: event.methodArn,
        sourceIp: event.requestContext?.identity?.sourceIp ?? null,
        // The route's template (`/v3/api_keys/{api_key_id}`), as in the cache key.
        httpMethod: event.httpMethod ?? event.requestContext?.httpMethod ?? '',
        resourcePath: event.requestContext?.resourcePath ?? event.resource ?? '',
      },
    );
  } catch (error) {
    // Fail closed: not 'Unauthorized' (that would blame the key), so API Gateway answers 5xx.
    logger.error('authorizer failed', { decision: 'error', error });
    const reason = error instanceof ServiceUnavailableError ? 'storage' : 'internal';
    countMetric(METRIC_NAMES.authorizerDecision, decisionDimensions({ effect: 'error', reason }));
    throw new Error('Authorizer unavailable', { cause: error });
  }
  countMetric(METRIC_NAMES.authorizerDecision, decisionDimensions(outcome));
  if (outcome.effect === 'unauthorized') {
    logger.info('authorizer decision', { decision: 'unauthorized', reason: outcome.reason });
    throw new Error('Unauthorized');
  }
  logger.info('authorizer decision', {
    decision: outcome.effect,
    keyId: outcome.context.keyId,
    accountId: outcome.context.accountId,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  });
  return {
    principalId: outcome.principalId,
    policyDocument: outcome.policy,
    context: { ...outcome.context },
  };
}

function authorizationHeader(headers: APIGatewayRequestAuthorizerEvent['headers']) {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'authorization') return value;
  }
  return undefined;
}
