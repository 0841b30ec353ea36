import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json' with { type: 'json' };
import type { KeygateStack } from '../../infra/keygate-stack.js';

/**
 * An App for assertion tests: the feature flags of `cdk.json`, no built-in CloudFormation
 * validation (seconds per synth; these assertions are stricter), and, unless `bundle` is set,
 * no esbuild bundling (placeholder assets: bundling costs about a second per function; it is
 * covered by `bundles.test.ts` and by `npm run synth`).
 */
export function newApp(options: { bundle?: boolean; outdir?: string } = {}): App {
  return new App({
    builtinCloudFormationValidation: false,
    // An App without one makes a `cdk.out…` directory in the system's temp dir and leaves it.
    outdir: options.outdir ?? appOutdir(),
    context: {
      ...cdkJson.context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
}

const appOutdirs: string[] = [];

function appOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-cdk-'));
  appOutdirs.push(dir);
  return dir;
}

/** Removes the output directories of the apps this test file made (`test/infra/setup.ts`). */
export function removeAppOutdirs(): void {
  for (const dir of appOutdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A CloudFormation resource of a synthesized template. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export function resourcesOf(template: Template, type?: string): Record<string, CfnResource> {
  const all = template.toJSON().Resources as Record<string, CfnResource>;
  return type ? Object.fromEntries(Object.entries(all).filter(([, r]) => r.Type === type)) : all;
}

export function resourceOf(template: Template, logicalId: string): CfnResource {
  const resource = resourcesOf(template)[logicalId];
  if (!resource) throw new Error(`No resource ${logicalId} in the template`);
  return resource;
}

/**
 * A template value as one readable string: `{Ref: X}` → `${X}`, `{Fn::GetAtt: [X, A]}` →
 * `${X.A}`, `Fn::Join` joined. Lets tests compare ARNs built from tokens with plain strings.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return `\${${v.Ref}}`;
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
    const join = v['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  throw new Error(`Cannot render ${JSON.stringify(value)}`);
}

export interface TemplateMethod {
  logicalId: string;
  httpMethod: string;
  /** The full resource path, e.g. `/v3/api_keys/{api_key_id}`. */
  path: string;
  properties: Record<string, unknown>;
}

/** Every API Gateway method with its full path, rebuilt from the resource tree. */
export function methodsOf(template: Template): TemplateMethod[] {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    if (id === undefined) return ''; // Fn::GetAtt RootResourceId: the root
    const resource = resources[id];
    if (!resource) throw new Error(`No API resource ${id}`);
    return `${pathOf(resource.Properties.ParentId)}/${String(resource.Properties.PathPart)}`;
  };
  return Object.entries(resourcesOf(template, 'AWS::ApiGateway::Method')).map(
    ([logicalId, method]) => ({
      logicalId,
      httpMethod: String(method.Properties.HttpMethod),
      path: pathOf(method.Properties.ResourceId) || '/',
      properties: method.Properties,
    }),
  );
}

/** The logical ID a `{Ref}` or `{Fn::GetAtt}` points at. */
export function referencedId(value: unknown): string | undefined {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: string[] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
}

/**
 * The template's Lambda functions that are Keygate's (route functions and authorizer): all but
 * the web console deployment's provider, which aws-cdk-lib's BucketDeployment owns.
 */
export function keygateFunctionsOf(
  stack: KeygateStack,
  template: Template,
): Record<string, CfnResource> {
  const webConsole = stack.keygate.console;
  const deploymentRole =
    webConsole &&
    stack.getLogicalId(
      webConsole.deploymentRole.node.defaultChild as Parameters<Stack['getLogicalId']>[0],
    );
  return Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(
      ([, fn]) => referencedId(fn.Properties.Role) !== deploymentRole,
    ),
  );
}
