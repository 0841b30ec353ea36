import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/bundling.js';

// The layering rules live in biome.json (`noRestrictedImports` per folder), so `npm run lint`
// fails on a violation. These cases lint probe files placed where a real file would be, in a
// temporary copy of the configuration: a wrong import must be reported, a right one must not.
const dir = mkdtempSync(join(tmpdir(), 'keygate-layers-'));
copyFileSync(join(REPO_ROOT, 'biome.json'), join(dir, 'biome.json'));
const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The `noRestrictedImports` findings for a file at `path` whose only import is `from`. */
function findings(path: string, from: string): string[] {
  const file = join(dir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `import * as probe from '${from}';\n\nexport const value = probe;\n`);
  let output: string;
  try {
    output = execFileSync(biome, ['lint', '--vcs-enabled=false', '--reporter=json', path], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? '');
  } finally {
    rmSync(file);
  }
  const report = JSON.parse(output) as { diagnostics: { category: string; message: string }[] };
  return report.diagnostics
    .filter((d) => d.category === 'lint/style/noRestrictedImports')
    .map((d) => d.message);
}

describe('layers (biome.json)', () => {
  it.each([
    ['shared/domain/probe.ts', '../adapters/dynamodb/keys-repository.js'],
    ['shared/domain/probe.ts', '../http/api-handler.js'],
    ['shared/domain/probe.ts', '../http/wire/api-keys.js'],
    ['shared/domain/probe.ts', '../schemas/api-keys.js'],
    ['shared/domain/probe.ts', '../gateway/policy.js'],
    ['shared/domain/probe.ts', '../routes.js'],
    ['shared/domain/probe.ts', 'zod'],
    ['shared/domain/probe.ts', '../runtime/storage.js'],
    ['shared/domain/probe.ts', '../../functions/api-keys/create.js'],
    ['shared/domain/probe.ts', '../../infra/constructs/keygate.js'],
    ['shared/domain/probe.ts', '../../local/cli.js'],
    ['shared/domain/probe.ts', '@aws-sdk/client-dynamodb'],
    ['shared/domain/probe.ts', 'aws-cdk-lib'],
    ['shared/adapters/dynamodb/probe.ts', '../../http/api-handler.js'],
    ['shared/adapters/dynamodb/probe.ts', '../../runtime/storage.js'],
    ['shared/runtime/probe.ts', '../../functions/api-keys/create.js'],
    ['shared/http/probe.ts', '../../infra/constructs/keygate.js'],
    ['shared/runtime/probe.ts', '../../local/cli.js'],
    ['functions/api-keys/probe.ts', '@aws-sdk/lib-dynamodb'],
    ['functions/api-keys/probe.ts', '../../shared/adapters/dynamodb/keys-repository.js'],
    ['console/src/probe.ts', '../../shared/domain/scopes.js'],
    ['console/src/probe.ts', '../../functions/api-keys/create.js'],
  ])('refuses %s importing %s', (path, from) => {
    expect(findings(path, from)).toEqual([expect.stringMatching(/^Layers: /)]);
  });

  it.each([
    ['shared/domain/probe.ts', './ports.js'],
    ['shared/domain/probe.ts', 'node:crypto'],
    ['shared/adapters/dynamodb/probe.ts', '../../domain/ports.js'],
    ['shared/adapters/dynamodb/probe.ts', '@aws-sdk/lib-dynamodb'],
    ['shared/runtime/probe.ts', '../adapters/local/outbox-mailer.js'],
    ['shared/http/probe.ts', '../domain/api-keys.js'],
    ['functions/api-keys/probe.ts', '../../shared/runtime/authorizer-cache-flush.js'],
    ['functions/api-keys/probe.ts', '../../shared/domain/api-keys.js'],
    ['console/src/probe.ts', 'preact/hooks'],
    ['console/src/probe.ts', './api.js'],
  ])('allows %s importing %s', (path, from) => {
    expect(findings(path, from)).toEqual([]);
  });
});
