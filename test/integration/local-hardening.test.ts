import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDynamoDbLocal } from '../../local/dynamodb-local.js';
import {
  cleanEnv,
  keygateServersOf,
  killEverythingOf,
  type LocalInstance,
  listeningSockets,
  processesMentioning,
  REPO,
  startInstance,
  startNpmStart,
} from '../helpers/local-instance.js';

/**
 * The local runtime's hardening (security issue #12), on real processes: `npm start`'s entry
 * point, the real `npm start`, DynamoDB Local's JVM, raw sockets and /proc.
 */

const START_TIMEOUT_MS = 180_000;
const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1'];

/** Temp data directories, removed (with everything still serving them killed) after each test. */
const dataDirs: string[] = [];
function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kg-harden-'));
  dataDirs.push(dir);
  return dir;
}
async function cleanUp(): Promise<void> {
  for (const dir of dataDirs.splice(0)) {
    killEverythingOf(dir);
    await until(
      () => keygateServersOf(dir).length === 0 && processesMentioning(dir).length === 0,
      `nothing serves ${dir} any more`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `condition` until it holds, for at most `ms`; then fails naming what it waited for. */
async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
async function accepts(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** Sends raw bytes and resolves with everything the server wrote until it closed the socket. */
async function rawExchange(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {}); // a reset after the answer: what was received is what counts
  socket.write(request);
  await once(socket, 'close');
  return received;
}

function parseResponse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { statusLine, headers, body };
}

/**
 * Runs `npm start`'s entry point until it either exits (a refusal) or starts listening (then it
 * is left running, and the caller stops it).
 */
async function startOrRefusal(
  dataDir: string,
  port: number,
): Promise<{ running?: ChildProcess; code?: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: REPO,
    env: cleanEnv({ PORT: String(port), KEYGATE_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('Keygate listening on')) resolve({ running: child, stdout, stderr });
    });
    // 'close', not 'exit': only then has all of its output been read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** SIGTERM to each server `startOrRefusal` left running, and their exits. */
async function stopRunning(results: { running?: ChildProcess }[]): Promise<void> {
  await Promise.all(
    results.map(async ({ running }) => {
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGTERM');
      await exited;
    }),
  );
}

/** The pid of a process that has exited (and been reaped), for a stale lock. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '0']);
  if (result.pid === undefined) throw new Error('no pid');
  return result.pid;
}

const refusal = (dataDir: string, pid: number) =>
  `Keygate is already running on ${dataDir} (pid ${pid}): stop it first or set KEYGATE_DATA_DIR to another directory.`;

describe('npm start on a data directory left with loose permissions', () => {
  let dataDir: string;
  let port: number;
  let instance: LocalInstance;
  let ownerKey: string;

  beforeAll(async () => {
    dataDir = newDataDir();
    // As an earlier version (or a umask of 022) left it.
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'dynamodb'), { mode: 0o755 });
    mkdirSync(join(dataDir, 'outbox'), { mode: 0o755 });
    writeFileSync(join(dataDir, 'outbox', 'earlier-mail.json'), '{}\n', { mode: 0o644 });
    chmodSync(join(dataDir, 'outbox', 'earlier-mail.json'), 0o644);
    port = await freePort();
    instance = await startInstance(dataDir, port);
    ownerKey = /^\s+(SG\.\S+)$/m.exec(instance.output())?.[1] ?? '';
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await instance?.stop();
    await cleanUp();
  });

  it('runs DynamoDB Local listening on 127.0.0.1 only', () => {
    // Arrange
    const runtime = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as {
      dynamodbEndpoint: string;
    };
    const dynamodbPort = Number(new URL(runtime.dynamodbEndpoint).port);
    const jvms = processesMentioning(dataDir);

    // Act
    const sockets = jvms.flatMap((pid) => listeningSockets(pid));

    // Assert
    expect(jvms).toHaveLength(1);
    expect(sockets.map((s) => s.port)).toContain(dynamodbPort);
    for (const socket of sockets) expect(LOOPBACK).toContain(socket.address);
  });

  it('keeps the data directory private: directories 0700, files 0600, old ones fixed', async () => {
    // Arrange: a mail, so that the outbox holds a file written by this server.
    const sent = await fetch(`${instance.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'to@example.com' }] }],
        from: { email: 'from@example.com' },
        subject: 'modes',
        content: [{ type: 'text/plain', value: 'hello' }],
      }),
    });
    expect(sent.status).toBe(202);

    // Act
    const modes: Record<string, number> = {};
    const walk = (dir: string, relative: string) => {
      modes[relative || '.'] = statSync(dir).mode & 0o777;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const name = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(path, name);
        else modes[name] = statSync(path).mode & 0o777;
      }
    };
    walk(dataDir, '');

    // Assert
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        '.',
        'dynamodb',
        'outbox',
        'runtime.json',
        'dynamodb/shared-local-instance.db',
        'outbox/earlier-mail.json',
      ]),
    );
    expect(Object.keys(modes).filter((name) => name.startsWith('outbox/'))).toHaveLength(2);
    for (const [name, mode] of Object.entries(modes)) {
      const isDir = statSync(join(dataDir, name)).isDirectory();
      // The JVM's scratch holds the native SQLite library it unpacked, which it makes
      // executable: private to the user all the same.
      if (name.startsWith('dynamodb-java-tmp/')) {
        expect({ name, groupOrOther: mode & 0o077 }).toEqual({ name, groupOrOther: 0 });
        continue;
      }
      expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: isDir ? '700' : '600' });
    }
  });

  it('logs no form of a key sent percent-encoded in a path', async () => {
    // Arrange: a well-formed key (not a real one: the log must hide any key-shaped text).
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    const secret = randomBytes(32).toString('base64url').slice(0, 43);
    const encodedLetter = `%${secret.charCodeAt(0).toString(16)}${secret.slice(1)}`;
    const paths = [
      `/v3/api_keys/SG%2E${id}%2E${secret}`,
      `/v3/api_keys/SG%2e${id}%2e${encodedLetter}`,
      `/v3/api_keys/SG%252E${id}%252E${secret}`,
      `/v3/api_keys/x%0ASG%2E${id}%2E${secret}`,
    ];

    // Act
    for (const path of paths) expect((await fetch(`${instance.url}${path}`)).status).toBe(401);
    await instance.waitForOutput(/(GET \/v3\/api_keys\/[^\n]* 401 [^\n]*\n[\s\S]*){4}/);

    // Assert
    const output = instance.output();
    expect(output).not.toContain(secret);
    expect(output).not.toContain(secret.slice(1));
    expect(output).not.toContain(id);
    for (const path of paths) expect(output).not.toContain(path);
    expect(output).toMatch(/^GET \/v3\/api_keys\/\[REDACTED KEY\] 401 /m);
    // The decoded newline stays encoded: it cannot start a forged log line.
    expect(output).toMatch(/^GET \/v3\/api_keys\/x%0\S*\[REDACTED KEY\] 401 /m);
    expect(output).not.toMatch(/^SG/m);
  });

  it("answers a request line Node cannot parse with 400 in SendGrid's envelope", async () => {
    // Act
    const raw = await rawExchange(port, 'get /v3/scopes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

    // Assert
    const { statusLine, headers, body } = parseResponse(raw);
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual({ errors: [{ field: null, message: 'bad request' }] });
  });

  it("answers headers over Node's limit with 431 in SendGrid's envelope", async () => {
    // Act
    const raw = await rawExchange(
      port,
      `GET /v3/scopes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    );

    // Assert
    const { statusLine, headers, body } = parseResponse(raw);
    expect(statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toEqual({
      errors: [{ field: null, message: 'request header fields too large' }],
    });
  });
});

describe('one server per data directory', () => {
  afterEach(cleanUp);

  it.each([
    ['a process that has exited', () => deadPid()],
    ['a live process that is not Keygate', () => process.pid],
  ])(
    'takes over a lock left by %s, then refuses a second start in one line',
    async (_holder, holderPid) => {
      // Arrange
      const dataDir = newDataDir();
      writeFileSync(join(dataDir, 'keygate.1.lock'), `${holderPid()}\n`, { mode: 0o600 });

      // Act
      const first = await startOrRefusal(dataDir, await freePort());
      const second = await startOrRefusal(dataDir, await freePort());
      await stopRunning([first, second]);

      // Assert
      expect(first.stderr).toBe('');
      expect(first.running?.pid).toBeDefined();
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`${refusal(dataDir, first.running?.pid ?? 0)}\n`);
      expect(second.stdout).toBe('');
    },
    START_TIMEOUT_MS,
  );

  it(
    'lets exactly one of two concurrent starts take over a stale lock',
    async () => {
      // Arrange
      const dataDir = newDataDir();
      writeFileSync(join(dataDir, 'keygate.1.lock'), `${deadPid()}\n`, { mode: 0o600 });
      const [portA, portB] = [await freePort(), await freePort()];

      // Act
      const results = await Promise.all([
        startOrRefusal(dataDir, portA),
        startOrRefusal(dataDir, portB),
      ]);
      await stopRunning(results);

      // Assert
      const outcomes = results.map((r) => (r.running ? 'running' : `exit ${r.code}`));
      expect(outcomes.sort()).toEqual(['exit 1', 'running']);
      const winner = results.find((r) => r.running)?.running?.pid ?? 0;
      expect(results.find((r) => !r.running)?.stderr).toBe(`${refusal(dataDir, winner)}\n`);
    },
    START_TIMEOUT_MS,
  );
});

describe('stopping npm start', () => {
  afterEach(cleanUp);

  it(
    'SIGTERM to the npm process stops the server and DynamoDB Local, freeing the port',
    async () => {
      // Arrange
      const dataDir = newDataDir();
      const port = await freePort();
      const npm = await startNpmStart(dataDir, port);
      expect(keygateServersOf(dataDir)).toHaveLength(1);
      expect(processesMentioning(dataDir)).toHaveLength(1);

      // Act
      const exited = once(npm.process, 'exit');
      npm.process.kill('SIGTERM');
      await exited;

      // Assert: npm waits for its script, so everything is gone by the time it exits.
      expect(keygateServersOf(dataDir)).toEqual([]);
      expect(processesMentioning(dataDir)).toEqual([]);
      expect(await accepts(port)).toBe(false);
    },
    START_TIMEOUT_MS,
  );

  it(
    'a SIGKILLed npm takes the server and DynamoDB Local with it',
    async () => {
      // Arrange
      const dataDir = newDataDir();
      const port = await freePort();
      const npm = await startNpmStart(dataDir, port);

      // Act
      const exited = once(npm.process, 'exit');
      npm.process.kill('SIGKILL');
      await exited;

      // Assert
      await until(
        () => keygateServersOf(dataDir).length === 0 && processesMentioning(dataDir).length === 0,
        'the server and its JVM are gone',
      );
      expect(await accepts(port)).toBe(false);
    },
    START_TIMEOUT_MS,
  );

  it(
    'a SIGKILLed server takes DynamoDB Local with it',
    async () => {
      // Arrange
      const dataDir = newDataDir();
      const instance = await startInstance(dataDir, await freePort());
      expect(processesMentioning(dataDir)).toHaveLength(1);

      // Act
      const exited = once(instance.process, 'exit');
      instance.process.kill('SIGKILL');
      await exited;

      // Assert
      await until(() => processesMentioning(dataDir).length === 0, 'the JVM is gone');
    },
    START_TIMEOUT_MS,
  );

  it(
    'the next start stops a DynamoDB Local an earlier server left running on its data directory',
    async () => {
      // Arrange: a JVM on the data directory that outlived its server, recorded in its pid file.
      const dataDir = newDataDir();
      mkdirSync(join(dataDir, 'dynamodb'), { mode: 0o700 });
      const orphan = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') });
      try {
        const [orphanPid] = processesMentioning(dataDir);
        expect(orphanPid).toBeDefined();
        writeFileSync(join(dataDir, 'dynamodb-local.pid'), `${orphanPid}\n`, { mode: 0o600 });

        // Act
        const instance = await startInstance(dataDir, await freePort());
        const jvms = processesMentioning(dataDir);
        await instance.stop();

        // Assert
        expect(jvms).toHaveLength(1);
        expect(jvms).not.toContain(orphanPid);
        expect(instance.output()).toContain(`Stopped DynamoDB Local (pid ${orphanPid})`);
      } finally {
        await orphan.stop();
      }
    },
    START_TIMEOUT_MS,
  );
});
