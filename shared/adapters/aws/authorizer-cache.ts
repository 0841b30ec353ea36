import { APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import type { AuthorizerCache } from '../../domain/ports.js';

/**
 * Flushes API Gateway's authorizer cache for this API's stage (`FlushStageAuthorizersCache`), so
 * a deleted or re-scoped key is refused on the next request instead of after the cache TTL.
 */
export class ApiGatewayAuthorizerCache implements AuthorizerCache {
  constructor(
    private readonly restApiId: string,
    private readonly stageName: string,
    private readonly client: APIGatewayClient = new APIGatewayClient({}),
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
