import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestProject } from 'vitest/node';
import { tempDirs } from '../helpers/temp-dirs.js';
import { inUseByLiveProcesses, leftSince, snapshotTemp } from '../helpers/temp-leaks.js';
import setupTempCheck from '../temp-check.js';

const tempDir = tempDirs();

describe('leftSince', () => {
  it('lists the entries with Keygate names that appeared since the snapshot, and only those', () => {
    // Arrange: a temp dir of our own, with what was there before the run.
    const dir = tempDir('keygate-temp-check-');
    mkdirSync(join(dir, 'keygate-before-x'));
    writeFileSync(join(dir, 'kg-before'), '');
    const snapshot = snapshotTemp(dir);

    // Act: the run makes its own entries and another program's.
    mkdirSync(join(dir, 'keygate-e2e-abc'));
    mkdirSync(join(dir, 'cdk.out123'));
    writeFileSync(join(dir, 'kg-file'), 'x');
    mkdirSync(join(dir, 'cdk-asset-1'));
    mkdirSync(join(dir, 'someone-elses-dir'));
    writeFileSync(join(dir, 'systemd-private-1'), '');

    // Assert
    expect(leftSince(snapshot)).toEqual(
      ['cdk-asset-1', 'cdk.out123', 'keygate-e2e-abc', 'kg-file'].map((name) => join(dir, name)),
    );
  });

  it('lists nothing when the run removed what it made', () => {
    const dir = tempDir('keygate-temp-check-');
    const snapshot = snapshotTemp(dir);
    mkdirSync(join(dir, 'keygate-cdk-1'));
    rmSync(join(dir, 'keygate-cdk-1'), { recursive: true });

    expect(leftSince(snapshot)).toEqual([]);
  });

  it('ignores a new name whose entry predates the run (moved or restored there)', () => {
    const dir = tempDir('keygate-temp-check-');
    const snapshot = snapshotTemp(dir);
    const old = join(dir, 'keygate-old');
    writeFileSync(old, '');
    const hourAgo = new Date(snapshot.since - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);

    expect(leftSince(snapshot)).toEqual([]);
  });
});

describe('the temp-dir check of every tier (test/temp-check.ts)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fails the tier when a file or folder is left, naming it', () => {
    // Arrange: the tier's temp dir is one we control.
    const dir = tempDir('keygate-temp-check-');
    vi.stubEnv('TMPDIR', dir);
    const teardown = setupTempCheck({ name: 'unit' } as TestProject);
    const exitCode = process.exitCode;

    // Act: a test leaves a data dir and a CDK output behind.
    mkdirSync(join(dir, 'kg-left'));
    mkdirSync(join(dir, 'cdk.outXYZ'));

    // Assert
    try {
      expect(() => teardown()).toThrow(
        `The unit tests left 2 entries in the temp dir (remove what a test makes, e.g. with tempDirs() of test/helpers/temp-dirs.ts):\n  ${join(dir, 'cdk.outXYZ')}\n  ${join(dir, 'kg-left')}`,
      );
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = exitCode;
    }
  });

  it('passes when the tier leaves the temp dir as it found it', () => {
    const dir = tempDir('keygate-temp-check-');
    mkdirSync(join(dir, 'keygate-there-before'));
    vi.stubEnv('TMPDIR', dir);
    const teardown = setupTempCheck({ name: 'unit' } as TestProject);
    mkdirSync(join(dir, 'not-keygates'));

    expect(() => teardown()).not.toThrow();
  });
});

describe('entries a live process still uses', () => {
  it('are told apart from leaks by the process command lines', () => {
    const own = process.argv.find((arg) => arg.startsWith('/')) ?? process.execPath;

    const used = inUseByLiveProcesses([own, '/nonexistent/keygate-nobody-uses-this']);

    expect([...used]).toEqual([own]);
  });
});
