import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeploymentSpec } from '../shared/deployment/deployment.js';

/**
 * `<data dir>/runtime.json`: how other local processes (the CLI, tests) reach a running
 * `npm start`. It holds a random control token, so only processes that can read the data
 * directory may ask the local gateway to flush its authorizer cache. Never key material.
 */
export interface RuntimeInfo {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  tablePrefix: string;
  outboxDir: string;
  controlToken: string;
  /** What it serves (the team's config, or SendGrid's service), so the CLI grants the same. */
  deployment?: DeploymentSpec;
}

export const DEFAULT_DATA_DIR = '.keygate';
export const LOCAL_TABLE_PREFIX = 'keygate';
/** The local gateway's control path (not an API route: no key, loopback and token only). */
export const FLUSH_CONTROL_PATH = '/__keygate/flush-authorizer-cache';

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KEYGATE_DATA_DIR || DEFAULT_DATA_DIR);
}

const fileIn = (dataDir: string) => join(dataDir, 'runtime.json');

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  writeFileSync(fileIn(dataDir), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(fileIn(dataDir), 0o600);
}

/** The running instance's info, or undefined when none is running there. */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(readFileSync(fileIn(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
  } catch {
    return undefined; // a stale file from a process that died without cleaning up
  }
  return info;
}

export function removeRuntimeInfo(dataDir: string): void {
  rmSync(fileIn(dataDir), { force: true });
}

/** A live Keygate server holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`Keygate is already running on ${dataDir} (pid ${pid})`);
  }
}

export interface DataDirLock {
  /** The lock file this process holds. */
  file: string;
  /** Gives the data directory up; safe to call more than once. */
  release(): void;
}

/**
 * `<data dir>/keygate.<generation>.lock`, holding the server's pid: one server per data
 * directory (two JVMs on one SQLite file, and a second server silently taking `runtime.json`
 * over, are what it prevents).
 *
 * The holder is the highest generation. A start claims the next generation with link(2) of a
 * complete file, which is atomic and fails when the name exists (as O_EXCL does, without a
 * moment where the file is empty), and only when the current holder is stale: its pid is dead,
 * or is not a Keygate server. Taking over is race-free because no file is ever replaced or
 * removed to take it over: of two starts that find the same stale holder, one claims the next
 * generation and the other finds it taken and looks again. The highest generation is never
 * removed (a release rewrites it to say so, atomically), so the generation a start claims can
 * only be lower than the holder's if someone else's claim has already succeeded; it checks that
 * after claiming, and gives way.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const temp = join(dataDir, `.keygate-lock-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const top = generations(dataDir)[0] ?? 0;
      if (top > 0) {
        const holder = lockHolder(lockFile(dataDir, top));
        if (holder !== undefined && isKeygateServer(holder)) {
          throw new DataDirLockedError(dataDir, holder);
        }
      }
      const claimed = lockFile(dataDir, top + 1);
      try {
        linkSync(temp, claimed);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      if ((generations(dataDir)[0] ?? 0) > top + 1) {
        rmSync(claimed, { force: true });
        continue;
      }
      removeSuperseded(dataDir, top + 1);
      return heldLock(dataDir, claimed);
    }
    throw new Error(`could not lock ${dataDir}: too many concurrent starts`);
  } finally {
    rmSync(temp, { force: true });
  }
}

const LOCK_NAME = /^keygate\.(\d+)\.lock$/;
const TEMP_NAME = /^\.keygate-lock-(\d+)-[0-9a-f]+$/;

export function lockFile(dataDir: string, generation: number): string {
  return join(dataDir, `keygate.${generation}.lock`);
}

/** The lock generations present, highest first. */
function generations(dataDir: string): number[] {
  return readdirSync(dataDir)
    .map((name) => LOCK_NAME.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/** The pid a lock file names; undefined for a released or unreadable one (both stale). */
function lockHolder(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live Keygate server (`local/start.ts`), so that a recycled pid does not
 * keep a data directory locked. Without /proc (not Linux) a live pid is taken for one.
 */
export function isKeygateServer(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  return argv.some((arg) => /(^|\/)local\/start\.[cm]?[jt]s$/.test(arg));
}

/** Lower generations and the temporary files of dead starts: left by crashed or old holders. */
function removeSuperseded(dataDir: string, held: number): void {
  for (const name of readdirSync(dataDir)) {
    const generation = LOCK_NAME.exec(name)?.[1];
    const tempOwner = TEMP_NAME.exec(name)?.[1];
    const stale =
      (generation !== undefined && Number(generation) < held) ||
      (tempOwner !== undefined && !isAlive(Number(tempOwner)));
    if (stale) rmSync(join(dataDir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heldLock(dataDir: string, file: string): DataDirLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Rewritten, not removed: the highest generation must stay (see lockDataDir).
      const temp = join(dataDir, `.keygate-lock-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        writeFileSync(temp, 'released\n', { mode: 0o600, flag: 'wx' });
        renameSync(temp, file);
      } catch {
        rmSync(temp, { force: true });
      }
    },
  };
}
