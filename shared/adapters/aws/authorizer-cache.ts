import { APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import type { AuthorizerCache } from '../../domain/ports.js';

/**
 * The SDK's defaults wait for ever (no timeouts; see `DYNAMODB_TIMEOUTS` in
 * `shared/adapters/dynamodb/client.ts` for what each one measures). A hung control plane must not
 * hold a delete until the function dies: the flush gives up within about 6 s (2 attempts of at
 * most 3 s, the change already written), it is logged and counted, and the TTL bounds exposure.
 */
const CONTROL_PLANE_CLIENT = {
  maxAttempts: 2,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    throwOnRequestTimeout: true,
    socketTimeout: 3_000,
  },
} as const;

/**
 * Flushes API Gateway's authorizer cache for this API's stage (`FlushStageAuthorizersCache`), so
 * a deleted or re-scoped key is refused on the next request instead of after the cache TTL.
 */
export class ApiGatewayAuthorizerCache implements AuthorizerCache {
  constructor(
    private readonly restApiId: string,
    private readonly stageName: string,
    private readonly client: APIGatewayClient = new APIGatewayClient(CONTROL_PLANE_CLIENT),
  ) {}

  async flush(): Promise<void> {
    await this.client.send(
      new FlushStageAuthorizersCacheCommand({
        restApiId: this.restApiId,
        stageName: this.stageName,
      }),
    );
  }
}
