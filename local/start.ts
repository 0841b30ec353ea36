import { type RunningKeygate, StartupError, startKeygate } from './runtime.js';
import { dataDirFromEnv } from './runtime-file.js';

/**
 * `npm start`: all of Keygate on this machine. Prints one `Keygate listening on …` line when
 * ready, one line per request, and stops everything (DynamoDB Local's JVM included) on Ctrl-C,
 * SIGTERM or SIGHUP, or when the process that started it goes away. Start-up problems print one
 * line saying what to do and exit 1.
 */

// Everything this server writes (the data directory, DynamoDB Local's files, the outbox,
// runtime.json with its control token) is for this user only.
process.umask(0o077);
// Taken before start-up, so a parent that dies while we start is noticed too.
const parent = process.ppid;

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a TCP port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(1);
}
// API Gateway accepts authorizer cache TTLs from 0 (off) to 3600 s.
const ttlText = process.env.KEYGATE_AUTHORIZER_CACHE_TTL;
const authorizerCacheTtlSeconds =
  ttlText === undefined || ttlText === '' ? undefined : Number(ttlText);
// Digits only: Number() would also take ' ', '1e3' and '0x10'.
if (
  ttlText !== undefined &&
  ttlText !== '' &&
  !(/^\d{1,4}$/.test(ttlText) && Number(ttlText) <= 3600)
) {
  console.error(
    `KEYGATE_AUTHORIZER_CACHE_TTL must be whole seconds from 0 (off) to 3600, got ${JSON.stringify(ttlText)}`,
  );
  process.exit(1);
}
// How often the key-warnings scan runs (the stack's is hourly): whole seconds, 0 turns it off.
const scanText = process.env.KEYGATE_WARNING_SCAN_SECONDS;
if (scanText !== undefined && scanText !== '' && !/^\d{1,5}$/.test(scanText)) {
  console.error(
    `KEYGATE_WARNING_SCAN_SECONDS must be whole seconds (0: no scan), got ${JSON.stringify(scanText)}`,
  );
  process.exit(1);
}
const warningScanIntervalMs =
  scanText === undefined || scanText === '' ? undefined : Number(scanText) * 1000;
const dataDir = dataDirFromEnv();
const PARENT_CHECK_MS = 500;
const log = (line: string) => process.stdout.write(`${line}\n`);

let running: RunningKeygate;
try {
  running = await startKeygate({
    dataDir,
    port,
    log,
    ...(authorizerCacheTtlSeconds === undefined ? {} : { authorizerCacheTtlSeconds }),
    ...(warningScanIntervalMs === undefined ? {} : { warningScanIntervalMs }),
  });
} catch (error) {
  const message =
    error instanceof StartupError ? error.message : `Keygate could not start: ${String(error)}`;
  console.error(message);
  process.exit(1);
}

if (running.newOwnerKey) {
  log(`Created the account "local" in ${dataDir}. Its owner key, which holds every scope:`);
  log(`  ${running.newOwnerKey}`);
  log('Store it now: it will not be shown again.');
}
log(`Keygate listening on ${running.url}`);

let stopping = false;
function stop(reason: string): void {
  if (stopping) return;
  stopping = true;
  log(`Stopping Keygate (${reason})…`);
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`Keygate did not stop cleanly: ${String(error)}`);
      process.exit(1);
    },
  );
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => stop(signal));
}

// `npm start` runs this in place of its shell (`exec` in the script), so npm's forwarded SIGTERM
// reaches us. If npm itself dies without forwarding anything (SIGKILL), we are re-parented:
// stop then too, rather than keep the port and the data directory. (A parent that is init
// itself, pid 1 or 0 in a container, never goes away: nothing to watch.)
if (parent > 1) {
  setInterval(() => {
    if (process.ppid !== parent) stop('its parent process exited');
  }, PARENT_CHECK_MS).unref();
}
