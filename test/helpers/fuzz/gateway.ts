import { afterAll, beforeAll, expect, vi } from 'vitest';
import * as z from 'zod';
import {
  ApiGatewayEmulator,
  type EmulatorRequest,
  type EmulatorResponse,
} from '../../../local/emulator.js';
import type { KeyType } from '../../../shared/domain/scopes.js';
import type { RouteDefinition, RouteId } from '../../../shared/routes.js';
import { CreatedApiKey, ErrorEnvelope } from '../../../shared/schemas/api-keys.js';
import { newAccount, type TestAccount } from '../harness.js';
import { runtimeLogsOn } from '../log-level.js';
import { accountItems } from '../table-items.js';
import { bodyAs } from '../typed-body.js';

/**
 * Hostile input, property-based (issue 8): every route of the table, through the API Gateway
 * emulator with the real authorizer and handlers on DynamoDB Local. Each property
 * (test/integration/fuzz-*.test.ts) runs with a fixed seed (fast-check prints it, with the
 * counterexample, on failure); together they send {@link PLANNED_REQUESTS} requests per run. Every
 * response, whatever the request:
 *
 * - is never a 5xx;
 * - has a JSON body (or none, for a success that has none);
 * - for a 4xx, is SendGrid's envelope `{"errors":[{"field": string|null, "message": string}]}`;
 * - is a 2xx only where one is plausible (a route of the table, its success status, a key that
 *   may call it).
 *
 * This module holds the gateway every property sends through, the checks every response goes
 * through, and the fixtures: accounts and keys of every kind.
 */

export const SEED = 20261127;

export const PLAN = {
  /** Batches of requests that must all be rejected, each between two table snapshots. */
  rejected: { runs: 160, batch: 25 },
  /** One request each: random methods, paths, headers, queries and bodies. */
  chaos: 3000,
  /** One request each: a hostile Authorization header on a route that needs a key. */
  authorization: 3000,
  /** Five requests each: create, rename, replace, roll, billing update with server-owned fields. */
  massAssignment: { runs: 40, requests: 5 },
};
export const PLANNED_REQUESTS =
  PLAN.rejected.runs * PLAN.rejected.batch +
  PLAN.chaos +
  PLAN.authorization +
  PLAN.massAssignment.runs * PLAN.massAssignment.requests;

/** fast-check settings shared by every property: the fixed seed, and no time-based cut-off. */
export const runs = (numRuns: number) => ({ seed: SEED, numRuns });
export const PROPERTY_TIMEOUT_MS = 300_000;

/** The success statuses of each route (mail send: 202, or 200 in sandbox mode). */
export const SUCCESS: Record<RouteId, readonly number[]> = {
  createApiKey: [201],
  listApiKeys: [200],
  getApiKey: [200],
  getApiKeyUsage: [200],
  renameApiKey: [200],
  replaceApiKey: [200],
  listApiKeyEvents: [200],
  rollApiKey: [200],
  revokeApiKeysByValue: [200],
  revokeLeakedApiKeys: [202],
  deleteApiKey: [204],
  listScopes: [200],
  listScopeAreas: [200],
  listSubusers: [200],
  listPlans: [200],
  createSubuser: [200],
  updateSubuser: [204],
  deleteSubuser: [204],
  sendMail: [200, 202],
  getBillingProfile: [200],
  updateBillingProfile: [200],
  getHealth: [200],
  getOpenApi: [200],
};

// ---------------------------------------------------------------------------------------------
// The gateway, and the checks every response goes through

/**
 * The emulator's clock advances one second per request, so the public revocation route's
 * throttle (1 request/s, burst 10) refills and its handler is fuzzed rather than its 429. The
 * authorizer's cache (TTL 300 s) is still exercised: a result serves the next 300 requests.
 */
let clock = Date.parse('2026-11-27T12:00:00Z');
const emulator = new ApiGatewayEmulator({ cacheTtlSeconds: 300, now: () => clock });

/** The last lines the handlers logged (stdout is captured: 10,000 requests log a lot). */
const logTail: string[] = [];

/**
 * Registers the hooks of a fuzz file: the process's output goes to {@link logTail} (the last log
 * lines explain a 5xx), with the runtime's logs on, and the fixtures are made once. The getter
 * returns them to the tests.
 */
export function useFixtures(): () => Fixtures {
  let fx: Fixtures | undefined;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    const capture = (chunk: string | Uint8Array) => {
      logTail.push(String(chunk));
      if (logTail.length > 20) logTail.shift();
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const logsOff = runtimeLogsOn();
    release = () => {
      stdout.mockRestore();
      stderr.mockRestore();
      logsOff();
    };
    fx = await fixtures();
  });
  afterAll(() => {
    release?.();
    emulator.close();
  });
  return () => {
    if (fx === undefined) throw new Error('the fixtures are made in beforeAll');
    return fx;
  };
}

export function summary(request: EmulatorRequest): string {
  const body = request.body ?? '';
  return `${JSON.stringify(request.method)} ${JSON.stringify(request.path)} query=${JSON.stringify(
    request.query ?? {},
  )} headers=${JSON.stringify(request.headers ?? {}).slice(0, 400)} body(${body.length})=${JSON.stringify(
    body.slice(0, 300),
  )}`;
}

/**
 * SendGrid's envelope and nothing more: `errors` alone, at least one, each with `field` and
 * `message` alone (the schema's own objects, made strict).
 */
const STRICT_ENVELOPE = z.strictObject({
  errors: z.array(ErrorEnvelope.shape.errors.element.strict()).min(1),
});

/** Sends one request and checks the invariants every response must hold. */
export async function send(request: EmulatorRequest): Promise<EmulatorResponse> {
  clock += 1000;
  const response = await emulator.handle(request);
  const where = `${summary(request)}\n  → ${response.status} ${response.body.slice(0, 300)}`;
  expect(
    response.status,
    `5xx for ${where}\n  last log lines:\n${logTail.join('').slice(-3000)}`,
  ).toBeLessThan(500);
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  if (response.body === '') {
    expect(response.status, `an empty body is only for a success: ${where}`).toBeLessThan(300);
  } else {
    expect(response.headers['content-type'], where).toBe('application/json');
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new Error(`the body is not JSON: ${where}`);
    }
    if (response.status >= 400)
      expect(STRICT_ENVELOPE.safeParse(body).success, `not the envelope: ${where}`).toBe(true);
  }
  return response;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: accounts and keys of every kind

export interface Caller {
  key: string;
  keyId: string;
  type: KeyType;
  scopes: readonly string[];
}

export interface Fixtures {
  /** The account whose stored items must never change under rejected requests. */
  account: TestAccount;
  owner: Caller;
  /** A general key: create, read and mail, but not update or delete. */
  restricted: Caller;
  billing: Caller;
  /** A general key with one scope no route needs: refused everywhere but `GET /v3/scopes`. */
  reader: Caller;
  /** Keys that no longer work: deleted, and the old value of a key rolled without grace. */
  deletedKey: string;
  rolledAwayKey: string;
  /** Another account, whose keys' IDs must answer 404 to this account's callers. */
  other: TestAccount;
  otherKeyId: string;
}

export function allowed(caller: Pick<Caller, 'type' | 'scopes'>, route: RouteDefinition): boolean {
  if (route.access.kind === 'public') return true;
  const held = new Set(caller.scopes);
  return (
    route.access.keyTypes.includes(caller.type) && route.access.scopes.every((s) => held.has(s))
  );
}

export async function setupCall(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }>;
export async function setupCall<S extends z.ZodType>(
  method: string,
  path: string,
  key: string,
  body: unknown,
  answer: S,
): Promise<{ status: number; body: z.input<S> }>;
export async function setupCall(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  answer?: z.ZodType,
): Promise<{ status: number; body: unknown }> {
  const response = await send({
    method,
    path,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed: unknown = response.body === '' ? undefined : JSON.parse(response.body);
  return {
    status: response.status,
    body: answer === undefined ? parsed : bodyAs(answer, parsed, `${method} ${path}`),
  };
}

export async function createCaller(ownerKey: string, scopes: readonly string[]): Promise<Caller> {
  const res = await setupCall(
    'POST',
    '/v3/api_keys',
    ownerKey,
    { name: 'fuzz', scopes },
    CreatedApiKey,
  );
  expect(res.status).toBe(201);
  return { key: res.body.api_key, keyId: res.body.api_key_id, type: res.body.type, scopes };
}

export function ownerCaller(account: TestAccount): Caller {
  return {
    key: account.ownerKey,
    keyId: account.owner.keyId,
    type: 'owner',
    scopes: account.owner.scopes,
  };
}

export async function fixtures(): Promise<Fixtures> {
  const account = await newAccount();
  const other = await newAccount();
  const owner = ownerCaller(account);
  const doomed = await createCaller(account.ownerKey, ['mail.send']);
  expect((await setupCall('DELETE', `/v3/api_keys/${doomed.keyId}`, account.ownerKey)).status).toBe(
    204,
  );
  const rolled = await createCaller(account.ownerKey, ['mail.send']);
  const roll = await setupCall('POST', `/v3/api_keys/${rolled.keyId}/roll`, account.ownerKey, {
    grace_seconds: 0,
  });
  expect(roll.status).toBe(200);
  return {
    account,
    owner,
    restricted: await createCaller(account.ownerKey, [
      'api_keys.create',
      'api_keys.read',
      'mail.send',
    ]),
    billing: await createCaller(account.ownerKey, ['billing.read', 'billing.update']),
    reader: await createCaller(account.ownerKey, ['alerts.read']),
    deletedKey: doomed.key,
    rolledAwayKey: rolled.key,
    other,
    otherKeyId: (await createCaller(other.ownerKey, ['mail.send'])).keyId,
  };
}

/**
 * Every stored item of the accounts, except the authorizer's last-use stamp: `lastUsedAt` and
 * `lastUsedIp` are written (at most once a minute per key) whenever a key verifies, and a request
 * can be rejected after its key verified (a bad body, a missing scope). That stamp records the
 * key's use, not the request's effect; everything else must be byte-for-byte unchanged.
 */
export async function snapshot(accountIds: readonly string[]) {
  const items = await accountItems(accountIds);
  return {
    ...items,
    keys: items.keys.map(({ lastUsedAt: _at, lastUsedIp: _ip, ...rest }) => rest),
  };
}

// ---------------------------------------------------------------------------------------------

const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
export function expectPrototypesClean() {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  const probe = {} as Record<string, unknown>;
  for (const name of ['polluted', 'isAdmin', 'type', 'accountId', 'scopes']) {
    expect(probe[name], `Object.prototype.${name}`).toBeUndefined();
  }
}
