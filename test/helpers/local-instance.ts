import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Runs `npm start`'s entry point as its own process, as a user would. */

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The environment a fresh shell would give: none of the test run's KEYGATE_* wiring. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYGATE_')) env[k] = v;
  return { ...env, ...extra };
}

export interface LocalInstance {
  url: string;
  process: ChildProcess;
  output(): string;
  /** Resolves when the output matches (the output reaches us asynchronously, through a pipe). */
  waitForOutput(pattern: RegExp): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface StartInstanceOptions {
  /** More environment for the server (`KEYGATE_AUTHORIZER_CACHE_TTL`, …). */
  env?: Record<string, string>;
  /**
   * Keep only the output up to the listening line. Under load the server logs a line per
   * request, and the bench must not grow a string by megabytes while it measures.
   */
  startupOutputOnly?: boolean;
}

/** Starts `local/start.ts` and resolves once it prints its listening line. */
export async function startInstance(
  dataDir: string,
  port: number,
  options: StartInstanceOptions = {},
): Promise<LocalInstance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: REPO,
    env: cleanEnv({ PORT: String(port), KEYGATE_DATA_DIR: dataDir, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let ready = false;
  const append = (d: Buffer) => {
    if (ready && options.startupOutputOnly) return;
    output += d.toString();
    ready ||= output.includes('Keygate listening on');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes('Keygate listening on')) resolve();
    };
    child.stdout?.on('data', check);
    exited.then(() => reject(new Error(`npm start exited: ${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    waitForOutput: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return false;
          child.stdout?.off('data', check);
          resolve();
          return true;
        };
        if (check()) return;
        child.stdout?.on('data', check);
        exited.then(() => reject(new Error(`exited before printing ${pattern}: ${output}`)));
      }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs `npm start`'s entry point to completion (start-up failures). */
export function runStart(env: Record<string, string>, options: { path?: string } = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: REPO,
    env: cleanEnv({ ...env, ...(options.path === undefined ? {} : { PATH: options.path }) }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the `keygate` CLI. */
export function runCliProcess(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['bin/keygate.js', ...args], {
    cwd: REPO,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Processes whose command line mentions `text` (e.g. a DynamoDB Local serving a data dir). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text) && cmdline.includes('DynamoDBLocal')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
