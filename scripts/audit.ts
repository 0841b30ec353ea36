/**
 * `npm run audit`: `npm audit --omit=dev --json`, judged here.
 *
 * - Any high or critical advisory in a production dependency: lists them, exits 1.
 * - Only low or moderate ones, or none: one summary line, exits 0.
 * - The registry's audit endpoint itself unavailable (a mirror without the audit API answers
 *   404/405/501, an overloaded one 429/5xx, or it cannot be reached): ONE warning line saying
 *   that nothing was checked, exits 0, so CI is not blocked by the registry, and says so.
 * - Anything else (no lockfile, a refused request, output that is not an audit report): exits 1.
 *   A failure to audit is never taken for a clean audit.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface AuditOutcome {
  exitCode: 0 | 1;
  /** `ok`: printed to stdout; `warn` and `fail`: to stderr. */
  level: 'ok' | 'warn' | 'fail';
  lines: string[];
}

const BLOCKING = ['critical', 'high'] as const;

/** Statuses with which a registry says it has no audit API (404, 405, 501) or is down. */
const ENDPOINT_UNAVAILABLE_STATUSES = new Set([404, 405, 408, 429, 500, 501, 502, 503, 504]);

/** The audit API's path on a registry (`/-/npm/v1/security/advisories/bulk`, `…/audits/quick`). */
const AUDIT_PATH = '/-/npm/v1/security/';

/** How npm words a request that got no response (DNS, refused, reset, timed out). */
const NO_RESPONSE = /^request to \S+ failed, reason: /;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Decides from the JSON `npm audit --omit=dev --json` printed. Pure: no npm, no I/O. */
export function evaluateAudit(stdout: string): AuditOutcome {
  let report: unknown;
  try {
    report = JSON.parse(stdout);
  } catch {
    return fail(`npm audit did not print a JSON report: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (!isObject(report)) return fail('npm audit printed JSON that is not an audit report');
  const metadata = isObject(report.metadata) ? report.metadata : undefined;
  if (metadata && isObject(metadata.vulnerabilities)) {
    return judgeReport(report, metadata.vulnerabilities);
  }
  const unavailable = endpointUnavailable(report);
  if (unavailable) {
    return {
      exitCode: 0,
      level: 'warn',
      lines: [
        `audit: WARNING: the registry's audit endpoint is unavailable (${unavailable}); production dependencies were NOT checked for advisories`,
      ],
    };
  }
  const error = isObject(report.error) ? report.error : {};
  const reason = [report.message, error.code, error.summary].filter(
    (part) => typeof part === 'string' && part !== '',
  );
  return fail(`npm audit failed: ${reason.join(' ') || JSON.stringify(report).slice(0, 200)}`);
}

function judgeReport(report: Json, counts: Json): AuditOutcome {
  const count = (severity: string) => {
    const value = counts[severity];
    return typeof value === 'number' ? value : 0;
  };
  const findings = blockingFindings(report);
  const blocking = BLOCKING.reduce((sum, severity) => sum + count(severity), 0);
  const summary = ['critical', 'high', 'moderate', 'low', 'info']
    .map((severity) => `${count(severity)} ${severity}`)
    .join(', ');
  if (blocking === 0 && findings.length === 0) {
    return {
      exitCode: 0,
      level: 'ok',
      lines: [`audit: no high or critical advisories in production dependencies (${summary})`],
    };
  }
  return {
    exitCode: 1,
    level: 'fail',
    lines: [
      ...findings,
      `audit: FAILED: high or critical advisories in production dependencies (${summary}); run \`npm audit --omit=dev\` for details`,
    ],
  };
}

/** One line per high or critical finding, from a v2 report (npm 7+) or a v1 one (npm 6). */
function blockingFindings(report: Json): string[] {
  const lines: string[] = [];
  const blocking = (severity: unknown) =>
    typeof severity === 'string' && (BLOCKING as readonly string[]).includes(severity);
  if (isObject(report.vulnerabilities)) {
    for (const [name, entry] of Object.entries(report.vulnerabilities)) {
      if (!isObject(entry) || !blocking(entry.severity)) continue;
      const advisories = (Array.isArray(entry.via) ? entry.via : [])
        .filter(isObject)
        .map((via) => [via.title, via.url].filter((s) => typeof s === 'string').join(' '));
      const via = (Array.isArray(entry.via) ? entry.via : []).filter((v) => typeof v === 'string');
      const what = advisories.length > 0 ? advisories.join('; ') : `through ${via.join(', ')}`;
      lines.push(`audit: ${String(entry.severity)}: ${name} ${String(entry.range ?? '')}: ${what}`);
    }
  }
  if (isObject(report.advisories)) {
    for (const advisory of Object.values(report.advisories)) {
      if (!isObject(advisory) || !blocking(advisory.severity)) continue;
      lines.push(
        `audit: ${String(advisory.severity)}: ${String(advisory.module_name)} ${String(advisory.vulnerable_versions ?? '')}: ${String(advisory.title ?? '')} ${String(advisory.url ?? '')}`.trimEnd(),
      );
    }
  }
  return lines;
}

/**
 * Why the audit endpoint could not answer, or `undefined` if the error is something else. npm
 * prints `{message, method, uri, headers, statusCode, body, error}` when the endpoint answers
 * with an error, and the request's message when nothing answered.
 */
function endpointUnavailable(report: Json): string | undefined {
  const message = typeof report.message === 'string' ? report.message : '';
  const uri = typeof report.uri === 'string' ? report.uri : '';
  if (!uri.includes(AUDIT_PATH) && !message.includes(AUDIT_PATH)) return undefined;
  if (typeof report.statusCode === 'number') {
    return ENDPOINT_UNAVAILABLE_STATUSES.has(report.statusCode) ? message : undefined;
  }
  return NO_RESPONSE.test(message) ? message : undefined;
}

function fail(line: string): AuditOutcome {
  return { exitCode: 1, level: 'fail', lines: [`audit: FAILED: ${line}`] };
}

/** Runs npm (the one running this script under `npm run`, else the one on the PATH). */
function runNpmAudit(): { stdout: string; stderr: string; error?: Error } {
  const args = ['audit', '--omit=dev', '--json'];
  const npmCli = process.env.npm_execpath;
  const [command, commandArgs] =
    npmCli && /npm-cli\.c?js$/.test(npmCli)
      ? [process.execPath, [npmCli, ...args]]
      : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
  const run = spawnSync(command, commandArgs, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return run.error
    ? { stdout: '', stderr: '', error: run.error }
    : { stdout: run.stdout, stderr: run.stderr };
}

function main(): void {
  const { stdout, stderr, error } = runNpmAudit();
  const outcome = error ? fail(`could not run npm audit: ${error.message}`) : evaluateAudit(stdout);
  // npm's own log lines only when they help: on a failure, not beside the one warning line.
  if (outcome.level === 'fail' && stderr.trim() !== '') console.error(stderr.trimEnd());
  for (const line of outcome.lines) {
    if (outcome.level === 'ok') console.log(line);
    else console.error(line);
  }
  process.exitCode = outcome.exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
