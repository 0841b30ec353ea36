import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
