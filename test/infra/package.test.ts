import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedHandlers } from '../../infra/constructs/bundling.js';
import { ROUTE_LIST } from '../../shared/routes.js';
import type { CfnResource } from './support.js';

/**
 * The package as another CDK app gets it: `npm pack` (its `prepack` builds the console and
 * `dist/`) in a copy of the working tree, so the build never touches this tree's `dist/` or
 * `console/dist` while other test files read them; then a team's project outside the repository
 * with the tarball unpacked as `node_modules/keygate` (the rest of `node_modules` linked from
 * here: no network), its TypeScript app compiled by tsc against the package's declarations and
 * run by plain `node`, with bundling off.
 */

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
};

/** Not copied into the staging tree: installed, generated or local state (see .gitignore). */
const NOT_STAGED = new Set(['node_modules', '.git', 'cdk.out', 'dist', '.keygate', 'coverage']);

/** Every target of `exports` (each condition's file), as `npm pack` lists paths. */
function exportTargets(): string[] {
  return Object.values(PACKAGE.exports)
    .flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)))
    .map((target) => target.replace(/^\.\//, ''));
}

/** A child's environment without the outer npm's `npm_*` settings (`npm test` sets many). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
  return {
    ...env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_offline: 'true',
    ...extra,
  };
}

let work: string;
let packed: { path: string }[];
let app: string;

/** `npm pack` in a copy of the tree: the tarball and what it holds. */
async function pack(): Promise<string> {
  const stage = join(work, 'keygate');
  cpSync(REPO, stage, {
    recursive: true,
    filter: (source) => {
      const path = relative(REPO, source);
      const top = path.split(sep)[0] as string;
      return !NOT_STAGED.has(top) && path !== join('console', 'dist');
    },
  });
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: stage,
    env: childEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  const [result] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  packed = result.files;
  return join(work, result.filename);
}

/** A team's project: the tarball as `node_modules/keygate`, a lock file, its app and config. */
function teamProject(): string {
  const dir = join(work, 'team-app');
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    // Dot entries (.bin, .cache) stay out: the wrappers are generated under node_modules/.cache.
    if (name.startsWith('.') || name === PACKAGE.name) continue;
    symlinkSync(join(REPO, 'node_modules', name), join(modules, name), 'dir');
  }
  return dir;
}

async function unpack(tarball: string, dir: string): Promise<void> {
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  await run('tar', ['-xzf', tarball, '-C', unpacked]);
  renameSync(join(unpacked, 'package'), join(dir, 'node_modules', PACKAGE.name));
}

/** (a) Keygate creates the API (and hosts the web console the package ships). */
const CREATED_APP = `import { App } from 'aws-cdk-lib';
import { KeygateStack } from 'keygate';

// Placeholder assets (no esbuild, no Docker); no CloudFormation validation (seconds a synth).
const app = new App({
  outdir: 'out-created',
  context: { 'aws:cdk:bundling-stacks': [] },
  builtinCloudFormationValidation: false,
});
new KeygateStack(app, 'Created', { keyPrefix: 'TM' });
app.synth();
`;

/** (b) Keygate on the team's own REST API, with the routes of the team's keygate.config.mjs. */
const ATTACHED_APP = `import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { MockIntegration, PassthroughBehavior, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Keygate, type KeygateProps, loadDeploymentSpec } from 'keygate';

const here = dirname(fileURLToPath(import.meta.url));
const app = new App({
  outdir: 'out-attached',
  context: { 'aws:cdk:bundling-stacks': [] },
  builtinCloudFormationValidation: false,
});
const stack = new Stack(app, 'Attached');
const api = new RestApi(stack, 'TeamApi', { deployOptions: { stageName: 'live' } });
api.root.addResource('status').addMethod(
  'GET',
  new MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    passthroughBehavior: PassthroughBehavior.NEVER,
    integrationResponses: [{ statusCode: '200' }],
  }),
  { methodResponses: [{ statusCode: '200' }] },
);
const loaded = await loadDeploymentSpec({ cwd: here, env: {} });
const props: KeygateProps = {
  restApi: api,
  console: false,
  deployment: { spec: loaded.spec, configDir: here },
};
const keygate: Keygate = new Keygate(stack, 'Keygate', props);
if (keygate.api !== api) throw new Error('Keygate made an API of its own');
app.synth();
`;

const TEAM_CONFIG = `import { defineConfig } from 'keygate/config';

export default defineConfig({
  areas: [{ id: 'reports', label: 'Reports', scopes: ['reports.read'] }],
  routes: [
    { method: 'GET', path: '/v1/reports', scopes: ['reports.read'], handler: './handlers/reports.ts' },
  ],
});
`;

const TEAM_HANDLER = `import { keygateCaller, type TeamHandler } from 'keygate/runtime';

export const handler: TeamHandler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({ account: keygateCaller(event).accountId, reports: [] }),
});
`;

function writeTeamFiles(dir: string): void {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'team-app', private: true, type: 'module' }),
  );
  // Keygate's projectRoot: the directory of the nearest package-lock.json (npm never ships one).
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'team-app', lockfileVersion: 3, requires: true, packages: {} }),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['created.ts', 'attached.ts', 'handlers'],
    }),
  );
  writeFileSync(join(dir, 'created.ts'), CREATED_APP);
  writeFileSync(join(dir, 'attached.ts'), ATTACHED_APP);
  writeFileSync(join(dir, 'keygate.config.mjs'), TEAM_CONFIG);
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(join(dir, 'handlers', 'reports.ts'), TEAM_HANDLER);
}

interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: unknown }>;
}

function templateOf(file: string): CfnTemplate {
  return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
}

function ofType(resources: Record<string, CfnResource>, type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keygate-package-'));
  const tarball = await pack();
  app = teamProject();
  await unpack(tarball, app);
  writeTeamFiles(app);
  // The team's TypeScript, type-checked against the package's declarations, then plain node.
  await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
    cwd: app,
    env: childEnv(),
  });
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships no tests, benches, examples, scripts, local state or TypeScript sources', () => {
    const paths = packed.map((file) => file.path);
    const unwanted = paths.filter(
      (path) =>
        /^(test|bench|examples|scripts|docs|console|infra|shared|functions|local|\.keygate|\.ci)\//.test(
          path,
        ) ||
        /\.test\.[cm]?[jt]s$/.test(path) ||
        (/\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts')) ||
        /\.map$|tsbuildinfo$|package-lock\.json$|tsconfig.*\.json$/.test(path),
    );
    expect(unwanted).toEqual([]);
    expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual(
      ['README.md', 'bin/keygate.js', 'package.json'].sort(),
    );
  });

  it('ships every entry point of exports, main and types, with its declarations', () => {
    const paths = new Set(packed.map((file) => file.path));
    const targets = [...exportTargets(), PACKAGE.main, PACKAGE.types].map((target) =>
      target.replace(/^\.\//, ''),
    );
    expect(targets.filter((target) => !paths.has(target))).toEqual([]);
    for (const [subpath, target] of Object.entries(PACKAGE.exports)) {
      if (subpath === './package.json') continue;
      expect(target, subpath).toEqual({
        types: expect.stringMatching(/^\.\/dist\/.+\.d\.ts$/),
        default: expect.stringMatching(/^\.\/dist\/.+\.js$/),
      });
    }
  });

  it('ships what the construct reads beside its code: every function, the catalogue, the console', () => {
    const paths = new Set(packed.map((file) => file.path));
    const needed = [
      ...deployedHandlers().map((handler) => `dist/functions/${handler}.js`),
      'dist/shared/catalogue/sendgrid-scopes.json',
      'dist/shared/catalogue/scope-codes.json',
      'dist/console/dist/index.html',
      'dist/local/cli.js',
    ];
    expect(needed.filter((path) => !paths.has(path))).toEqual([]);
    expect(Object.values(PACKAGE.bin).filter((bin) => !paths.has(bin))).toEqual([]);
  });

  it("resolves each export to its source in this repository (tsconfig.json's paths)", () => {
    const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths?: Record<string, string[]> };
    };
    const expected = Object.fromEntries(
      Object.entries(PACKAGE.exports)
        .filter(([subpath]) => subpath !== './package.json')
        .map(([subpath, target]) => [
          `${PACKAGE.name}${subpath.slice(1)}`,
          [(target as Record<string, string>).default?.replace(/^\.\/dist\/(.+)\.js$/, './$1.ts')],
        ]),
    );
    expect(tsconfig.compilerOptions.paths).toEqual(expected);
    for (const [source] of Object.values(expected)) {
      expect(existsSync(join(REPO, source as string)), source).toBe(true);
    }
  });
});

describe('a CDK app that installed the package', () => {
  /** Runs one of the team's compiled apps with plain node; its template. */
  async function synth(name: 'created' | 'attached', stack: string): Promise<CfnTemplate> {
    await run(process.execPath, [`${name}.js`], { cwd: app, env: childEnv() });
    return templateOf(join(app, `out-${name}`, `${stack}.template.json`));
  }

  it('(a) lets Keygate create the API, with the console the package ships', async () => {
    const { Resources: created, Outputs: createdOutputs } = await synth('created', 'Created');
    expect(ofType(created, 'AWS::ApiGateway::RestApi')).toHaveLength(1);
    expect(ofType(created, 'AWS::ApiGateway::Authorizer')).toHaveLength(1);
    expect(ofType(created, 'AWS::ApiGateway::Method')).toHaveLength(ROUTE_LIST.length);
    expect(ofType(created, 'AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(ofType(created, 'Custom::CDKBucketDeployment').length).toBeGreaterThan(0);
    expect(createdOutputs.KeyPrefix?.Value).toBe('TM');
    // The console's asset is the package's dist/console/dist.
    const assets = readdirSync(join(app, 'out-created')).filter((name) =>
      name.startsWith('asset.'),
    );
    expect(assets.some((name) => existsSync(join(app, 'out-created', name, 'index.html')))).toBe(
      true,
    );
  });

  it("(b) puts the authorizer, Keygate's routes and the config's routes on the team's RestApi", async () => {
    const { Resources: attached } = await synth('attached', 'Attached');
    const apis = ofType(attached, 'AWS::ApiGateway::RestApi');
    expect(apis.map(([id]) => id)).toEqual([expect.stringMatching(/^TeamApi/)]);
    const apiId = apis[0]?.[0];
    const authorizers = ofType(attached, 'AWS::ApiGateway::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] as [string, CfnResource];
    expect(authorizer.Properties.RestApiId).toEqual({ Ref: apiId });
    expect(ofType(attached, 'AWS::ApiGateway::Stage')).toHaveLength(1);

    const methods = ofType(attached, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties);
    // The team's GET /status, every Keygate route, and the config's GET /v1/reports.
    expect(methods).toHaveLength(1 + ROUTE_LIST.length + 1);
    expect(
      methods.every((m) => JSON.stringify(m.RestApiId) === JSON.stringify({ Ref: apiId })),
    ).toBe(true);
    const keyed = methods.filter((m) => m.AuthorizationType === 'CUSTOM');
    const keyRoutes = ROUTE_LIST.filter((route) => route.access.kind === 'key').length;
    expect(keyed).toHaveLength(keyRoutes + 1);
    expect(
      keyed.every((m) => JSON.stringify(m.AuthorizerId) === JSON.stringify({ Ref: authorizerId })),
    ).toBe(true);
    const resources = Object.fromEntries(ofType(attached, 'AWS::ApiGateway::Resource'));
    const pathPart = (m: Record<string, unknown>) =>
      resources[(m.ResourceId as { Ref: string }).Ref]?.Properties.PathPart;
    expect(methods.filter((m) => pathPart(m) === 'status').map((m) => m.AuthorizationType)).toEqual(
      ['NONE'],
    );
    expect(
      methods.filter((m) => pathPart(m) === 'reports').map((m) => m.AuthorizationType),
    ).toEqual(['CUSTOM']);

    // The team's handler, wrapped below the team's project by the package's JavaScript.
    const dir = join(app, 'node_modules', '.cache', 'keygate', 'team-routes');
    const wrappers = readdirSync(dir);
    expect(wrappers).toHaveLength(1);
    const source = readFileSync(join(dir, wrappers[0] as string), 'utf8');
    expect(source).toContain(
      JSON.stringify(
        join(app, 'node_modules', 'keygate', 'dist', 'shared', 'http', 'team-handler.js'),
      ),
    );
    expect(source).toContain(JSON.stringify(join(app, 'handlers', 'reports.ts')));
    expect(JSON.parse(readFileSync(join(app, 'keygate.lock.json'), 'utf8'))).toEqual({
      scopes: ['reports.read'],
    });
  });

  it('keygate/runtime bundles without the CDK', async () => {
    const result = await build({
      absWorkingDir: app,
      entryPoints: [join(app, 'handlers', 'reports.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes('keygate/dist/shared/http/team-handler.js'))).toBe(
      true,
    );
    expect(
      inputs.filter((input) => /aws-cdk-lib|[\\/]constructs[\\/]|esbuild/.test(input)),
    ).toEqual([]);
  });

  it("runs the CLI from the package's JavaScript", async () => {
    const cli = join(app, 'node_modules', 'keygate', 'dist', 'local', 'cli.js');
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { runCli } = await import(${JSON.stringify(cli)}); process.exitCode = await runCli(['--help']);`,
      ],
      { cwd: app, env: childEnv() },
    );
    expect(stdout).toContain('keygate bootstrap --account NAME');
  });

  it('runs `keygate` from the package (bin/keygate.js, on dist/)', async () => {
    const bin = join(app, 'node_modules', PACKAGE.name, PACKAGE.bin.keygate as string);
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: app, env: childEnv() });
    expect(stdout).toContain('keygate bootstrap --account NAME');
  });
});
