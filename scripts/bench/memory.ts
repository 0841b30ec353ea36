/**
 * What the Lambda functions cost in Lambda time (issue 15; docs/cost.md): each function measured
 * is bundled exactly as it deploys ({@link bundleEntries}) and loaded by a fresh Node process
 * with a deployed function's environment ({@link lambdaEnvironment}), which then invokes its
 * `handler` as Lambda would, against DynamoDB Local. Per process:
 * - INIT: wall time and CPU time of the `import()` (Lambda's INIT phase, billed since August 2025);
 * - the first invocation: wall and CPU (lazy set-up: the SDK's credentials and region, the first
 *   connection, cold JIT);
 * - warm invocations: median wall time per call and CPU per call (`process.cpuUsage`, this
 *   process's threads only: DynamoDB Local's JVM is another process), after a warm-up;
 * - bytes the function writes to stdout per invocation (its CloudWatch log lines), and RSS.
 *
 * The authorizer is measured twice warm: on a key already used this minute (one `GetItem`), and
 * on keys not used for a minute (the `GetItem` and the conditional last-used `UpdateItem`), each
 * on fresh keys so that every call records its use. Its first invocation also records a use.
 *
 * CPU time is what scales with Lambda's memory size; the wait for DynamoDB does not, and
 * DynamoDB Local on loopback is no measure of it (docs/cost.md takes the AWS round trip as an
 * assumption). `scripts/bench/cost-model.ts` turns these figures into the memory and cost tables.
 *
 * `npx tsx scripts/bench/memory.ts [repeats]`: measures, writes `bench/memory.json`, prints the
 * figures and docs/cost.md's tables; `--from bench/memory.json`: the tables from figures kept.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { AUTHORIZER_HANDLER, entryFile, REPO_ROOT } from '../../infra/constructs/bundling.js';
import { ACCESS_LOG_FIELDS, AUTHORIZER_MEMORY_MB } from '../../infra/constructs/keygate.js';
import { ensureTables, startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { bootstrapAccount } from '../../shared/domain/accounts.js';
import { type Caller, createApiKey } from '../../shared/domain/api-keys.js';
import { verifyApiKey } from '../../shared/domain/verify-key.js';
import { authorize } from '../../shared/gateway/authorize.js';
import { ROUTES, type RouteId } from '../../shared/routes.js';
import { defaultDeps } from '../../shared/runtime/deps.js';
import { policyRoutes } from '../../shared/runtime/storage.js';
import { unwrap } from './authorizer.js';
import { bundleEntries, lambdaEnvironment, turnOrder } from './cold-start.js';
import {
  type AuthorizationCost,
  accessLogLine,
  authorizationCost,
  bestMemory,
  dollars,
  durationCost,
  type FunctionProfile,
  type MemoryRow,
  memoryTable,
  PRICES,
  robustMemory,
  scaleCpu,
} from './cost-model.js';
import { median } from './stats.js';

const run = promisify(execFile);
const MARK = 'KEYGATE_MEMORY ';
const SOURCE_IP = '203.0.113.7';
const STAGE_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod';

/** The functions measured: the authorizer and three route handlers of different kinds. */
export const MEASURED = {
  authorizer: AUTHORIZER_HANDLER,
  /** No I/O: the caller's scopes from the authorizer's context. */
  listScopes: ROUTES.listScopes.handler,
  /** One `Query` on `byAccount`. */
  listApiKeys: ROUTES.listApiKeys.handler,
  /** Parse and validate a small message in sandbox mode: no I/O. */
  sendMail: ROUTES.sendMail.handler,
} as const;
export type Measured = keyof typeof MEASURED;

/** One process's figures (or, in the result, the medians over processes). */
export interface InvocationFigures {
  importMs: number;
  importCpuMs: number;
  firstMs: number;
  firstCpuMs: number;
  /** Median wall time of a warm invocation, ms. */
  warmMs: number;
  /** CPU per warm invocation (user and system), ms. */
  warmCpuMs: number;
  /** The user part of warmCpuMs. */
  warmUserMs: number;
  /** Bytes written to stdout per warm invocation (log lines). */
  logBytes: number;
  rssMb: number;
  /** The authorizer only: warm invocations that also record the key's last use. */
  touchMs?: number;
  touchCpuMs?: number;
}

/** What the child process is given: its events, in the order it uses them. */
interface DriverPlan {
  file: string;
  /** The first invocation's event. */
  first: unknown;
  /** Warm invocations' event (the same each time). */
  warm: unknown;
  warmup: number;
  iterations: number;
  /** The authorizer: one event per key not used for a minute (first `touchWarmup` untimed). */
  touch: unknown[];
  touchWarmup: number;
}

/**
 * The child's whole program: it reads its {@link DriverPlan} from `KEYGATE_MEMORY_PLAN`, counts
 * and swallows what the handler writes to stdout, and prints one line of figures.
 */
export const DRIVER_SOURCE = `
const plan = JSON.parse(process.env.KEYGATE_MEMORY_PLAN);
const write = process.stdout.write.bind(process.stdout);
let bytes = 0;
process.stdout.write = (chunk, encoding, callback) => {
  bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : undefined);
  if (typeof encoding === 'function') encoding(); else if (callback) callback();
  return true;
};
let n = 0;
const context = () => ({ functionName: 'keygate-memory', awsRequestId: 'req-' + ++n,
  getRemainingTimeInMillis: () => 10000 });
const ms = (cpu) => (cpu.user + cpu.system) / 1000;
// Each invocation gets an event of its own (middlewares may change it), copied before the clock.
const copies = (event, count) => Array.from({ length: count }, () => structuredClone(event));
const invoke = async (handler, event) => { await handler(event, context()); };
const [firstEvent] = copies(plan.first, 1);
const warmupEvents = copies(plan.warm, plan.warmup);
const warmEvents = copies(plan.warm, plan.iterations);
let cpu = process.cpuUsage();
let start = performance.now();
const { handler } = await import(plan.file);
const importMs = performance.now() - start;
const importCpuMs = ms(process.cpuUsage(cpu));
cpu = process.cpuUsage();
start = performance.now();
await invoke(handler, firstEvent);
const firstMs = performance.now() - start;
const firstCpuMs = ms(process.cpuUsage(cpu));
for (const event of warmupEvents) await invoke(handler, event);
const walls = [];
bytes = 0;
cpu = process.cpuUsage();
for (const event of warmEvents) {
  const s = performance.now();
  await invoke(handler, event);
  walls.push(performance.now() - s);
}
const warmCpu = process.cpuUsage(cpu);
const warmCpuMs = ms(warmCpu) / plan.iterations;
const warmUserMs = warmCpu.user / 1000 / plan.iterations;
const logBytes = bytes / plan.iterations;
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const figures = { importMs, importCpuMs, firstMs, firstCpuMs, warmMs: med(walls), warmCpuMs, warmUserMs,
  logBytes, rssMb: process.memoryUsage().rss / 2 ** 20 };
if (plan.touch.length > 0) {
  for (const event of plan.touch.slice(0, plan.touchWarmup)) await invoke(handler, event);
  const timed = plan.touch.slice(plan.touchWarmup);
  const touchWalls = [];
  cpu = process.cpuUsage();
  for (const event of timed) {
    const s = performance.now();
    await invoke(handler, event);
    touchWalls.push(performance.now() - s);
  }
  figures.touchMs = med(touchWalls);
  figures.touchCpuMs = ms(process.cpuUsage(cpu)) / timed.length;
}
write('\\n${MARK}' + JSON.stringify(figures) + '\\n', () => process.exit(0));
`;

/** The REQUEST authorizer event API Gateway sends for `route`, with `key`. */
export function authorizerEvent(routeId: RouteId, key: string): APIGatewayRequestAuthorizerEvent {
  const route = ROUTES[routeId];
  return {
    type: 'REQUEST',
    methodArn: `${STAGE_ARN}/${route.method}${route.path}`,
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers: { Authorization: `Bearer ${key}` },
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      httpMethod: route.method,
      resourcePath: route.path,
      identity: { sourceIp: SOURCE_IP },
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** The proxy event a route's function gets after the authorizer allowed `context`. */
export function proxyEvent(
  routeId: RouteId,
  context: Record<string, string>,
  body?: unknown,
): APIGatewayProxyEvent {
  const route = ROUTES[routeId];
  return {
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'bench',
      resourcePath: route.path,
      httpMethod: route.method,
      identity: { sourceIp: SOURCE_IP },
      authorizer: { principalId: context.keyId, ...context },
    },
  } as unknown as APIGatewayProxyEvent;
}

/** A small message, as a SendGrid client sends it, in sandbox mode (validated, not sent). */
const SANDBOX_MAIL = {
  personalizations: [{ to: [{ email: 'customer@example.com' }], subject: 'Your receipt' }],
  from: { email: 'billing@example.com', name: 'Example' },
  content: [{ type: 'text/plain', value: 'Thanks for your order. Your receipt is attached.' }],
  mail_settings: { sandbox_mode: { enable: true } },
};

async function runDriver(plan: DriverPlan, env: NodeJS.ProcessEnv): Promise<InvocationFigures> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', DRIVER_SOURCE], {
    env: { ...env, KEYGATE_MEMORY_PLAN: JSON.stringify(plan) },
    cwd: tmpdir(),
    timeout: 120_000,
    maxBuffer: 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`No figures from ${plan.file}: ${stdout.slice(0, 500)}`);
  return JSON.parse(line.slice(MARK.length)) as InvocationFigures;
}

function medians(runs: readonly InvocationFigures[]): InvocationFigures {
  const keys = Object.keys(runs[0] ?? {}) as (keyof InvocationFigures)[];
  return Object.fromEntries(
    keys.map((k) => [k, median(runs.map((r) => r[k] as number))]),
  ) as unknown as InvocationFigures;
}

export interface MemoryFigures {
  date: string;
  node: string;
  cpu: string;
  /** The machine's 1-minute load average when the measurement started and ended. */
  loadAverage: [number, number];
  repeats: number;
  functions: Record<Measured, InvocationFigures>;
}

/**
 * Starts DynamoDB Local, makes an account with keys to verify, bundles the functions and
 * measures each `repeats` times in fresh processes, the functions taking turns.
 */
export async function measureFunctions(
  options: { repeats?: number; iterations?: number; touches?: number; sourceMaps?: boolean } = {},
): Promise<MemoryFigures> {
  const repeats = options.repeats ?? 5;
  const iterations = options.iterations ?? 300;
  const touches = options.touches ?? 40;
  const loadAtStart = loadavg()[0] ?? 0;
  const outdir = mkdtempSync(join(tmpdir(), 'keygate-memory-'));
  const outbox = mkdtempSync(join(tmpdir(), 'keygate-memory-outbox-'));
  const dynamo = await startDynamoDbLocal();
  try {
    const tables = await ensureTables(dynamo.endpoint, `memory${Date.now()}`);
    const storageEnv = {
      KEYGATE_DYNAMODB_ENDPOINT: dynamo.endpoint,
      KEYGATE_KEYS_TABLE: tables.keys,
      KEYGATE_ACCOUNTS_TABLE: tables.accounts,
      KEYGATE_AUDIT_TABLE: tables.audit,
      KEYGATE_KEY_PREFIX: 'SG',
      KEYGATE_OUTBOX_DIR: outbox,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    Object.assign(process.env, storageEnv, { AWS_REGION: 'us-east-1' });
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const deps = defaultDeps();
    const owner = unwrap(await bootstrapAccount(deps, { name: 'memory', keyLimit: 10_000 }));
    const ownerCaller = await callerOf(owner.apiKey);
    // A sending key, as most callers hold: its scopes reach the routes measured.
    const newKey = async () =>
      unwrap(
        await createApiKey(deps, ownerCaller, {
          name: 'memory',
          scopes: ['mail.send', 'api_keys.read'],
        }),
      ).apiKey;
    const listingKey = await newKey();
    const authorized = await authorize(
      { repo: deps.repo, config: deps.config, now: () => new Date(), routes: policyRoutes() },
      {
        authorization: `Bearer ${listingKey}`,
        methodArn: `${STAGE_ARN}/GET/v3/api_keys`,
        sourceIp: SOURCE_IP,
        httpMethod: 'GET',
        resourcePath: '/v3/api_keys',
      },
    );
    if (authorized.effect !== 'allow') throw new Error('the measuring key is not allowed');
    const context = { ...authorized.context } as unknown as Record<string, string>;

    const names = Object.keys(MEASURED) as Measured[];
    const bundles = await bundleEntries(
      names.map((name) => ({ name, entry: entryFile(MEASURED[name]) })),
      outdir,
    );
    const env = {
      ...lambdaEnvironment(options.sourceMaps ?? true),
      ...storageEnv,
      // Lambda sets it on every invocation; Powertools copies its root into each log line.
      _X_AMZN_TRACE_ID:
        'Root=1-6751c0de-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0',
    };
    const runs = new Map<Measured, InvocationFigures[]>(names.map((n) => [n, []]));
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const name of turnOrder(names, repeat)) {
        const file = pathToFileURL(bundles.get(name) ?? '').href;
        const plan = await planFor(name, file, { iterations, touches, context, newKey });
        runs.get(name)?.push(await runDriver(plan, env));
      }
    }
    return {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadAverage: [loadAtStart, loadavg()[0] ?? 0],
      repeats,
      functions: Object.fromEntries(names.map((n) => [n, medians(runs.get(n) ?? [])])) as Record<
        Measured,
        InvocationFigures
      >,
    };
  } finally {
    await dynamo.stop();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(outbox, { recursive: true, force: true });
  }
}

async function callerOf(apiKey: string): Promise<Caller> {
  const verified = await verifyApiKey(defaultDeps(), apiKey);
  if (!verified.ok) throw new Error(`key does not verify: ${verified.reason}`);
  const { accountId, keyId, type, scopes } = verified.key;
  return { accountId, keyId, type, scopes };
}

async function planFor(
  name: Measured,
  file: string,
  o: {
    iterations: number;
    touches: number;
    context: Record<string, string>;
    newKey: () => Promise<string>;
  },
): Promise<DriverPlan> {
  const base = { file, warmup: 50, iterations: o.iterations, touch: [], touchWarmup: 0 };
  switch (name) {
    case 'authorizer': {
      // A fresh key for the first call (it records a use, as a new environment's first call
      // usually does), then warm calls with it (used this minute: no write), then fresh keys.
      const first = authorizerEvent('sendMail', await o.newKey());
      const touch = [];
      for (let i = 0; i < o.touches; i++) touch.push(authorizerEvent('sendMail', await o.newKey()));
      return { ...base, first, warm: first, touch, touchWarmup: 10 };
    }
    case 'listScopes': {
      const event = proxyEvent('listScopes', o.context);
      return { ...base, first: event, warm: event };
    }
    case 'listApiKeys': {
      const event = proxyEvent('listApiKeys', o.context);
      return { ...base, first: event, warm: event };
    }
    case 'sendMail': {
      const event = proxyEvent('sendMail', o.context, SANDBOX_MAIL);
      return { ...base, first: event, warm: event };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The tables of docs/cost.md, from the figures.

/** Assumptions of the model (docs/cost.md, "Assumptions"). */
export const ASSUMPTIONS = {
  /** One in-region, strongly consistent `GetItem` (or `UpdateItem`) from Lambda, ms. */
  dynamoRoundTripMs: 4,
  /** A new environment's first call also opens the TLS connection: one more round trip. */
  firstCallExtraRoundTrips: 1,
  /** Share of invocations that are cold starts (INIT, then a first call). */
  coldFraction: 0.01,
  /** Share of authorizer invocations that record the key's last use (upper bound: all). */
  writesPerMiss: 1,
  /** Write request units per last-used write: the key item and its `byAccount` copy. */
  writeUnitsPerWrite: 2,
  /** CloudWatch Logs counts 26 bytes of metadata per log event (PutLogEvents' batch size). */
  logEventOverheadBytes: 26,
} as const;

export const MEMORY_CANDIDATES = [128, 256, 384, 512, 768, 1024, 1280, 1536, 1769, 2048];

/** A function's profile for the model: CPU from the figures, DynamoDB waits from ASSUMPTIONS. */
export function profileOf(
  figures: InvocationFigures,
  roundTrips: { warm: number; first: number },
  rt: number = ASSUMPTIONS.dynamoRoundTripMs,
): FunctionProfile {
  return {
    warm: { cpuMs: figures.warmCpuMs, ioMs: roundTrips.warm * rt },
    initCpuMs: figures.importCpuMs,
    first: {
      cpuMs: figures.firstCpuMs,
      ioMs:
        roundTrips.first > 0 ? (roundTrips.first + ASSUMPTIONS.firstCallExtraRoundTrips) * rt : 0,
    },
    rssMb: figures.rssMb,
  };
}

/** The authorizer's warm work when every miss also records the last use (the model's case). */
export function authorizerProfile(
  figures: InvocationFigures,
  rt: number = ASSUMPTIONS.dynamoRoundTripMs,
): FunctionProfile {
  const cpu = figures.touchCpuMs ?? figures.warmCpuMs;
  const w = ASSUMPTIONS.writesPerMiss;
  return profileOf(
    { ...figures, warmCpuMs: (1 - w) * figures.warmCpuMs + w * cpu },
    { warm: 1 + w, first: 2 },
    rt,
  );
}

const ROUND_TRIPS: Record<Exclude<Measured, 'authorizer'>, { warm: number; first: number }> = {
  listScopes: { warm: 0, first: 0 },
  listApiKeys: { warm: 1, first: 1 },
  sendMail: { warm: 0, first: 0 },
};

export function profiles(
  figures: MemoryFigures,
  rt: number = ASSUMPTIONS.dynamoRoundTripMs,
): Record<Measured, FunctionProfile> {
  const f = figures.functions;
  return {
    authorizer: authorizerProfile(f.authorizer, rt),
    listScopes: profileOf(f.listScopes, ROUND_TRIPS.listScopes, rt),
    listApiKeys: profileOf(f.listApiKeys, ROUND_TRIPS.listApiKeys, rt),
    sendMail: profileOf(f.sendMail, ROUND_TRIPS.sendMail, rt),
  };
}

/** A typical access log line of a request that reached its route (keyed, allowed). */
export function typicalAccessLogBytes(miss: boolean): number {
  const line = accessLogLine(ACCESS_LOG_FIELDS, {
    requestId: '8d3b6f0e-5a4c-4f3e-9d2b-1c7e8a9b0f12',
    extendedRequestId: 'Fq3kZGb1IAMEbXw=',
    requestTimeEpoch: '1796300000123',
    'identity.sourceIp': SOURCE_IP,
    httpMethod: 'POST',
    resourcePath: '/v3/mail/send',
    status: '202',
    protocol: 'HTTP/1.1',
    responseLength: '0',
    responseLatency: '58',
    integrationLatency: '41',
    'authorizer.keyId': 'q0v3ZrLJm1d5K6bJ2oQG8w',
    'authorizer.accountId': 'mH2xQ8fT1kZr4nVb7sLw0A',
    ...(miss ? { 'authorizer.status': '200', 'authorizer.latency': '9' } : {}),
  });
  return Buffer.byteLength(line) + ASSUMPTIONS.logEventOverheadBytes;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function memoryMarkdown(profile: FunctionProfile, rows: readonly MemoryRow[]): string {
  const best = bestMemory(rows);
  return [
    row([
      'memory',
      'warm',
      'cold (INIT + first call)',
      'expected',
      'per million invocations',
      'cost × latency',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:']),
    ...rows.map((r) =>
      row([
        `${r.memoryMb} MB${r.memoryMb === best.memoryMb ? ' **←**' : ''}${r.fits ? '' : ' (under 1.5× RSS)'}`,
        `${r.warmMs.toFixed(1)} ms`,
        `${r.coldMs.toFixed(0)} ms`,
        `${r.expectedMs.toFixed(2)} ms`,
        dollars(r.costPerMillion),
        r.score.toFixed(3),
      ]),
    ),
    '',
    `RSS measured: ${profile.rssMb.toFixed(0)} MB.`,
  ].join('\n');
}

export interface CostRow {
  label: string;
  hitRate: number;
  cost: AuthorizationCost;
}

/** docs/cost.md's main table: per million authorized requests, at three cache hit rates. */
export function costRows(
  authorizer: FunctionProfile,
  memoryMb: number,
  authorizerLogBytes: number,
): CostRow[] {
  const [chosen] = memoryTable(authorizer, [memoryMb], { coldFraction: ASSUMPTIONS.coldFraction });
  if (!chosen) throw new Error('no row');
  const c = ASSUMPTIONS.coldFraction;
  const perInvocation =
    (1 - c) * durationCost(memoryMb, chosen.warmMs) + c * durationCost(memoryMb, chosen.coldMs);
  return [0, 0.9, 0.99].map((hitRate) => ({
    label: `${Math.round(hitRate * 100)} %`,
    hitRate,
    cost: authorizationCost({
      requests: 1e6,
      hitRate,
      gatewayPerMillion: PRICES.restApiPerMillion,
      lambdaAuthorizer: true,
      durationCostPerInvocation: perInvocation,
      readUnitsPerMiss: 1,
      writesPerMiss: ASSUMPTIONS.writesPerMiss,
      writeUnitsPerWrite: ASSUMPTIONS.writeUnitsPerWrite,
      // A miss's access log line names the authorizer's status and latency; a hit's does not.
      accessLogBytes:
        hitRate * typicalAccessLogBytes(false) + (1 - hitRate) * typicalAccessLogBytes(true),
      authorizerLogBytes,
    }),
  }));
}

export function costMarkdown(rows: readonly CostRow[]): string {
  const lines = [
    row([
      'cache hit rate',
      'API Gateway REST',
      'authorizer requests',
      'authorizer GB-s',
      'DynamoDB reads',
      'last-used writes',
      'logs',
      '**total**',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const r of rows) {
    const c = r.cost;
    lines.push(
      row([
        r.label,
        dollars(c.gateway),
        dollars(c.lambdaRequests),
        dollars(c.lambdaDuration),
        dollars(c.dynamoReads),
        dollars(c.lastUsedWrites),
        dollars(c.logs),
        `**${dollars(c.total)}**`,
      ]),
    );
  }
  return lines.join('\n');
}

/** The alternatives of docs/cost.md, at the same three hit rates. */
export function comparisonMarkdown(rows: readonly CostRow[]): string {
  const lines = [
    row([
      'cache hit rate',
      'Keygate (REST API)',
      'HTTP API + the same Lambda authorizer',
      'REST API keys + usage plans',
    ]),
    row(['---', '---:', '---:', '---:']),
  ];
  for (const r of rows) {
    const http = r.cost.total - r.cost.gateway + PRICES.httpApiPerMillion;
    // API keys: the gateway's price and an access log line per request (a hit's), nothing else.
    const keys =
      PRICES.restApiPerMillion +
      ((1e6 * typicalAccessLogBytes(false)) / 1024 ** 3) * PRICES.logIngestionPerGb;
    lines.push(row([r.label, dollars(r.cost.total), dollars(http), dollars(keys)]));
  }
  return lines.join('\n');
}

/**
 * The scenarios the memory choice must hold under (docs/cost.md): the CPU times as measured on
 * this (slow) machine or on a CPU three times as fast, a DynamoDB round trip of 4 or 8 ms, and
 * INIT slowed by a small memory size like an invocation, or not.
 */
export const SCENARIOS = [
  { label: 'CPU as measured, DynamoDB 4 ms', cpuFactor: 1, roundTripMs: 4, initAtFullSpeed: false },
  {
    label: 'CPU 3× faster, DynamoDB 4 ms',
    cpuFactor: 1 / 3,
    roundTripMs: 4,
    initAtFullSpeed: false,
  },
  {
    label: 'CPU 3× faster, DynamoDB 8 ms',
    cpuFactor: 1 / 3,
    roundTripMs: 8,
    initAtFullSpeed: false,
  },
  {
    label: 'CPU 3× faster, DynamoDB 4 ms, INIT not throttled',
    cpuFactor: 1 / 3,
    roundTripMs: 4,
    initAtFullSpeed: true,
  },
] as const;

/** Each function's memory table per scenario, and the memory chosen across them. */
export function memoryChoices(figures: MemoryFigures) {
  const byScenario = SCENARIOS.map((s) => profiles(figures, s.roundTripMs));
  return (Object.keys(MEASURED) as Measured[]).map((name) => {
    const scenarioProfiles = SCENARIOS.map((s, i) =>
      scaleCpu((byScenario[i] as Record<Measured, FunctionProfile>)[name], s.cpuFactor),
    );
    const tables = scenarioProfiles.map((profile, i) =>
      memoryTable(profile, MEMORY_CANDIDATES, {
        coldFraction: ASSUMPTIONS.coldFraction,
        initAtFullSpeed: SCENARIOS[i]?.initAtFullSpeed ?? false,
      }),
    );
    return {
      name,
      profiles: scenarioProfiles,
      tables,
      best: tables.map((t) => bestMemory(t).memoryMb),
      chosen: robustMemory(tables),
    };
  });
}

/**
 * A function's candidates in docs/cost.md's form: the estimated warm and cold durations and the
 * price per million invocations in the first two scenarios, and each size's worst cost × latency
 * relative to the best size of each scenario.
 */
export function candidatesMarkdown(choice: ReturnType<typeof memoryChoices>[number]): string {
  const [a, b] = choice.tables;
  if (!a || !b) throw new Error('two scenarios at least');
  const best = choice.tables.map((t) => bestMemory(t).score);
  const lines = [
    row([
      'memory',
      'warm (CPU as measured)',
      'cold: INIT + first call',
      'per million',
      'warm (CPU 3× faster)',
      'per million',
      'worst cost × latency vs best',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const [i, r] of a.entries()) {
    const r2 = b[i] as MemoryRow;
    const worst = Math.max(
      ...choice.tables.map((t, k) => (t[i] as MemoryRow).score / (best[k] ?? 1)),
    );
    const mark = r.memoryMb === choice.chosen.memoryMb ? ' **←**' : '';
    lines.push(
      row([
        `${r.memoryMb} MB${mark}`,
        `${r.warmMs.toFixed(1)} ms`,
        `${r.coldMs.toFixed(0)} ms`,
        dollars(r.costPerMillion),
        `${r2.warmMs.toFixed(1)} ms`,
        dollars(r2.costPerMillion),
        `${worst.toFixed(2)}×`,
      ]),
    );
  }
  return lines.join('\n');
}

/** One memory size for every route function: the robust choice over all their scenarios. */
export function routeHandlersMemory(choices: ReturnType<typeof memoryChoices>) {
  return robustMemory(choices.filter((c) => c.name !== 'authorizer').flatMap((c) => c.tables));
}

/** One line per function: what was measured, each scenario's best memory, the choice. */
export function choicesMarkdown(
  figures: MemoryFigures,
  choices: ReturnType<typeof memoryChoices>,
): string {
  const lines = [
    row([
      'function',
      'INIT CPU',
      'first call CPU',
      'warm CPU',
      'RSS',
      ...SCENARIOS.map((s) => `best: ${s.label}`),
      'chosen',
    ]),
    row(['---', '---:', '---:', '---:', '---:', ...SCENARIOS.map(() => '---:'), '---:']),
  ];
  for (const c of choices) {
    const f = figures.functions[c.name];
    const warm =
      f.touchCpuMs === undefined
        ? `${f.warmCpuMs.toFixed(2)} ms`
        : `${f.warmCpuMs.toFixed(2)} ms (${f.touchCpuMs.toFixed(2)} ms with the last-used write)`;
    lines.push(
      row([
        `${c.name} (\`${MEASURED[c.name]}\`)`,
        `${f.importCpuMs.toFixed(0)} ms`,
        `${f.firstCpuMs.toFixed(0)} ms`,
        warm,
        `${f.rssMb.toFixed(0)} MB`,
        ...c.best.map((m) => `${m} MB`),
        `**${c.chosen.memoryMb} MB** (≤ ${((c.chosen.worstRatio - 1) * 100).toFixed(1)} % off)`,
      ]),
    );
  }
  return lines.join('\n');
}

/** Where a measurement's figures are kept, beside the bench's results. */
export const FIGURES_FILE = join(REPO_ROOT, 'bench', 'memory.json');

// `npx tsx scripts/bench/memory.ts [repeats]`: measures, writes bench/memory.json, prints the
// tables (`BENCH_SOURCE_MAPS=false`: without source maps). `--from <file>`: the tables only,
// from figures measured before.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const from = process.argv.indexOf('--from');
  let figures: MemoryFigures;
  if (from > 0) {
    figures = JSON.parse(readFileSync(process.argv[from + 1] ?? FIGURES_FILE, 'utf8'));
  } else {
    const repeats = process.argv[2] ? Number(process.argv[2]) : undefined;
    const sourceMaps = process.env.BENCH_SOURCE_MAPS !== 'false';
    figures = await measureFunctions({ sourceMaps, ...(repeats ? { repeats } : {}) });
    writeFileSync(FIGURES_FILE, `${JSON.stringify(figures, null, 1)}\n`);
  }
  console.log(JSON.stringify(figures, null, 1));
  const choices = memoryChoices(figures);
  for (const c of choices) {
    for (const [i, s] of SCENARIOS.entries()) {
      console.log(`\n### ${c.name} (${MEASURED[c.name]}): ${s.label}\n`);
      console.log(memoryMarkdown(c.profiles[i] as FunctionProfile, c.tables[i] ?? []));
    }
  }
  for (const c of choices) {
    console.log(`\n### ${c.name}: candidates\n`);
    console.log(candidatesMarkdown(c));
  }
  console.log('\n### Memory choices\n');
  console.log(choicesMarkdown(figures, choices));
  const handlers = routeHandlersMemory(choices);
  console.log(
    `\nRoute handlers, one size for all: ${handlers.memoryMb} MB (at worst ${((handlers.worstRatio - 1) * 100).toFixed(1)} % above a function's best in a scenario).`,
  );
  const authorizerLogBytes =
    figures.functions.authorizer.logBytes + ASSUMPTIONS.logEventOverheadBytes;
  console.log(
    `\nAccess log line: ${typicalAccessLogBytes(true)} bytes on a miss, ${typicalAccessLogBytes(false)} on a hit; authorizer: ${authorizerLogBytes} bytes per invocation.`,
  );
  const authorizer = profiles(figures).authorizer;
  const chosen = choices.find((c) => c.name === 'authorizer')?.chosen.memoryMb;
  for (const memory of new Set([AUTHORIZER_MEMORY_MB, chosen ?? AUTHORIZER_MEMORY_MB])) {
    const rows = costRows(authorizer, memory, authorizerLogBytes);
    console.log(`\n### Per million authorized requests, authorizer at ${memory} MB\n`);
    console.log(costMarkdown(rows));
    console.log('');
    console.log(comparisonMarkdown(rows));
  }
}
