import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { entryFile, esbuildOptions } from '../../infra/constructs/bundling.js';
import { ROUTE_PERMISSIONS } from '../../infra/constructs/permissions.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { AUTHORIZER_CACHE_FLUSH } from '../../shared/runtime/authorizer-cache-flush.js';
import type { AdapterProvider } from '../../shared/runtime/deps.js';
import { MAILER } from '../../shared/runtime/mailer.js';

/**
 * Each function bundles (and loads) only the adapters it uses: the API Gateway client where it
 * may flush the authorizer cache, SES where it may send mail. What a handler uses must match
 * what its role may do, or a revocation would skip its flush (or a function would carry a
 * client it is not allowed to call).
 */
const outdir = mkdtempSync(join(tmpdir(), 'keygate-adapters-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

async function usesOf(handler: string): Promise<readonly AdapterProvider[]> {
  const module = (await import(entryFile(handler))) as { handler: { uses?: AdapterProvider[] } };
  return module.handler.uses ?? [];
}

async function bundledPackages(handler: string): Promise<string[]> {
  const result = await build({
    ...esbuildOptions(entryFile(handler), join(outdir, handler)),
    write: false,
    metafile: true,
    minify: false,
    sourcemap: false,
  });
  const packages = Object.keys(result.metafile.inputs)
    .map((input) => /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(input)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(packages)];
}

describe('adapters per function', () => {
  it.each(ROUTE_LIST.map((route) => [route.id, route.handler] as const))(
    '%s uses the flush and the mailer exactly when its role may',
    async (id, handler) => {
      const kinds = ROUTE_PERMISSIONS[id].map((p) => p.kind);

      const uses = await usesOf(handler);

      expect(uses.includes(AUTHORIZER_CACHE_FLUSH)).toBe(kinds.includes('flushAuthorizerCache'));
      expect(uses.includes(MAILER)).toBe(kinds.includes('sendEmail'));
    },
  );

  it.each([
    ['api-keys/get', false, false],
    ['api-keys/delete', true, false],
    ['mail/send', false, true],
  ] as const)(
    'bundles %s with the API Gateway client: %s, SES: %s',
    async (handler, apiGateway, ses) => {
      const packages = await bundledPackages(handler);

      expect(packages).toContain('@aws-sdk/client-dynamodb');
      expect(packages.includes('@aws-sdk/client-api-gateway')).toBe(apiGateway);
      expect(packages.includes('@aws-sdk/client-sesv2')).toBe(ses);
    },
  );
});
