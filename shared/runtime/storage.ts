import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoKeyRepository } from '../adapters/dynamodb/keys-repository.js';
import type { KeyRepository } from '../domain/ports.js';
import type { PolicyRoute } from '../gateway/policy.js';
import { configFromEnv, type RuntimeConfig } from './config.js';
import { activeDeployment } from './deployment.js';
import { EXTRA_ROUTES_ENV, parseExtraRoutes } from './extra-routes.js';

/**
 * Process-wide configuration and storage, built on first use and reused by a warm Lambda. The
 * authorizer needs only this, so it imports nothing of mail or API Gateway management.
 */
let config: RuntimeConfig | undefined;
let documentClient: ReturnType<typeof createDocumentClient> | undefined;
let repository: KeyRepository | undefined;
let policyRouteList: readonly PolicyRoute[] | undefined;

export function runtimeConfig(): RuntimeConfig {
  config ??= configFromEnv();
  return config;
}

/** The process's DynamoDB document client (tests attach middleware to it to count calls). */
export function dynamoDocumentClient() {
  const { region, dynamodbEndpoint, dynamodbTimeoutMs: ms } = runtimeConfig();
  documentClient ??= createDocumentClient({
    region,
    endpoint: dynamodbEndpoint,
    timeouts: ms === undefined ? undefined : { connectionTimeoutMs: ms, requestTimeoutMs: ms },
  });
  return documentClient;
}

export function keyRepository(): KeyRepository {
  repository ??= new DynamoKeyRepository(dynamoDocumentClient(), runtimeConfig().tables);
  return repository;
}

/**
 * The routes the authorizer's policies cover: the deployment's (Keygate's own, SendGrid's preset
 * when kept, a team's), plus the routes a CDK app added with `addRoute`
 * ({@link EXTRA_ROUTES_ENV}), parsed once per container. The same array on every call, so
 * policies stay memoised.
 */
export function policyRoutes(env: NodeJS.ProcessEnv = process.env): readonly PolicyRoute[] {
  if (policyRouteList) return policyRouteList;
  const extra = parseExtraRoutes(env[EXTRA_ROUTES_ENV]);
  const routes = activeDeployment().routes;
  policyRouteList = extra.length === 0 ? routes : [...routes, ...extra];
  return policyRouteList;
}
