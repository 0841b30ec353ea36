import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { entryFile, esbuildOptions } from '../../infra/constructs/bundling.js';
import { permissionsOf } from '../../infra/constructs/permissions.js';
import { CURSOR_KEY_PK } from '../../shared/adapters/dynamodb/keys-repository.js';
import { ROUTE_LIST, ROUTES, type RouteContract, type RouteId } from '../../shared/routes.js';

/**
 * Each function bundles (and loads) only the adapters it uses: the API Gateway client where it
 * may flush the authorizer cache, SES where it may send mail. What a handler uses must match
 * what its role may do, or a revocation would skip its flush (or a function would carry a
 * client it is not allowed to call).
 */
const outdir = mkdtempSync(join(tmpdir(), 'keygate-adapters-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The route a handler module was built from (`keyRouteHandler(ROUTES.x, …)` records it). */
async function routeOf(handler: string): Promise<RouteContract | undefined> {
  const module = (await import(entryFile(handler))) as { handler: { route?: RouteContract } };
  return module.handler.route;
}

const permissionsFor = (id: RouteId) => permissionsOf({ id, ...ROUTES[id] });

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
    "%s: the route's handler file is built from that very route, and its role may use exactly its adapters",
    async (id, handler) => {
      const kinds = permissionsFor(id).map((p) => p.kind);

      const built = await routeOf(handler);

      // The handler checks, as it loads, that it was given exactly its route's adapters.
      expect(built).toBe(ROUTES[id]);
      const adapters: readonly string[] = (ROUTES[id] as RouteContract).adapters ?? [];
      expect(adapters.includes('authorizerCache')).toBe(kinds.includes('flushAuthorizerCache'));
      expect(adapters.includes('mailer')).toBe(kinds.includes('sendEmail'));
    },
  );

  it.each(ROUTE_LIST.map((route) => [route.id] as const))(
    '%s may reach the cursor key item (the one the DynamoDB repository uses) only if it lists events',
    (id) => {
      const restricted = permissionsFor(id).filter(
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
      const permissions = permissionsFor(id);
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
