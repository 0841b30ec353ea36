// The runtime's logs are asserted on here: on, whatever the test run's level (first import).
import '../helpers/logs-on.js';
import { APIGatewayClient, FlushStageAuthorizersCacheCommand } from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ApiGatewayAuthorizerCache } from '../../shared/adapters/aws/authorizer-cache.js';
import {
  FLUSH_FAILED_METRIC,
  resilientAuthorizerCache,
} from '../../shared/adapters/resilient-authorizer-cache.js';
import { createLogger } from '../../shared/observability/logger.js';
import { metricCount } from '../../shared/observability/metrics.js';

describe('ApiGatewayAuthorizerCache', () => {
  it("flushes this API's stage only", async () => {
    // Arrange: API Gateway's cache flush cannot run here, so its SDK client is mocked.
    const client = new APIGatewayClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(FlushStageAuthorizersCacheCommand).resolves({});

    // Act
    await new ApiGatewayAuthorizerCache('abc123', 'prod', client).flush();

    // Assert
    const calls = mock.commandCalls(FlushStageAuthorizersCacheCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ restApiId: 'abc123', stageName: 'prod' });
  });
});

describe('resilientAuthorizerCache', () => {
  it('swallows a failed flush, logs it and counts it', async () => {
    // Arrange
    const lines: string[] = [];
    const cache = resilientAuthorizerCache(
      { flush: async () => Promise.reject(new Error('TooManyRequestsException')) },
      createLogger({}, (line) => lines.push(line)),
    );
    const before = metricCount(FLUSH_FAILED_METRIC);

    // Act
    await cache.flush();

    // Assert
    expect(metricCount(FLUSH_FAILED_METRIC)).toBe(before + 1);
    expect(lines.join('\n')).toContain('authorizer cache flush failed');
    expect(lines.join('\n')).toContain('TooManyRequestsException');
  });
});
