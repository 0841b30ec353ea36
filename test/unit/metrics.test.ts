// EMF lines are asserted on here: written, whatever the test run's setting (first import).
import '../helpers/metrics-on.js';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EMF_FLUSH_METRICS } from '../../shared/adapters/coalesced-authorizer-cache.js';
import { FLUSH_FAILED_METRIC } from '../../shared/adapters/resilient-authorizer-cache.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import { type AuthorizeOutcome, decisionDimensions } from '../../shared/gateway/authorize.js';
import { publicRouteHandler } from '../../shared/http/api-handler.js';
import { errorEnvelope } from '../../shared/http/middlewares.js';
import { logger } from '../../shared/observability/logger.js';
import {
  countMetric,
  DEFAULT_METRIC_DIMENSIONS,
  METRIC_NAMES,
  METRICS_NAMESPACE,
  metricCount,
  publishMetrics,
} from '../../shared/observability/metrics.js';
import { ROUTES } from '../../shared/routes.js';
import { runtimeLogsOn } from '../helpers/log-level.js';

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/**
 * Everything written to stdout (Powertools Metrics' destination, and the logger's) and stderr
 * (where Powertools' own warnings would go by default), line by line.
 */
let written: string[];

beforeEach(() => {
  written = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const emfLines = (): Emf[] =>
  written.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Emf);

/** The one metric of an EMF line: its namespace, dimensions (names and values), name, unit, value. */
function metricOf(line: Emf) {
  const [directive] = line._aws.CloudWatchMetrics;
  const [metric] = directive?.Metrics ?? [];
  const [names = []] = directive?.Dimensions ?? [];
  return {
    namespace: directive?.Namespace,
    dimensionSets: directive?.Dimensions.length,
    dimensions: Object.fromEntries(names.map((name) => [name, line[name]])),
    name: metric?.Name,
    unit: metric?.Unit,
    value: metric ? line[metric.Name] : undefined,
  };
}

const SERVICE = { service: 'keygate' };

describe('Keygate metrics (Powertools EMF)', () => {
  it('writes the flush metrics when the invocation publishes, under Keygate with only the service dimension', () => {
    // Act
    EMF_FLUSH_METRICS.count(FLUSH_METRICS.failed);
    EMF_FLUSH_METRICS.count(FLUSH_METRICS.deferred);
    EMF_FLUSH_METRICS.count(FLUSH_METRICS.boundMissed);
    EMF_FLUSH_METRICS.milliseconds(FLUSH_METRICS.delay, 1200);
    EMF_FLUSH_METRICS.milliseconds(FLUSH_METRICS.delay, 300);
    const beforePublish = emfLines().length;
    publishMetrics();

    // Assert: buffered until published, then one line holding all four
    expect(beforePublish).toBe(0);
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    const [line] = lines as [Emf];
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(line.service).toBe('keygate');
    expect(directive?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: FLUSH_METRICS.failed, Unit: 'Count' },
        { Name: FLUSH_METRICS.deferred, Unit: 'Count' },
        { Name: FLUSH_METRICS.boundMissed, Unit: 'Count' },
        { Name: FLUSH_METRICS.delay, Unit: 'Milliseconds' },
      ]),
    );
    expect(line[FLUSH_METRICS.delay]).toEqual([1200, 300]);
    expect(FLUSH_FAILED_METRIC).toBe(FLUSH_METRICS.failed);
  });

  it('is the dimension set the alarms name (DEFAULT_METRIC_DIMENSIONS)', () => {
    expect(DEFAULT_METRIC_DIMENSIONS).toEqual(SERVICE);
  });

  it.each<
    [
      string,
      AuthorizeOutcome | { effect: 'error'; reason: 'storage' | 'internal' },
      Record<string, string>,
    ]
  >([
    ['allow', { effect: 'allow' } as AuthorizeOutcome, { Outcome: 'allow', Reason: 'none' }],
    [
      'deny, route',
      { effect: 'deny' } as AuthorizeOutcome,
      { Outcome: 'deny', Reason: 'route_not_allowed' },
    ],
    [
      'deny, address',
      { effect: 'deny', reason: 'address_not_allowed' } as AuthorizeOutcome,
      { Outcome: 'deny', Reason: 'address_not_allowed' },
    ],
    ...(['missing', 'malformed', 'unknown', 'expired', 'disabled'] as const).map(
      (reason): [string, AuthorizeOutcome, Record<string, string>] => [
        `unauthorized, ${reason}`,
        { effect: 'unauthorized', reason },
        { Outcome: 'unauthorized', Reason: reason },
      ],
    ),
    [
      'error, storage',
      { effect: 'error', reason: 'storage' },
      { Outcome: 'error', Reason: 'storage' },
    ],
    [
      'error, internal',
      { effect: 'error', reason: 'internal' },
      { Outcome: 'error', Reason: 'internal' },
    ],
  ])(
    'writes AuthorizerDecision at once for %s, by Outcome and Reason',
    (_label, decision, expected) => {
      // Arrange
      const dimensions = decisionDimensions(decision);
      const before = metricCount(METRIC_NAMES.authorizerDecision, dimensions);

      // Act: nothing published; a single metric is written as it is counted
      countMetric(METRIC_NAMES.authorizerDecision, dimensions);

      // Assert
      expect(dimensions).toEqual(expected);
      expect(emfLines().map(metricOf)).toEqual([
        {
          namespace: 'Keygate',
          dimensionSets: 1,
          dimensions: { ...SERVICE, ...expected },
          name: 'AuthorizerDecision',
          unit: 'Count',
          value: 1,
        },
      ]);
      expect(metricCount(METRIC_NAMES.authorizerDecision, dimensions)).toBe(before + 1);
    },
  );

  it.each([
    ['storage', new ServiceUnavailableError()],
    ['mail', new ServiceUnavailableError({ dependency: 'mail' })],
  ])(
    'counts a 503 of the %s as ServiceUnavailable by Dependency, in the error envelope',
    (dependency, error) => {
      // Act
      const request = { error, event: { requestContext: {} }, response: undefined };
      errorEnvelope({ logger }).onError?.(request as never);

      // Assert
      expect((request.response as { statusCode?: number } | undefined)?.statusCode).toBe(503);
      expect(emfLines().map(metricOf)).toEqual([
        {
          namespace: 'Keygate',
          dimensionSets: 1,
          dimensions: { ...SERVICE, Dependency: dependency },
          name: 'ServiceUnavailable',
          unit: 'Count',
          value: 1,
        },
      ]);
    },
  );

  it('writes SourceLimited by Route (the emulator counts its per-source refusals so)', () => {
    countMetric(METRIC_NAMES.sourceLimited, { Route: 'revokeLeakedApiKeys' });

    expect(emfLines().map(metricOf)).toEqual([
      {
        namespace: 'Keygate',
        dimensionSets: 1,
        dimensions: { ...SERVICE, Route: 'revokeLeakedApiKeys' },
        name: 'SourceLimited',
        unit: 'Count',
        value: 1,
      },
    ]);
  });

  it('a middy route writes what it counted when the invocation ends (logMetrics), and nothing else when it counted nothing', async () => {
    // Arrange: the runtime's logger on, to see that an invocation with no metric warns nothing
    const logsOff = runtimeLogsOn();
    const counting = publicRouteHandler(ROUTES.getHealth, () => {
      countMetric(FLUSH_METRICS.deferred);
      return {};
    });
    const quiet = publicRouteHandler(ROUTES.getHealth, () => ({}));
    // The type middy gives a handler's context is its middlewares' (RequestContext); Lambda's is this.
    const context = { functionName: 'test', awsRequestId: 'r-1' } as Context as never;

    // Act
    try {
      await counting({} as APIGatewayProxyEvent, context);
      const afterCounting = emfLines().length;
      await quiet({} as APIGatewayProxyEvent, context);

      // Assert
      expect(afterCounting).toBe(1);
      expect(emfLines()).toHaveLength(1);
      expect(metricOf(emfLines()[0] as Emf)).toMatchObject({
        name: FLUSH_METRICS.deferred,
        value: 1,
      });
      expect(written.filter((line) => line.includes('No application metrics'))).toEqual([]);
    } finally {
      logsOff();
    }
  });

  it('tallies every count in process, by name and by exact dimensions', () => {
    // Arrange
    const name = 'TallyProbe';
    const before = metricCount(name);

    // Act
    countMetric(name, { Outcome: 'a' });
    countMetric(name, { Outcome: 'b' });
    countMetric(name);
    publishMetrics();

    // Assert
    expect(metricCount(name)).toBe(before + 3);
    expect(metricCount(name, { Outcome: 'a' })).toBe(1);
    expect(metricCount(name, { Outcome: 'c' })).toBe(0);
  });
});
