import { type RunningKeygate, StartupError, startKeygate } from './runtime.js';
import { dataDirFromEnv } from './runtime-file.js';

/**
 * `npm start`: all of Keygate on this machine. Prints one `Keygate listening on …` line when
 * ready, one line per request, and stops everything (DynamoDB Local's JVM included) on Ctrl-C or
 * SIGTERM. Start-up problems print one line saying what to do and exit 1.
 */
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
const dataDir = dataDirFromEnv();
const log = (line: string) => process.stdout.write(`${line}\n`);

let running: RunningKeygate;
try {
  running = await startKeygate({
    dataDir,
    port,
    log,
    ...(authorizerCacheTtlSeconds === undefined ? {} : { authorizerCacheTtlSeconds }),
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
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('Stopping Keygate…');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Keygate did not stop cleanly: ${String(error)}`);
        process.exit(1);
      },
    );
  });
}
