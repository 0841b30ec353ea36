import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withRuntimeLogLevel } from './log-level.js';

/** Runs `npm start`'s entry point as its own process, as a user would. */

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The environment a fresh shell would give: none of the test run's KEYGATE_* wiring. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYGATE_')) env[k] = v;
  // The process logs as it would outside the tests (its output is read, not shown).
  return { ...withRuntimeLogLevel(env), ...extra };
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
    waitForOutput: outputWaiter(child, exited, () => output),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/**
 * Resolves when the child's output matches (it reaches us asynchronously, through a pipe);
 * rejects if the child exits first.
 */
function outputWaiter(child: ChildProcess, exited: Promise<unknown>, output: () => string) {
  return (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output())) return false;
        child.stdout?.off('data', check);
        resolve();
        return true;
      };
      if (check()) return;
      child.stdout?.on('data', check);
      exited.then(() => reject(new Error(`exited before printing ${pattern}: ${output()}`)));
    });
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

/**
 * Runs the real `npm start` (npm's own signal handling, the script line as written) with the
 * npm that runs the tests, if any. `--ignore-scripts` skips only `prestart`, which rebuilds
 * `console/dist` under the other test files that serve it; npm still runs the `start` script.
 */
export async function startNpmStart(dataDir: string, port: number): Promise<LocalInstance> {
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli && /npm-cli\.[cm]?js$/.test(npmCli)
      ? [process.execPath, [npmCli, 'start', '--ignore-scripts']]
      : ['npm', ['start', '--ignore-scripts']];
  const child = spawn(command, args, {
    cwd: REPO,
    env: cleanEnv({ PORT: String(port), KEYGATE_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const waitForOutput = outputWaiter(child, exited, () => output);
  const append = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  await waitForOutput(/Keygate listening on/);
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    waitForOutput,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Keygate servers (`local/start.ts`) whose KEYGATE_DATA_DIR is `dataDir`, found through /proc. */
export function keygateServersOf(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      // The script's own argument, not a shell's `-c "node … local/start.ts"` line.
      if (!argv.some((arg) => arg === 'local/start.ts' || arg.endsWith('/local/start.ts')))
        continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`KEYGATE_DATA_DIR=${dataDir}`)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Cleanup on every path: SIGKILLs whatever still serves `dataDir` (servers and JVMs). */
export function killEverythingOf(dataDir: string): void {
  for (const pid of [...keygateServersOf(dataDir), ...processesMentioning(dataDir)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A TCP socket a process listens on, from /proc/<pid>/net/tcp{,6} and its descriptors. */
export interface ListeningSocket {
  address: string;
  port: number;
}

/** The TCP sockets `pid` listens on (Linux). */
export function listeningSockets(pid: number): ListeningSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed while we looked
    }
  }
  const sockets: ListeningSocket[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const rows = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const fields = row.trim().split(/\s+/);
      const [local, state, inode] = [fields[1] ?? '', fields[3], fields[9] ?? ''];
      if (state !== '0A' || !inodes.has(inode)) continue; // 0A: LISTEN
      const [hexAddress = '', hexPort = ''] = local.split(':');
      sockets.push({ address: procAddress(hexAddress), port: Number.parseInt(hexPort, 16) });
    }
  }
  return sockets;
}

/** /proc's hex address (32-bit words in host order, little-endian here) as text. */
function procAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const chunk = hex.slice(word, word + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(chunk.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
