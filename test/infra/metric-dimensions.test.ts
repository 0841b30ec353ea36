// The EMF lines the functions write are compared with the template here (first import).
import '../helpers/metrics-on.js';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { EMF_FLUSH_METRICS } from '../../shared/adapters/coalesced-authorizer-cache.js';
import { FLUSH_METRICS } from '../../shared/domain/flush-coalescing.js';
import { METRICS_NAMESPACE, publishMetrics } from '../../shared/observability/metrics.js';
import { newApp, resourcesOf } from './support.js';

/**
 * CloudWatch matches an alarm's metric by namespace, name and its whole dimension set: an alarm
 * whose dimensions differ from what the functions write by one name or value watches a metric
 * nothing writes, and never fires. So each alarm on a Keygate metric is held to the EMF line the
 * code writes for that metric, not to a constant both sides could get wrong alike.
 */

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
  [key: string]: unknown;
}

/** What the flush metrics' code path writes for `name`: namespace and dimensions, as CloudFormation names them. */
function written(name: string): {
  namespace: string;
  dimensions: { Name: string; Value: unknown }[];
} {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  EMF_FLUSH_METRICS.count(name);
  publishMetrics();
  vi.restoreAllMocks();
  const emf = JSON.parse(lines.join('').trim()) as Emf;
  const [directive] = emf._aws.CloudWatchMetrics;
  expect(directive?.Dimensions).toHaveLength(1);
  return {
    namespace: directive?.Namespace ?? '',
    dimensions: (directive?.Dimensions[0] ?? []).map((Name) => ({ Name, Value: emf[Name] })),
  };
}

const byName = (a: { Name: string }, b: { Name: string }) => a.Name.localeCompare(b.Name);

afterEach(() => vi.restoreAllMocks());

describe.each([
  ['monitoring on', {}],
  ['monitoring off', { monitoring: false }],
])("alarms on Keygate's own metrics (%s)", (_label, props) => {
  const template = Template.fromStack(new KeygateStack(newApp(), 'Keygate', props));
  const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
    (a) => a.Properties.Namespace === METRICS_NAMESPACE,
  );

  it('are the flush metrics the code writes', () => {
    const names = alarms.map((a) => a.Properties.MetricName);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(Object.values(FLUSH_METRICS)).toContain(name);
  });

  it('name exactly the dimensions the functions write with each metric', () => {
    for (const alarm of alarms) {
      const emitted = written(String(alarm.Properties.MetricName));
      const dimensions = (alarm.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[];

      expect(alarm.Properties.Namespace).toBe(emitted.namespace);
      expect([...dimensions].sort(byName)).toEqual([...emitted.dimensions].sort(byName));
    }
  });
});
