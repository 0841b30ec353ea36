/**
 * `npm run bench`: how close Keygate is to the floor it cannot beat. One run measures, so every
 * ratio compares figures taken minutes apart at most, on the same machine:
 * 1. the authorizer's hot path in-process, µs per verification, against a bare `GetItem` and a
 *    bare SHA-256 ({@link measureAuthorizer});
 * 2. cold start: each Lambda bundle's size and fresh-process import time, against a bundle of
 *    `@aws-sdk/client-dynamodb` alone ({@link measureColdStart});
 * 3. HTTP through `npm start`'s server with autocannon ({@link measureHttp});
 * 4. DynamoDB cost per API operation from `ReturnConsumedCapacity` ({@link measureOperationCosts});
 * 5. a team's routes: the deployment spec and the authorizer's answer at 50 routes, and a wrapped
 *    handler's cold import against the same handler unwrapped ({@link measureTeamRoutes}).
 * Every timing is a median over repeated runs. Prints a table and the targets, writes
 * `bench/results.json` and the chart `docs/bench-http.svg` (5).
 *
 * Environment: `BENCH_HTTP_SECONDS` (default 10) and `BENCH_HTTP_REPEATS` (default 3) per HTTP
 * scenario; `BENCH_REPEATS` (default 5) for the in-process loops; `BENCH_COLD_REPEATS`
 * (default 7) for cold imports.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTables, startDynamoDbLocal } from '../local/dynamodb-local.js';
import { bootstrapAccount } from '../shared/domain/accounts.js';
import { nodeVersionProblem } from '../shared/node-version.js';
import { defaultDeps } from '../shared/runtime/deps.js';
import { dynamoDocumentClient } from '../shared/runtime/storage.js';
import { physicalTableName, USAGE_TABLE } from '../shared/tables.js';
import { measureAuthorizer, unwrap } from './bench/authorizer.js';
import { httpChartSvg } from './bench/chart.js';
import { BASELINE, measureColdStart } from './bench/cold-start.js';
import { PRICES } from './bench/cost-model.js';
import { measureOperationCosts, type OperationCost } from './bench/dynamodb-cost.js';
import { measureHttp } from './bench/http.js';
import { measureTeamRoutes } from './bench/team-routes.js';

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const REPEATS = positiveInteger('BENCH_REPEATS', 5);
const COLD_REPEATS = positiveInteger('BENCH_COLD_REPEATS', 7);
const HTTP_SECONDS = positiveInteger('BENCH_HTTP_SECONDS', 10);
const HTTP_REPEATS = positiveInteger('BENCH_HTTP_REPEATS', 3);
const CPU_ITERATIONS = 20_000;
const IO_ITERATIONS = 400;

type Row = [label: string, value: string];

interface Target {
  target: string;
  measured: string;
  met: boolean;
}

const us = (n: number, digits = 2) => `${n.toFixed(digits)} µs`;
const times = (n: number) => `${n.toFixed(2)}×`;

function describeCost(cost: OperationCost): string {
  if (cost.calls.length === 0) return 'no DynamoDB call';
  const calls = cost.calls
    .map(
      (c) =>
        `${c.command}${c.consistentRead ? ' (consistent)' : ''}${c.failed ? ` (${c.failed}: charged, not reported)` : ''}`,
    )
    .join(' + ');
  // A refused conditional write is charged (at least 1 WCU) though not reported with the error.
  const failedWrites = cost.calls.filter((c) => c.failed && c.command !== 'GetItem').length;
  const dollars =
    cost.readUnits * PRICES.readRequestUnitsPerMillion +
    (cost.writeUnits + failedWrites) * PRICES.writeRequestUnitsPerMillion;
  return `${calls}: ${cost.readUnits} RCU, ${cost.writeUnits} WCU, $${dollars.toFixed(3)} per million`;
}

/** The authorizer (1) and the DynamoDB costs (4), on one DynamoDB Local. */
async function inProcess() {
  const outbox = mkdtempSync(join(tmpdir(), 'keygate-bench-outbox-'));
  const dynamo = await startDynamoDbLocal();
  try {
    const prefix = `bench${Date.now()}`;
    const tables = await ensureTables(dynamo.endpoint, prefix);
    Object.assign(process.env, {
      KEYGATE_DYNAMODB_ENDPOINT: dynamo.endpoint,
      KEYGATE_KEYS_TABLE: tables.keys,
      KEYGATE_ACCOUNTS_TABLE: tables.accounts,
      KEYGATE_AUDIT_TABLE: tables.audit,
      KEYGATE_KEY_PREFIX: 'SG',
      KEYGATE_OUTBOX_DIR: outbox,
    });
    process.env.AWS_REGION ??= 'local';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    const owner = unwrap(await bootstrapAccount(defaultDeps(), { name: 'bench' }));
    const authorizer = await measureAuthorizer({
      ownerKey: owner.apiKey,
      cpuIterations: CPU_ITERATIONS,
      ioIterations: IO_ITERATIONS,
      repeats: REPEATS,
    });
    const costs = await measureOperationCosts(
      dynamoDocumentClient(),
      owner.apiKey,
      physicalTableName(prefix, USAGE_TABLE),
    );
    return { authorizer, costs };
  } finally {
    await dynamo.stop();
    rmSync(outbox, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  // Cold starts and CPU figures stand for Lambda's only when measured on Lambda's Node major.
  const nodeProblem = nodeVersionProblem('npm run bench', process.versions.node);
  if (nodeProblem) throw new Error(nodeProblem);
  const { authorizer, costs } = await inProcess();
  const cold = await measureColdStart({ repeats: COLD_REPEATS });
  const http = await measureHttp({ seconds: HTTP_SECONDS, repeats: HTTP_REPEATS });
  const team = await measureTeamRoutes({ routes: 50, repeats: COLD_REPEATS });

  const rows: Row[] = [
    ['1. authorizer, in-process (µs per verification)', ''],
    ['malformed key (no I/O)', us(authorizer.malformedUs)],
    ['valid key, in-memory repository (pure CPU)', us(authorizer.validMemoryUs)],
    ['valid key, DynamoDB Local', us(authorizer.validDynamoDbLocalUs, 0)],
    ['floor: bare consistent GetItem, same item', us(authorizer.bareGetItemUs, 0)],
    [`floor: bare SHA-256 of a ${authorizer.keyLength}-char key`, us(authorizer.bareSha256Us)],
    ['2. cold start (minified bundle, fresh-process import, median)', ''],
    ...cold.rows.map(
      (r): Row => [
        r.name === BASELINE ? 'baseline: @aws-sdk/client-dynamodb only' : r.name,
        `${(r.bytes / 1024).toFixed(0)} KB (${(r.gzipBytes / 1024).toFixed(0)} KB gz), ${r.importMs.toFixed(1)} ms, ${times(r.ratio)}`,
      ],
    ),
    [
      `3. HTTP via npm start (autocannon, ${http.connections} connections, ${http.seconds} s × ${http.repeats})`,
      '',
    ],
    ...http.scenarios.map(
      (s): Row => [
        s.label,
        `${s.requestsPerSecond.toFixed(0)} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, server CPU ${s.serverCpuUs.toFixed(0)} µs/req${s.failures ? `, ${s.failures} FAILED` : ''}`,
      ],
    ),
    ['4. DynamoDB cost per operation (ReturnConsumedCapacity)', ''],
    ...Object.entries(costs).map(([label, cost]): Row => [label, describeCost(cost)]),
    [`5. a team's routes (${team.routes} routes over 10 areas)`, ''],
    ['deployment spec in every bundle', `${team.specBytes} bytes`],
    ["one key's policy for one route", `${team.policyBytes} bytes`],
    ['authorizer result, every team scope', `${team.resultBytes} bytes`],
    [
      'trivial handler, unwrapped',
      `${team.bundleBytes.unwrapped} bytes, ${team.importMs.unwrapped.toFixed(1)} ms`,
    ],
    [
      "the same, in Keygate's wrapper",
      `${team.bundleBytes.wrapped} bytes, ${team.importMs.wrapped.toFixed(1)} ms, ${times(team.importMs.wrapped / team.importMs.unwrapped)}`,
    ],
  ];

  const coldAuthorizer = cold.rows.find((r) => r.name === 'authorizer/handler');
  const miss = costs['verify (cache miss)'];
  const hit = costs['verify (cache hit)'];
  const create = costs.create;
  const list = costs.list;
  const warmRatio = http.scopesWarmOverHealth;
  const targets: Target[] = [
    {
      target: 'authorizer on DynamoDB Local ≤ 1.2× bare GetItem',
      measured: times(authorizer.dynamoOverGetItem),
      met: authorizer.dynamoOverGetItem <= 1.2,
    },
    {
      target: 'pure CPU per verification ≤ 20 µs',
      measured: us(authorizer.validMemoryUs),
      met: authorizer.validMemoryUs <= 20,
    },
    {
      target: 'malformed key ≤ 2 µs',
      measured: us(authorizer.malformedUs),
      met: authorizer.malformedUs <= 2,
    },
    {
      target: 'authorizer cold import ≤ 1.25× client-dynamodb baseline',
      measured: coldAuthorizer ? times(coldAuthorizer.ratio) : 'missing',
      met: (coldAuthorizer?.ratio ?? Number.POSITIVE_INFINITY) <= 1.25,
    },
    {
      target: 'verify on a cache miss: one consistent read, ≤ 1 RCU, no write',
      measured: miss ? describeCost(miss) : 'missing',
      met:
        miss?.calls.length === 1 &&
        miss.calls[0]?.command === 'GetItem' &&
        miss.calls[0].consistentRead &&
        miss.readUnits <= 1 &&
        miss.writeUnits === 0,
    },
    {
      target: 'verify on a cache hit: no DynamoDB call',
      measured: hit ? describeCost(hit) : 'missing',
      met: hit?.calls.length === 0,
    },
    {
      target: 'create is one transaction (no other write)',
      measured: create ? describeCost(create) : 'missing',
      met:
        create?.calls.filter((c) => c.writeUnits > 0 || c.command !== 'GetItem').length === 1 &&
        create.calls.some((c) => c.command === 'TransactWriteItems'),
    },
    {
      target: 'list is one query, never a scan',
      measured: list ? describeCost(list) : 'missing',
      met: list?.calls.length === 1 && list.calls[0]?.command === 'Query',
    },
    {
      target: 'GET /v3/scopes (cache warm) within 1.3× of GET /health',
      measured: `${times(warmRatio.sender.medianOfRuns)} time per request (runs ${warmRatio.sender.runs.map(times).join(', ')}; of medians ${times(warmRatio.sender.ofMedians)}), ${times(warmRatio.senderServerCpu.ofMedians)} server CPU; owner key ${times(warmRatio.owner.medianOfRuns)}`,
      // Met only when both readings agree: the paired runs' median and the medians' ratio.
      met: Math.max(warmRatio.sender.medianOfRuns, warmRatio.sender.ofMedians) <= 1.3,
    },
  ];
  // A figure for requests that failed would flatter Keygate: the bench fails instead, and keeps
  // the last good results and chart.
  const failures = http.scenarios.reduce((sum, s) => sum + s.failures, http.warmupFailures);
  if (failures > 0)
    throw new Error(`${failures} HTTP requests failed or answered the wrong status`);

  const width = Math.max(
    ...rows.map(([label]) => label.length),
    ...targets.map((t) => t.target.length),
  );
  console.log(`Keygate bench (${process.version}, ${new Date().toISOString()})`);
  for (const [label, value] of rows) {
    console.log(value === '' ? `\n${label}` : `  ${label.padEnd(width)}  ${value}`);
  }
  console.log('\nTargets');
  for (const t of targets) {
    console.log(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.target.padEnd(width)}  ${t.measured}`);
  }

  const date = new Date().toISOString().slice(0, 10);
  mkdirSync('bench', { recursive: true });
  writeFileSync(
    join('bench', 'results.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        settings: {
          repeats: REPEATS,
          cpuIterations: CPU_ITERATIONS,
          ioIterations: IO_ITERATIONS,
          coldRepeats: COLD_REPEATS,
          httpSeconds: HTTP_SECONDS,
          httpRepeats: HTTP_REPEATS,
        },
        authorizer,
        coldStart: cold,
        http,
        dynamodbCost: costs,
        teamRoutes: team,
        targets,
        elapsedSeconds: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    )}\n`,
  );
  mkdirSync('docs', { recursive: true });
  writeFileSync(
    join('docs', 'bench-http.svg'),
    httpChartSvg(
      http.scenarios,
      `npm run bench, ${date}, Node ${process.version}: ${http.connections} connections, ${http.seconds} s per run, median of ${http.repeats} runs.`,
    ),
  );
  console.log(
    `\nwrote bench/results.json and docs/bench-http.svg in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
