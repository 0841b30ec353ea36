import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { entryFile, esbuildOptions } from '../../infra/constructs/bundling.js';
import { ROUTE_PERMISSIONS } from '../../infra/constructs/permissions.js';
import { CURSOR_KEY_PK } from '../../shared/adapters/dynamodb/keys-repository.js';
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

  it.each(ROUTE_LIST.map((route) => [route.id] as const))(
    '%s may reach the cursor key item (the one the DynamoDB repository uses) only if it lists events',
    (id) => {
      const restricted = ROUTE_PERMISSIONS[id].filter(
        (p) => p.kind === 'table' && p.leadingKeys?.includes(CURSOR_KEY_PK),
      );

      // listAuditEvents is the only caller of `cursorKey`: a GetItem of that item, and a
      // conditional PutItem on the deployment's first use (test/integration/audit-cursor.test.ts).
      expect(restricted).toEqual(
        id === 'listApiKeyEvents'
          ? [
              {
                kind: 'table',
                table: 'accounts',
                actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
                leadingKeys: [CURSOR_KEY_PK],
              },
            ]
          : [],
      );
    },
  );

  it.each(ROUTE_LIST.map((route) => [route.id] as const))(
    '%s may count refused attempts (and reach only those counters) exactly when it can refuse an escalation without a wider UpdateItem on accounts',
    (id) => {
      const permissions = ROUTE_PERMISSIONS[id];
      const counters = permissions.filter(
        (p) => p.kind === 'table' && p.leadingKeys?.some((k) => k.startsWith('refusals#')),
      );
      const wider = permissions.some(
        (p) =>
          p.kind === 'table' &&
          p.table === 'accounts' &&
          p.leadingKeys === undefined &&
          p.actions.includes('dynamodb:UpdateItem'),
      );
      // The routes whose domain operation records refusals (`refused` in shared/domain/api-keys.ts).
      const refuses = ['renameApiKey', 'replaceApiKey', 'rollApiKey'].includes(id);

      expect(counters).toEqual(
        refuses && !wider
          ? [
              {
                kind: 'table',
                table: 'accounts',
                actions: ['dynamodb:UpdateItem'],
                leadingKeys: ['refusals#*'],
              },
            ]
          : [],
      );
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
