import { Stack } from 'aws-cdk-lib';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { gatewayResponseBody } from '../../shared/gateway/api-gateway.js';
import type { RouteDefinition } from '../../shared/routes.js';
import { pascalCase } from './names.js';

/** The evaluation windows a WAF rate-based rule accepts. */
const WINDOWS = [60, 120, 300, 600] as const;
/** WAF's lowest rate limit. */
const MIN_LIMIT = 10;

export interface KeygateSourceLimitsProps {
  /** The stage the web ACL protects: `arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>`. */
  readonly stageArn: string;
  readonly stageName: string;
  /** The routes with a per-source limit (`sourceLimit` in the route table). */
  readonly routes: readonly (Pick<RouteDefinition, 'method' | 'path' | 'sourceLimit'> & {
    id: string;
  })[];
}

/**
 * Limits per source address for the routes that declare one (the public leaked-key report): an
 * AWS WAF web ACL on the stage with one rate-based rule per route, keyed on the client's IP, so
 * one address flooding a public route cannot keep another address's genuine request out (a
 * stage or method throttle is shared by every caller). Over the limit, WAF answers 429 in
 * SendGrid's envelope (a WAF custom response; AWS: "AWS WAF custom responses take precedence
 * over custom gateway responses").
 *
 * How the rule finds the route: WAF inspects the request as API Gateway receives it, the stage
 * first (`/prod/v3/api_keys/revoke-leaked`), also when it comes through the console's CloudFront
 * distribution (whose API origin path is the stage). The match is a regular expression on the URL-
 * decoded path with an optional trailing slash, since API Gateway decodes the path and ignores a
 * trailing slash when it routes (see `normalisePath` in local/emulator.ts).
 *
 * Limits of WAF to know (AWS WAF developer guide, rate-based rule settings): the lowest limit is
 * 10 per window, windows are 60, 120, 300 or 600 s, and WAF "applies rate limiting near the
 * limit that you set, but does not guarantee an exact" one: it checks the rate about every 10 s.
 * Requests through CloudFront are counted per CloudFront edge address, not per viewer.
 */
export class KeygateSourceLimits extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: KeygateSourceLimitsProps) {
    super(scope, id);
    const rules = props.routes.map((route, priority) => {
      const limit = route.sourceLimit;
      if (!limit) throw new Error(`${route.id} has no sourceLimit`);
      if (!WINDOWS.includes(limit.windowSeconds as (typeof WINDOWS)[number])) {
        throw new Error(
          `${route.id}: sourceLimit.windowSeconds must be one of ${WINDOWS.join(', ')}`,
        );
      }
      if (!Number.isInteger(limit.requests) || limit.requests < MIN_LIMIT) {
        throw new Error(
          `${route.id}: sourceLimit.requests must be an integer of at least ${MIN_LIMIT}`,
        );
      }
      const name = `PerSource${pascalCase(route.id)}`;
      return {
        name,
        priority,
        action: {
          block: {
            customResponse: {
              responseCode: 429,
              customResponseBodyKey: 'tooManyRequests',
              responseHeaders: [{ name: 'retry-after', value: String(limit.windowSeconds) }],
            },
          },
        },
        statement: {
          rateBasedStatement: {
            limit: limit.requests,
            evaluationWindowSec: limit.windowSeconds,
            aggregateKeyType: 'IP',
            scopeDownStatement: {
              andStatement: {
                statements: [
                  {
                    byteMatchStatement: {
                      fieldToMatch: { method: {} },
                      positionalConstraint: 'EXACTLY',
                      searchString: route.method,
                      textTransformations: [{ priority: 0, type: 'NONE' }],
                    },
                  },
                  {
                    regexMatchStatement: {
                      fieldToMatch: { uriPath: {} },
                      regexString: routePathRegex(props.stageName, route.path),
                      textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
                    },
                  },
                ],
              },
            },
          },
        },
        visibilityConfig: {
          cloudWatchMetricsEnabled: true,
          metricName: `Keygate${name}`,
          sampledRequestsEnabled: false,
        },
      };
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Keygate: per-source limits of public routes',
      defaultAction: { allow: {} },
      customResponseBodies: {
        tooManyRequests: {
          contentType: 'APPLICATION_JSON',
          content: gatewayResponseBody('THROTTLED'),
        },
      },
      rules,
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: `KeygateWebAcl${pascalCase(Stack.of(this).stackName)}`,
        // Sampled requests would keep whole requests (the Authorization header among them).
        sampledRequestsEnabled: false,
      },
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

/**
 * `^(/prod)?/v3/api_keys/revoke-leaked/?$`: with or without the stage (a custom domain's base
 * path mapping drops it), path parameters as one segment.
 */
export function routePathRegex(stageName: string, path: string): string {
  const pattern = path
    .split('/')
    .map((segment) =>
      /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return `^(/${stageName})?${pattern}/?$`;
}
