/**
 * Cold start of every Lambda bundle (issue 9, part 2): each function the stack deploys is
 * bundled exactly as it deploys (`LAMBDA_BUNDLING`, infra/constructs/bundling.ts, through
 * esbuild's JS API), and for each bundle this measures
 * - its minified size: `index.mjs` alone, bytes and gzip bytes (the source map is beside it, not
 *   counted);
 * - how long a fresh Node process takes to `import()` it: `performance.now()` around the
 *   `await import()` inside the process, so Node's own start-up is not in the figure. The
 *   process gets the environment a deployed function has (see {@link lambdaEnvironment}),
 *   including `NODE_OPTIONS=--enable-source-maps`: the deployed functions run with it, and with
 *   it Node reads each bundle's source map as it loads the bundle, so it is part of their cold
 *   start (`sourceMaps: false` measures without).
 *
 * Against a baseline bundle, built with the same settings, whose whole source is
 * {@link BASELINE_SOURCE}: the DynamoDB client and one command, the least a function reading
 * DynamoDB with the v3 SDK loads. Every bundle is imported once per repeat, the bundles taking
 * turns (starting one further along each repeat), after one untimed round that warms the file
 * cache; the figure is the median over the repeats, and the ratio is each median over the
 * baseline's median from the same run. One process at a time, so the two cores do not compete.
 *
 * @example
 * const result = await measureColdStart({ repeats: 7 });
 * console.table(result.rows);
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  AUTHORIZER_HANDLER,
  deployedHandlers,
  entryFile,
  esbuildOptions,
  LAMBDA_NODE_OPTIONS,
  LAMBDA_RUNTIME,
  REPO_ROOT,
} from '../../infra/constructs/bundling.js';
import { median } from './stats.js';

const run = promisify(execFile);

export const DEFAULT_REPEATS = 7;

/** The name of the baseline among the rows. */
export const BASELINE = 'baseline';

/**
 * The baseline's entire source: `DynamoDBClient` and `GetItemCommand` re-exported, so bundling
 * keeps them (and everything they pull in: the client's middleware stack, the default credential
 * and region providers, the protocol serde) and tree-shakes the other commands away.
 */
export const BASELINE_SOURCE =
  "export { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';\n";

/** One bundle to measure: a deployed function (`authorizer/handler`) or the baseline. */
export interface ColdStartEntry {
  name: string;
  /** The source file, or undefined for the baseline (bundled from {@link BASELINE_SOURCE}). */
  entry: string | undefined;
}

export interface ColdStartRow {
  /** The function's entry under `functions/` without extension, or {@link BASELINE}. */
  name: string;
  /** Minified bundle (`index.mjs`), bytes; the source map is not counted. */
  bytes: number;
  /** The same, gzipped (default level). */
  gzipBytes: number;
  /** The bundle's source map, bytes (read at load time with `--enable-source-maps`). */
  mapBytes: number;
  /** Median over the repeats of the `import()` in a fresh process, milliseconds. */
  importMs: number;
  /** `importMs` over the baseline's `importMs` (same run). */
  ratio: number;
  /** Every repeat, in order, milliseconds. */
  runsMs: number[];
}

export interface ColdStartResult {
  repeats: number;
  /** Whether the processes ran with `--enable-source-maps` (as deployed). */
  sourceMaps: boolean;
  node: string;
  baselineSource: string;
  /** The authorizer first, then the baseline, then the route functions in route table order. */
  rows: ColdStartRow[];
  /** Wall time of the whole measurement, bundling included, milliseconds. */
  elapsedMs: number;
}

export interface ColdStartOptions {
  /** Timed imports per bundle. @default 7 */
  repeats?: number;
  /** Run with `NODE_OPTIONS=--enable-source-maps`, as deployed. @default true */
  sourceMaps?: boolean;
  /** Keep the bundles here (`<outdir>/<name>/index.mjs`) instead of a deleted temp directory. */
  outdir?: string;
}

/** Every bundle measured: the authorizer, the baseline, then each route function. */
export function coldStartEntries(): ColdStartEntry[] {
  const [authorizer = AUTHORIZER_HANDLER, ...routes] = deployedHandlers();
  return [
    { name: authorizer, entry: entryFile(authorizer) },
    { name: BASELINE, entry: undefined },
    ...routes.map((name) => ({ name, entry: entryFile(name) })),
  ];
}

/**
 * Bundles each entry into `<outdir>/<name>/index.mjs` with the deployed settings, in parallel.
 * Returns the bundle files by name.
 */
export async function bundleEntries(
  entries: readonly ColdStartEntry[],
  outdir: string,
): Promise<Map<string, string>> {
  const built = await Promise.all(
    entries.map(async ({ name, entry }) => {
      const options = esbuildOptions(entry ?? '', join(outdir, name));
      await build(
        entry
          ? options
          : {
              ...options,
              entryPoints: undefined,
              stdin: {
                contents: BASELINE_SOURCE,
                resolveDir: REPO_ROOT,
                sourcefile: 'cold-start-baseline.ts',
                loader: 'ts',
              },
            },
      );
      return [name, options.outfile] as const;
    }),
  );
  return new Map(built);
}

/**
 * The environment of a deployed function, as far as loading it can tell: its table names and key
 * prefix (shared/runtime/config.ts), the region, Lambda's own variables (JSON logs at INFO, as
 * the construct configures), and `NODE_OPTIONS` as `KeygateFunction` sets it
 * ({@link LAMBDA_NODE_OPTIONS}) unless `sourceMaps` is false.
 */
export function lambdaEnvironment(sourceMaps: boolean): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    KEYGATE_KEYS_TABLE: 'keygate-keys',
    KEYGATE_ACCOUNTS_TABLE: 'keygate-accounts',
    KEYGATE_AUDIT_TABLE: 'keygate-audit',
    KEYGATE_KEY_PREFIX: 'SG',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME.name}`,
    AWS_LAMBDA_FUNCTION_NAME: 'keygate-cold-start',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'INFO',
    ...(sourceMaps ? { NODE_OPTIONS: LAMBDA_NODE_OPTIONS } : {}),
  };
}

const MARK = 'COLD_START_MS ';

/** Milliseconds a fresh Node process spends in `await import(file)`. */
export async function importMilliseconds(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const script = [
    'const start = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    // Exit once written: a process's teardown is no part of its cold start, only of the wait.
    `process.stdout.write('\\n${MARK}' + (performance.now() - start) + '\\n', () => process.exit(0));`,
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env,
    cwd: tmpdir(),
    timeout: 30_000,
    maxBuffer: 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  const ms = Number(line?.slice(MARK.length));
  if (!line || !Number.isFinite(ms)) throw new Error(`No timing from ${file}: ${stdout}`);
  return ms;
}

/** The order bundles take turns in on repeat `repeat`: rotated one further each repeat. */
export function turnOrder<T>(items: readonly T[], repeat: number): T[] {
  if (items.length === 0) return [];
  const shift = repeat % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartResult> {
  const started = performance.now();
  const repeats = options.repeats ?? DEFAULT_REPEATS;
  if (!Number.isSafeInteger(repeats) || repeats < 1) throw new Error('repeats must be at least 1');
  const sourceMaps = options.sourceMaps ?? true;
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'keygate-cold-start-'));
  try {
    const entries = coldStartEntries();
    const files = await bundleEntries(entries, outdir);
    const names = entries.map((e) => e.name);
    const env = lambdaEnvironment(sourceMaps);
    const runs = new Map<string, number[]>(names.map((name) => [name, []]));
    // An untimed round first, two at a time: it puts every bundle (and node itself) in the file
    // cache. Then the timed rounds, one process at a time.
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(
        names.slice(i, i + 2).map((n) => importMilliseconds(fileOf(files, n), env)),
      );
    }
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const name of turnOrder(names, repeat)) {
        runs.get(name)?.push(await importMilliseconds(fileOf(files, name), env));
      }
    }
    const baselineMs = median(runs.get(BASELINE) ?? []);
    const rows = names.map((name): ColdStartRow => {
      const file = fileOf(files, name);
      const code = readFileSync(file);
      const runsMs = runs.get(name) ?? [];
      const importMs = median(runsMs);
      return {
        name,
        bytes: code.byteLength,
        gzipBytes: gzipSync(code).byteLength,
        mapBytes: statSync(`${file}.map`).size,
        importMs,
        ratio: importMs / baselineMs,
        runsMs,
      };
    });
    return {
      repeats,
      sourceMaps,
      node: process.version,
      baselineSource: BASELINE_SOURCE,
      rows,
      elapsedMs: performance.now() - started,
    };
  } finally {
    if (!options.outdir) rmSync(outdir, { recursive: true, force: true });
  }
}

function fileOf(files: ReadonlyMap<string, string>, name: string): string {
  const file = files.get(name);
  if (!file) throw new Error(`No bundle for ${name}`);
  return file;
}

/** The rows as a fixed-width text table. */
export function formatColdStart(result: ColdStartResult): string {
  const header = ['bundle', 'bytes', 'gzip', 'import ms', 'ratio'];
  const lines = result.rows.map((row) => [
    row.name,
    String(row.bytes),
    String(row.gzipBytes),
    row.importMs.toFixed(1),
    `${row.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const pad = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)));
  return [pad(header), ...lines.map(pad)].map((cells) => cells.join('  ')).join('\n');
}

// `node --import tsx scripts/bench/cold-start.ts [repeats]`: the table, then the JSON.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const repeats = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await measureColdStart(repeats ? { repeats } : {});
  console.log(formatColdStart(result));
  console.log(JSON.stringify(result, null, 1));
}
