import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EVENTS_HANDLER,
  AUTHORIZER_HANDLER,
  CACHE_FLUSHER_HANDLER,
  ESM_REQUIRE_BANNER,
  entryFile,
  esbuildOptions,
  KEY_WARNINGS_HANDLER,
  LAMBDA_BUNDLING,
  REPO_ROOT,
} from '../../infra/constructs/bundling.js';
import {
  BASELINE,
  BASELINE_SOURCE,
  coldStartEntries,
  formatColdStart,
  lambdaEnvironment,
  turnOrder,
} from '../../scripts/bench/cold-start.js';
import { median } from '../../scripts/bench/stats.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import { configFromEnv } from '../../shared/runtime/config.js';

/** Every `.ts` file under `functions/`, as `<dir>/<name>` without extension. */
function functionFiles(): string[] {
  const root = join(REPO_ROOT, 'functions');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.ts'))
    .map((f) => relative(root, join(f.parentPath, f.name)).replace(/\.ts$/, ''));
}

describe('cold-start entries', () => {
  const entries = coldStartEntries();

  it('start with the authorizer, then the baseline, then one per route in route table order, then the trailing flusher, the lifecycle-events publisher and the key-warnings scan', () => {
    expect(entries[0]).toEqual({ name: AUTHORIZER_HANDLER, entry: entryFile(AUTHORIZER_HANDLER) });
    expect(entries[1]).toEqual({ name: BASELINE, entry: undefined });
    expect(entries.slice(2).map((e) => e.name)).toEqual([
      ...ROUTE_LIST.map((r) => r.handler),
      CACHE_FLUSHER_HANDLER,
      AUDIT_EVENTS_HANDLER,
      KEY_WARNINGS_HANDLER,
    ]);
  });

  it('are every function under functions/, each once (none missing, none left unmeasured)', () => {
    const names = entries.filter((e) => e.entry !== undefined).map((e) => e.name);

    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(functionFiles().sort());
    for (const e of entries) {
      if (e.entry) expect(e.entry).toBe(join(REPO_ROOT, 'functions', `${e.name}.ts`));
    }
  });

  it('have a baseline that imports the DynamoDB client and nothing else', () => {
    const imports = [...BASELINE_SOURCE.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);

    expect(imports).toEqual(['@aws-sdk/client-dynamodb']);
    expect(BASELINE_SOURCE).toMatch(/\bDynamoDBClient\b/);
  });
});

describe('esbuildOptions', () => {
  it('builds what NodejsFunction builds with the shared settings', () => {
    const options = esbuildOptions('/repo/functions/x.ts', '/out/x');

    expect(options).toEqual({
      absWorkingDir: REPO_ROOT,
      entryPoints: ['/repo/functions/x.ts'],
      outfile: '/out/x/index.mjs',
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      banner: { js: ESM_REQUIRE_BANNER },
      mainFields: ['module', 'main'],
      logLevel: 'warning',
    });
  });

  it('refuses a bundling option it does not translate, rather than measuring something else', () => {
    expect(() =>
      esbuildOptions('e.ts', 'out', { ...LAMBDA_BUNDLING, externalModules: ['zod'] }),
    ).toThrow(/bundling\.externalModules/);
    expect(() => esbuildOptions('e.ts', 'out', { ...LAMBDA_BUNDLING, keepNames: true })).toThrow(
      /bundling\.keepNames/,
    );
    expect(() =>
      esbuildOptions('e.ts', 'out', { ...LAMBDA_BUNDLING, bundleAwsSDK: false }),
    ).toThrow(/bundleAwsSDK/);
  });
});

describe('cold-start measurement helpers', () => {
  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('turnOrder: every bundle once per repeat, each in every position over as many repeats', () => {
    const items = ['a', 'b', 'c', 'd'];
    const orders = items.map((_, repeat) => turnOrder(items, repeat));

    for (const order of orders) expect([...order].sort()).toEqual(items);
    for (const [position] of items.entries()) {
      expect(new Set(orders.map((o) => o[position])).size).toBe(items.length);
    }
    expect(turnOrder(items, items.length)).toEqual(items);
    expect(turnOrder([], 3)).toEqual([]);
  });

  it('lambdaEnvironment: what the functions need to load, source maps as deployed', () => {
    const env = lambdaEnvironment(true);

    expect(() => configFromEnv(env)).not.toThrow();
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(lambdaEnvironment(false).NODE_OPTIONS).toBeUndefined();
    // Nothing of the calling process leaks in but PATH (no credentials, no endpoint override).
    expect(Object.keys(env).filter((k) => !/^(PATH|KEYGATE_|AWS_|NODE_OPTIONS$)/.test(k))).toEqual(
      [],
    );
    expect(Object.keys(env).filter((k) => /SECRET|TOKEN|ENDPOINT|ACCESS_KEY/.test(k))).toEqual([]);
  });

  it('formatColdStart: one line per row, ratios to two places', () => {
    const text = formatColdStart({
      repeats: 3,
      sourceMaps: true,
      node: 'v22.0.0',
      baselineSource: BASELINE_SOURCE,
      elapsedMs: 1,
      rows: [
        {
          name: 'a',
          bytes: 10,
          gzipBytes: 5,
          mapBytes: 20,
          importMs: 12.34,
          ratio: 1.234,
          runsMs: [],
        },
        {
          name: BASELINE,
          bytes: 8,
          gzipBytes: 4,
          mapBytes: 16,
          importMs: 10,
          ratio: 1,
          runsMs: [],
        },
      ],
    });
    const lines = text.split('\n');

    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^a\s+10\s+5\s+12\.3\s+1\.23x$/);
    expect(lines[2]).toMatch(/^baseline\s+8\s+4\s+10\.0\s+1\.00x$/);
  });
});
