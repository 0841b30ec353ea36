import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, deploymentOf } from '../../shared/deployment/deployment.js';
import { ConfigError, LOCK_FILE, loadDeploymentSpec } from '../../shared/deployment/load.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * `loadDeploymentSpec`: finding a team's config, and keeping its scope lock
 * (`keygate.lock.json`, append-only, committed). Each test writes its project in a temporary
 * directory of its own (modules are cached by path, so none is loaded twice).
 */

const tempDir = tempDirs();

interface Project {
  dir: string;
  lockFile: string;
  lock(): unknown;
}

/** A team's project: `keygate.config.ts` declaring `scopes` in one area, each used by a route. */
function project(scopes: readonly string[], options: { lock?: readonly string[] } = {}): Project {
  const dir = tempDir('keygate-config-');
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(
    join(dir, 'handlers', 'h.ts'),
    'export const handler = async () => ({ statusCode: 200, body: "{}" });\n',
  );
  const config = {
    areas: [{ id: 'invoices', label: 'Invoices', scopes }],
    routes: scopes.map((scope, i) => ({
      method: 'GET',
      path: `/v1/r${i}`,
      scopes: [scope],
      handler: './handlers/h.ts',
    })),
  };
  writeFileSync(
    join(dir, 'keygate.config.ts'),
    `export default ${JSON.stringify(config, null, 2)};\n`,
  );
  const lockFile = join(dir, LOCK_FILE);
  if (options.lock) writeFileSync(lockFile, `${JSON.stringify({ scopes: options.lock })}\n`);
  return { dir, lockFile, lock: () => JSON.parse(readFileSync(lockFile, 'utf8')) };
}

describe('loadDeploymentSpec', () => {
  it('serves SendGrid’s service, exactly, without a config', async () => {
    const loaded = await loadDeploymentSpec({ cwd: tempDir('keygate-empty-'), env: {} });

    expect(loaded).toEqual({
      spec: DEFAULT_SPEC,
      configFile: undefined,
      configDir: undefined,
      warnings: [],
      lockWritten: false,
    });
  });

  it('finds keygate.config.ts in the working directory, and writes the lock it lacked', async () => {
    // Arrange
    const { dir, lock } = project(['invoices.read', 'invoices.create']);

    // Act
    const loaded = await loadDeploymentSpec({ cwd: dir, env: {} });

    // Assert
    expect(loaded.configFile).toBe(join(dir, 'keygate.config.ts'));
    expect(loaded.configDir).toBe(dir);
    expect(loaded.spec.routes.map((r) => r.id)).toEqual(['GET /v1/r0', 'GET /v1/r1']);
    expect(loaded.lockWritten).toBe(true);
    expect(lock()).toEqual({ scopes: ['invoices.create', 'invoices.read'] });
  });

  it('finds the config KEYGATE_CONFIG names, relative to the working directory', async () => {
    const { dir } = project(['invoices.read']);

    const loaded = await loadDeploymentSpec({
      cwd: join(dir, '..'),
      env: { KEYGATE_CONFIG: join(dir.split('/').at(-1) ?? '', 'keygate.config.ts') },
    });

    expect(loaded.configDir).toBe(dir);
  });

  it('appends a new scope to the lock, keeping the order of the ones it has', async () => {
    // Arrange: the lock as committed, in the order first seen
    const { dir, lock } = project(['invoices.read', 'invoices.create', 'invoices.void'], {
      lock: ['invoices.void', 'invoices.read'],
    });

    // Act
    const loaded = await loadDeploymentSpec({ cwd: dir, env: {} });

    // Assert
    expect(loaded.lockWritten).toBe(true);
    expect(lock()).toEqual({ scopes: ['invoices.void', 'invoices.read', 'invoices.create'] });
    expect(loaded.spec.scopeLock).toEqual(['invoices.void', 'invoices.read', 'invoices.create']);
  });

  it('keeps a removed scope in the lock (its code is never reused), retired', async () => {
    // Arrange
    const { dir, lockFile } = project(['invoices.read'], {
      lock: ['invoices.void', 'invoices.read'],
    });
    const before = readFileSync(lockFile, 'utf8');

    // Act
    const loaded = await loadDeploymentSpec({ cwd: dir, env: {} });

    // Assert
    expect(loaded.lockWritten).toBe(false);
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
    expect(loaded.spec.scopeLock).toEqual(['invoices.void', 'invoices.read']);
    const registry = deploymentOf(loaded.spec).scopeRegistry;
    expect(registry.appended).toEqual(['invoices.void', 'invoices.read']);
    expect(registry.retired).toContain('invoices.void');
    expect(registry.retired).not.toContain('invoices.read');
  });

  it('fails under CI=true when the lock lacks a scope, and leaves the lock alone', async () => {
    // Arrange
    const { dir, lockFile } = project(['invoices.read', 'invoices.create'], {
      lock: ['invoices.read'],
    });
    const before = readFileSync(lockFile, 'utf8');

    // Act
    const loading = loadDeploymentSpec({ cwd: dir, env: { CI: 'true' } });

    // Assert
    await expect(loading).rejects.toBeInstanceOf(ConfigError);
    await expect(loading).rejects.toThrow(
      /^keygate\.lock\.json lacks invoices\.create: run npm start or npm run synth where you change the config, and commit the file$/,
    );
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
  });

  it('fails under CI=true without a lock at all, and writes none', async () => {
    const { dir, lockFile } = project(['invoices.read']);

    await expect(loadDeploymentSpec({ cwd: dir, env: { CI: 'true' } })).rejects.toThrow(
      /lacks invoices\.read/,
    );
    expect(() => readFileSync(lockFile)).toThrow(/ENOENT/);
  });

  it('loads under CI=true when the committed lock is complete', async () => {
    const { dir } = project(['invoices.read'], { lock: ['invoices.read'] });

    const loaded = await loadDeploymentSpec({ cwd: dir, env: { CI: 'true' } });

    expect(loaded.lockWritten).toBe(false);
  });

  it.each([
    ['a lock that is not JSON', 'scopes: invoices.read', 'keygate.lock.json: is not JSON'],
    [
      'a lock of another shape',
      '["invoices.read"]',
      'keygate.lock.json: must be {"scopes": [...]}, the scopes in the order first seen',
    ],
    [
      'a lock listing a scope twice',
      '{"scopes": ["invoices.read", "invoices.read"]}',
      'keygate.lock.json: lists a scope twice',
    ],
  ])('refuses %s in one line', async (_case, text, message) => {
    const { dir, lockFile } = project(['invoices.read']);
    writeFileSync(lockFile, text);

    await expect(loadDeploymentSpec({ cwd: dir, env: {} })).rejects.toThrow(message);
  });

  it('refuses a config the spec refuses, in its one line, writing no lock', async () => {
    // Arrange: a route whose handler is not there
    const { dir, lockFile } = project(['invoices.read']);
    const file = join(dir, 'keygate.config.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('./handlers/h.ts', './handlers/x.ts'));

    // Act
    const loading = loadDeploymentSpec({ cwd: dir, env: {} });

    // Assert
    await expect(loading).rejects.toThrow(
      'keygate.config.ts: routes[0] (GET /v1/r0): handler ./handlers/x.ts does not exist',
    );
    expect(() => readFileSync(lockFile)).toThrow(/ENOENT/);
  });

  it('refuses a KEYGATE_CONFIG that does not exist', async () => {
    await expect(
      loadDeploymentSpec({ cwd: tempDir('keygate-none-'), env: { KEYGATE_CONFIG: 'nope.ts' } }),
    ).rejects.toThrow('KEYGATE_CONFIG: nope.ts does not exist');
  });
});
