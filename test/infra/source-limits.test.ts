import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Keygate } from '../../infra/constructs/keygate.js';
import { routePathRegex } from '../../infra/constructs/source-limits.js';
import { KeygateStack } from '../../infra/keygate-stack.js';
import { gatewayResponseBody } from '../../shared/gateway/api-gateway.js';
import { ROUTES } from '../../shared/routes.js';
import { newApp, referencedId, render, resourcesOf } from './support.js';

// One synth per file, shared by every assertion.
const stack = new KeygateStack(newApp(), 'Keygate');
const template = Template.fromStack(stack);
const [aclId, acl] = Object.entries(resourcesOf(template, 'AWS::WAFv2::WebACL'))[0] ?? [];
const rules = (acl?.Properties.Rules ?? []) as Record<string, unknown>[];

describe('per-source limits (AWS WAF on the stage)', () => {
  it('puts one regional web ACL on the stage, allowing by default', () => {
    const associations = Object.values(resourcesOf(template, 'AWS::WAFv2::WebACLAssociation'));

    expect(Object.keys(resourcesOf(template, 'AWS::WAFv2::WebACL'))).toHaveLength(1);
    expect(acl?.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    expect(associations).toHaveLength(1);
    expect(render(associations[0]?.Properties.ResourceArn)).toContain('/stages/');
    expect(referencedId(associations[0]?.Properties.WebACLArn)).toBe(aclId);
  });

  it('limits each address on the public leaked-key report to the route table’s limit', () => {
    const limit = ROUTES.revokeLeakedApiKeys.sourceLimit;

    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      Statement: {
        RateBasedStatement: {
          Limit: limit.requests,
          EvaluationWindowSec: limit.windowSeconds,
          AggregateKeyType: 'IP',
        },
      },
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
    });
    const scope = JSON.stringify(rules[0]);
    expect(scope).toContain('"SearchString":"POST"');
    expect(scope).toContain('URL_DECODE');
  });

  it('answers a blocked source with 429 in SendGrid’s envelope, and samples no request', () => {
    expect(acl?.Properties.CustomResponseBodies).toEqual({
      tooManyRequests: {
        ContentType: 'APPLICATION_JSON',
        Content: gatewayResponseBody('THROTTLED'),
      },
    });
    expect(JSON.stringify(acl?.Properties)).not.toContain('"SampledRequestsEnabled":true');
  });

  it('matches the route however API Gateway would route the path to it', () => {
    const regex = new RegExp(routePathRegex('prod', ROUTES.revokeLeakedApiKeys.path));

    for (const path of [
      '/prod/v3/api_keys/revoke-leaked',
      '/prod/v3/api_keys/revoke-leaked/',
      '/v3/api_keys/revoke-leaked',
    ]) {
      expect(regex.test(path), path).toBe(true);
    }
    for (const path of ['/prod/v3/api_keys/revoke', '/prod/v3/api_keys/revoke-leaked/x']) {
      expect(regex.test(path), path).toBe(false);
    }
    expect(
      new RegExp(routePathRegex('prod', '/v3/reports/{id}/export')).test(
        '/prod/v3/reports/a/export',
      ),
    ).toBe(true);
  });

  it('is left out with sourceLimits: false', () => {
    const plain = new Stack(newApp(), 'Plain');
    new Keygate(plain, 'Keygate', { sourceLimits: false, console: false });

    expect(resourcesOf(Template.fromStack(plain), 'AWS::WAFv2::WebACL')).toEqual({});
  });
});
