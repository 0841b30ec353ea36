import type { TestProject } from 'vitest/node';
import { inUseByLiveProcesses, leakError, leftSince, snapshotTemp } from './helpers/temp-leaks.js';

/**
 * Global setup of every tier (listed first, so that its teardown runs last, after the tier's
 * own): a run leaves the temp dir as it found it. It fails when an entry with one of Keygate's
 * names (`KEYGATE_TEMP_PREFIXES`) appeared during the run and is still there.
 *
 * Another Keygate run on the same machine at the same time (same temp dir) is indistinguishable
 * from a leak: give each its own TMPDIR.
 */
export default function setup(project: TestProject): () => void {
  const snapshot = snapshotTemp();
  return () => {
    const found = leftSince(snapshot);
    const inUse = inUseByLiveProcesses(found);
    const left = found.filter((path) => !inUse.has(path));
    if (left.length === 0) return;
    // Vitest reports a teardown error without failing the run: fail it.
    process.exitCode = 1;
    throw leakError(project.name, left);
  };
}
