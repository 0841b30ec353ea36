import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The names a Keygate test run gives what it puts in the system's temp dir: its own folders
 * (`tempDirs()`, `keygate-*`, `kg-*`) and the CDK's (`cdk.out*` from an App without an outdir,
 * `cdk-*` asset staging). Third-party programs the tiers start (the DynamoDB Local JVM,
 * Chromium) are given a `keygate-*` temp dir of their own, so this list covers them too.
 */
export const KEYGATE_TEMP_PREFIXES = ['keygate-', 'kg-', 'cdk.out', 'cdk-'] as const;

export interface TempSnapshot {
  dir: string;
  prefixes: readonly string[];
  /** When the snapshot was taken (ms since the epoch). */
  since: number;
  /** The matching entries already there. */
  names: ReadonlySet<string>;
}

function matching(dir: string, prefixes: readonly string[]): string[] {
  return readdirSync(dir).filter((name) => prefixes.some((prefix) => name.startsWith(prefix)));
}

/** The matching entries of `dir` now: what a run is compared with when it ends. */
export function snapshotTemp(
  dir: string = tmpdir(),
  prefixes: readonly string[] = KEYGATE_TEMP_PREFIXES,
): TempSnapshot {
  return { dir, prefixes, since: Date.now(), names: new Set(matching(dir, prefixes)) };
}

/**
 * The matching entries that appeared after `snapshot` was taken (absent then, and modified
 * since: a file system's timestamps may be a second coarse, hence the margin). Entries that
 * vanish while being looked at are not leaks.
 */
export function leftSince(snapshot: TempSnapshot): string[] {
  const left: string[] = [];
  for (const name of matching(snapshot.dir, snapshot.prefixes)) {
    if (snapshot.names.has(name)) continue;
    try {
      const stats = lstatSync(join(snapshot.dir, name));
      if (stats.mtimeMs >= snapshot.since - 2_000) {
        left.push(join(snapshot.dir, name));
      }
    } catch {
      // Removed in the meantime.
    }
  }
  return left.sort();
}

/** The error a tier fails with when it leaves `left` behind. */
export function leakError(tier: string, left: readonly string[]): Error {
  return new Error(
    `The ${tier} tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temp dir (remove what a test makes, e.g. with tempDirs() of test/helpers/temp-dirs.ts):\n${left.map((path) => `  ${path}`).join('\n')}`,
  );
}

/**
 * The entries still named on a live process's command line (Linux /proc; none elsewhere): the
 * temp dir of a DynamoDB Local that another tier's global setup still runs (tiers' teardowns do
 * not run in an order one can rely on). It is removed when that setup stops it.
 */
export function inUseByLiveProcesses(paths: readonly string[]): Set<string> {
  const used = new Set<string>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return used;
  }
  for (const pid of pids) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const path of paths) if (cmdline.includes(path)) used.add(path);
  }
  return used;
}
