import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { KeygateFunction } from '../../infra/constructs/keygate-function.js';
import { bundleEntries, coldStartEntries } from '../../scripts/bench/cold-start.js';
import { newApp } from './support.js';

/**
 * Bundles three functions exactly as the stack does (the `KeygateFunction` construct: local
 * esbuild, ESM, minified, SDK bundled, the `createRequire` banner) and runs the bundles in a
 * separate Node process: they must load as ES modules and answer. The other infra tests skip
 * bundling (about a second per function); `npm run synth` bundles all of them.
 */
const outdir = mkdtempSync(join(tmpdir(), 'keygate-bundles-'));
const app = newApp({ bundle: true, outdir });
const stack = new Stack(app, 'Bundles');
const ENTRIES = {
  authorizer: 'authorizer/handler',
  health: 'health/get',
  mail: 'mail/send',
} as const;
const functions = Object.fromEntries(
  Object.entries(ENTRIES).map(([name, handler]) => [
    name,
    new KeygateFunction(stack, name, {
      handler,
      description: name,
      statements: [],
      environment: {},
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetention: RetentionDays.ONE_DAY,
    }),
  ]),
) as Record<keyof typeof ENTRIES, KeygateFunction>;
const assembly = app.synth();
const template = assembly.getStackByName('Bundles').template as {
  Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
};

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The directory CDK staged a function's bundle in (`asset.<hash>`, named by the S3 key). */
function bundleDir(name: keyof typeof ENTRIES): string {
  const fn = functions[name].function;
  const logicalId = stack.getLogicalId(
    fn.node.defaultChild as Parameters<Stack['getLogicalId']>[0],
  );
  const key = template.Resources[logicalId]?.Properties.Code?.S3Key;
  if (!key) throw new Error(`No code for ${name}`);
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/**
 * Imports a bundle in a fresh Node process and calls its handler with `event`: what it returned
 * (the status) or threw (the message). The function's own logs go to stdout too; skipped.
 */
function invoke(name: keyof typeof ENTRIES, event: unknown): unknown {
  const script = `
    const { handler } = await import(${JSON.stringify(join(bundleDir(name), 'index.mjs'))});
    if (typeof handler !== 'function') throw new Error('no handler export');
    try {
      const result = await handler(${JSON.stringify(event)}, {});
      process.stdout.write('\\nRESULT ' + JSON.stringify({ statusCode: result?.statusCode ?? null }));
    } catch (error) {
      process.stdout.write('\\nRESULT ' + JSON.stringify({ threw: error.message }));
    }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      KEYGATE_KEYS_TABLE: 'keys',
      KEYGATE_ACCOUNTS_TABLE: 'accounts',
      KEYGATE_AUDIT_TABLE: 'audit',
      AWS_REGION: 'us-east-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20_000,
  });
  const result = out.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error(`No result from ${name}: ${out}`);
  return JSON.parse(result.slice('RESULT '.length));
}

describe('function bundles', () => {
  it('are what the cold-start bench bundles, byte for byte', async () => {
    const benchDir = join(outdir, 'bench');
    const files = await bundleEntries(
      coldStartEntries().filter((e) => Object.values(ENTRIES).some((h) => h === e.name)),
      benchDir,
    );

    expect([...files.keys()].sort()).toEqual(Object.values(ENTRIES).sort());
    for (const [name, handler] of Object.entries(ENTRIES)) {
      const deployed = readFileSync(join(bundleDir(name as keyof typeof ENTRIES), 'index.mjs'));
      const bench = readFileSync(files.get(handler) ?? '');
      expect(bench.equals(deployed), `${handler}: bench bundle differs from the deployed one`).toBe(
        true,
      );
    }
  });

  it.each(Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])(
    '%s is one minified ES module with a source map, the AWS SDK inside',
    (name) => {
      const dir = bundleDir(name);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');

      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      // Minified: a few very long lines (the rest are license comments and template literals).
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(code).not.toMatch(/from\s*["']@smithy\//);
      expect(
        code.startsWith("import { createRequire as __keygateCreateRequire } from 'node:module';"),
      ).toBe(true);
      expect(Buffer.byteLength(code)).toBeLessThan(1024 * 1024);
    },
  );

  it('the authorizer loads and refuses a malformed key without any I/O', () => {
    const out = invoke('authorizer', {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/v3/scopes',
      headers: { Authorization: 'Bearer not-a-key' },
    });

    expect(out).toEqual({ threw: 'Unauthorized' });
  });

  it('the health check loads and answers 200', () => {
    const out = invoke('health', {
      httpMethod: 'GET',
      path: '/health',
      resource: '/health',
      headers: {},
      requestContext: {},
      body: null,
      isBase64Encoded: false,
    });

    expect(out).toEqual({ statusCode: 200 });
  });

  it('mail send loads (SES client and zod schemas inside) and answers', () => {
    const out = invoke('mail', {
      httpMethod: 'POST',
      path: '/v3/mail/send',
      resource: '/v3/mail/send',
      headers: { 'content-type': 'application/json' },
      requestContext: {},
      body: '{}',
      isBase64Encoded: false,
    });

    // No authorizer context: the handler refuses before touching SES.
    expect(out).toEqual({ statusCode: 401 });
  });
});
