import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, keygatePropsFromContext } from '../../infra/context.js';

const CERTIFICATE =
  'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

const from = (context: Record<string, unknown>) => keygatePropsFromContext((key) => context[key]);

describe('keygatePropsFromContext', () => {
  it('gives no props (the defaults) without context', () => {
    expect(from({})).toEqual({});
  });

  it('reads every setting, as strings from -c or typed values from cdk.json', () => {
    const props = from({
      [CONTEXT_KEYS.sesIdentity]: 'example.com',
      [CONTEXT_KEYS.keyPrefix]: 'KG',
      [CONTEXT_KEYS.defaultKeyLimit]: '25',
      [CONTEXT_KEYS.authorizerCacheTtlSeconds]: 60,
      [CONTEXT_KEYS.stageName]: 'v3',
      [CONTEXT_KEYS.throttleRateLimit]: '20',
      [CONTEXT_KEYS.throttleBurstLimit]: '40',
      [CONTEXT_KEYS.cloudWatchRole]: 'true',
      [CONTEXT_KEYS.stageLogs]: 'false',
      [CONTEXT_KEYS.sesSandboxRecipients]: 'me@example.org, qa.example.org',
      [CONTEXT_KEYS.console]: true,
      [CONTEXT_KEYS.consoleDomainName]: 'keys.example.com',
      [CONTEXT_KEYS.consoleCertificateArn]: CERTIFICATE,
    });

    expect(props).toEqual({
      sesIdentity: 'example.com',
      keyPrefix: 'KG',
      defaultKeyLimit: 25,
      authorizerCacheTtl: Duration.seconds(60),
      stageName: 'v3',
      throttling: { rateLimit: 20, burstLimit: 40 },
      sesSandboxRecipients: ['me@example.org', 'qa.example.org'],
      cloudWatchRole: true,
      stageLogs: false,
      console: true,
      consoleDomain: { domainName: 'keys.example.com', certificateArn: CERTIFICATE },
    });
  });

  it('reads the sandbox recipients as a JSON array from cdk.json too, and skips empty entries', () => {
    expect(
      from({ [CONTEXT_KEYS.sesSandboxRecipients]: ['a@example.org', ' b.example.org '] }),
    ).toEqual({ sesSandboxRecipients: ['a@example.org', 'b.example.org'] });
    expect(from({ [CONTEXT_KEYS.sesSandboxRecipients]: ' , ' })).toEqual({});
  });

  it('turns the dashboard and alarms off with keygate:monitoring=false', () => {
    expect(from({ [CONTEXT_KEYS.monitoring]: 'false' })).toEqual({ monitoring: false });
    expect(from({ [CONTEXT_KEYS.monitoring]: true })).toEqual({ monitoring: true });
    expect(() => from({ [CONTEXT_KEYS.monitoring]: 'off' })).toThrow(/true or false/);
  });

  it('turns the web console off with keygate:console=false', () => {
    expect(from({ [CONTEXT_KEYS.console]: 'false' })).toEqual({ console: false });
  });

  it.each([
    ['a non-integer limit', { [CONTEXT_KEYS.defaultKeyLimit]: '1.5' }, /integer/],
    ['a rate without a burst', { [CONTEXT_KEYS.throttleRateLimit]: '5' }, /go together/],
    ['a flag that is not a boolean', { [CONTEXT_KEYS.cloudWatchRole]: 'yes' }, /true or false/],
    [
      'a console domain without a certificate',
      { [CONTEXT_KEYS.consoleDomainName]: 'a.io' },
      /go together/,
    ],
    ['an object', { [CONTEXT_KEYS.sesIdentity]: { a: 1 } }, /string/],
  ])('refuses %s', (_case, context, message) => {
    expect(() => from(context)).toThrow(message);
  });
});
