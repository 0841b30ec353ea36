import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import type { DeployedRoute } from '../../shared/deployment/deployment.js';
import { activeDeployment } from '../../shared/runtime/deployment.js';
import { useInvoicesExample } from '../helpers/examples.js';
import { createGateway } from '../helpers/gateway.js';
import type { TestAccount } from '../helpers/harness.js';
import {
  type SuiteFixture,
  type SuiteRequest,
  scopePools,
  securitySuite,
} from '../helpers/security-suite.js';

/**
 * The shared security suite (`test/helpers/security-suite.ts`) over the routes of a team's
 * config, the invoices example's, exactly as it runs over Keygate's own
 * (`security-suite.test.ts`): generated from the deployment's route list, with generic fixtures.
 * A team route's success is whatever its handler answers a valid request (asked of the handler
 * itself, without Keygate, below); another account's resource only where the route names one.
 */

const loaded = await useInvoicesExample();
const configDir = loaded.configDir as string;
const { call } = createGateway({ cacheTtlSeconds: 300 });

const NEW_INVOICE = { customer: 'Acme GmbH', amount_cents: 1250, currency: 'EUR' };
/** The example's one path parameter, and the route that makes what it names. */
const PARAM = '{invoice_id}';
const CREATE = { method: 'POST', path: '/v1/invoices' } as const;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

async function teamHandler(route: DeployedRoute): Promise<Handler> {
  const url = pathToFileURL(resolve(configDir, route.handler)).href;
  return ((await import(/* @vite-ignore */ url)) as { handler: Handler }).handler;
}

/** A valid request to the team's handler itself, as from a caller holding every scope. */
function validEvent(route: DeployedRoute, invoiceId = ''): APIGatewayProxyEvent {
  return {
    httpMethod: route.method,
    resource: route.path,
    path: route.path.replace(PARAM, invoiceId),
    pathParameters: route.path.includes(PARAM) ? { invoice_id: invoiceId } : null,
    headers: {},
    queryStringParameters: null,
    body: route.method === 'POST' ? JSON.stringify(NEW_INVOICE) : null,
    requestContext: {
      authorizer: {
        accountId: 'handler-probe',
        keyId: 'handler-probe',
        type: 'owner',
        scopes: activeDeployment().catalogue.all.join(' '),
      },
    },
  } as unknown as APIGatewayProxyEvent;
}

/**
 * What the team's own handlers (not wrapped, not behind the gateway) answer a valid request: the
 * statuses the suite expects Keygate to let through. Each route names an invoice of its own,
 * made by the create handler.
 */
const teamRoutes = activeDeployment().teamRoutes;
const createRoute = teamRoutes.find((r) => r.method === CREATE.method && r.path === CREATE.path);
if (!createRoute) throw new Error(`the example has no ${CREATE.method} ${CREATE.path}`);
const create = await teamHandler(createRoute);
const SUCCESS = new Map<string, number>();
for (const route of teamRoutes) {
  const made = await create(validEvent(createRoute), {} as Context);
  const seeded = (JSON.parse(made.body) as { id: string }).id;
  const answer = await (await teamHandler(route))(validEvent(route, seeded), {} as Context);
  SUCCESS.set(route.id, answer.statusCode);
}

/** A resource the request can name: an invoice the account's owner creates through the API. */
async function invoiceOf(account: TestAccount): Promise<string> {
  const res = await call(CREATE.method, CREATE.path, { key: account.ownerKey, body: NEW_INVOICE });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { id: string }).id;
}

function fixtureOf(route: DeployedRoute): SuiteFixture {
  const named = route.path.includes(PARAM);
  const request = async (account: TestAccount): Promise<SuiteRequest> => ({
    path: named ? route.path.replace(PARAM, await invoiceOf(account)) : route.path,
    ...(route.method === 'POST' ? { body: NEW_INVOICE } : {}),
  });
  const success = SUCCESS.get(route.id);
  if (success === undefined || success < 200 || success > 299) {
    throw new Error(`${route.id}: the handler answers a valid request with ${success}`);
  }
  return { request, success, ...(named ? { crossAccount: request } : {}) };
}

securitySuite({
  call,
  routes: teamRoutes,
  fixture: fixtureOf,
  pools: scopePools(activeDeployment().catalogue),
});
