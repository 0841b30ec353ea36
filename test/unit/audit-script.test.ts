import { describe, expect, it, vi } from 'vitest';

// The decision is tested on canned `npm audit --json` outputs: importing the script must not run
// npm (it runs only as the entry point), and any attempt to would fail this file.
vi.mock('node:child_process', () => ({
  spawnSync: () => {
    throw new Error('the audit script ran npm on import');
  },
}));

const { evaluateAudit } = await import('../../scripts/audit.js');

/** npm 7+ report shape (`auditReportVersion: 2`). */
function report(
  vulnerabilities: Record<string, unknown>,
  counts: Partial<Record<'info' | 'low' | 'moderate' | 'high' | 'critical', number>>,
) {
  const all = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts };
  return JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: {
      vulnerabilities: { ...all, total: Object.values(all).reduce((a, b) => a + b, 0) },
      dependencies: { prod: 120, dev: 0, optional: 3, peer: 0, peerOptional: 0, total: 122 },
    },
  });
}

const advisory = (name: string, severity: string, title: string) => ({
  name,
  severity,
  isDirect: false,
  via: [
    {
      source: 1101234,
      name,
      dependency: name,
      title,
      url: 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz',
      severity,
      cwe: ['CWE-1333'],
      cvss: { score: 7.5, vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' },
      range: '<4.4.1',
    },
  ],
  effects: ['@aws-sdk/core'],
  range: '<4.4.1',
  nodes: [`node_modules/${name}`],
  fixAvailable: true,
});

const through = (name: string, severity: string, dependency: string) => ({
  name,
  severity,
  isDirect: true,
  via: [dependency],
  effects: [],
  range: '3.0.0 - 3.600.0',
  nodes: [`node_modules/${name}`],
  fixAvailable: true,
});

/** What npm 11 printed on this machine, whose registry mirror has no audit API. */
const ENDPOINT_405 = JSON.stringify({
  message:
    '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  uri: 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  headers: { allow: ['GET,HEAD'], 'content-length': ['0'], 'x-fetch-attempts': ['1'] },
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
});

describe('npm run audit: the decision on npm audit --omit=dev --json', () => {
  it('fails on a high advisory, naming the package and the advisory', () => {
    // Arrange
    const output = report(
      {
        'fast-xml-parser': advisory('fast-xml-parser', 'high', 'fast-xml-parser has a ReDoS'),
        '@aws-sdk/core': through('@aws-sdk/core', 'high', 'fast-xml-parser'),
      },
      { high: 2 },
    );

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(1);
    expect(outcome.level).toBe('fail');
    expect(outcome.lines.join('\n')).toContain('fast-xml-parser has a ReDoS');
    expect(outcome.lines.join('\n')).toContain('@aws-sdk/core');
    expect(outcome.lines.at(-1)).toContain('2 high');
  });

  it('fails on a critical advisory among moderate ones', () => {
    // Arrange
    const output = report(
      {
        tar: advisory('tar', 'critical', 'Arbitrary file overwrite'),
        ms: advisory('ms', 'moderate', 'Inefficient regular expression'),
      },
      { critical: 1, moderate: 1 },
    );

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines.join('\n')).toContain('critical: tar');
    expect(outcome.lines.join('\n')).not.toContain('moderate: ms');
  });

  it('fails when the counts say high even if the details are missing', () => {
    // Act
    const outcome = evaluateAudit(report({}, { high: 1 }));

    // Assert
    expect(outcome.exitCode).toBe(1);
  });

  it('fails on a high advisory in an npm 6 report', () => {
    // Arrange
    const output = JSON.stringify({
      advisories: {
        1179: {
          module_name: 'minimist',
          severity: 'high',
          title: 'Prototype Pollution',
          url: 'https://npmjs.com/advisories/1179',
          vulnerable_versions: '<1.2.6',
        },
      },
      metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 1, critical: 0 } },
    });

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines.join('\n')).toContain('high: minimist <1.2.6: Prototype Pollution');
  });

  it('passes with only low and moderate advisories, and says how many', () => {
    // Arrange
    const output = report(
      {
        ms: advisory('ms', 'moderate', 'Inefficient regular expression'),
        debug: advisory('debug', 'low', 'Regular expression denial of service'),
      },
      { moderate: 1, low: 1 },
    );

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome).toEqual({
      exitCode: 0,
      level: 'ok',
      lines: [
        'audit: no high or critical advisories in production dependencies (0 critical, 0 high, 1 moderate, 1 low, 0 info)',
      ],
    });
  });

  it('passes with no advisories', () => {
    // Act
    const outcome = evaluateAudit(report({}, {}));

    // Assert
    expect(outcome.exitCode).toBe(0);
    expect(outcome.level).toBe('ok');
  });

  it('warns in one line and passes when the audit endpoint answers 405 (a mirror without it)', () => {
    // Act
    const outcome = evaluateAudit(ENDPOINT_405);

    // Assert
    expect(outcome.exitCode).toBe(0);
    expect(outcome.level).toBe('warn');
    expect(outcome.lines).toEqual([
      "audit: WARNING: the registry's audit endpoint is unavailable (405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk); production dependencies were NOT checked for advisories",
    ]);
  });

  it.each([404, 501, 503])('warns and passes when the audit endpoint answers %i', (statusCode) => {
    // Arrange
    const output = JSON.stringify({
      ...JSON.parse(ENDPOINT_405),
      statusCode,
      message: `${statusCode} - POST https://registry.example.com/-/npm/v1/security/advisories/bulk`,
    });

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(0);
    expect(outcome.lines).toHaveLength(1);
    expect(outcome.lines[0]).toMatch(/WARNING.*NOT checked/);
  });

  it('warns and passes when the audit endpoint cannot be reached at all', () => {
    // Arrange
    const output = JSON.stringify({
      message:
        'request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org',
      error: { summary: '', detail: '' },
    });

    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(0);
    expect(outcome.lines).toHaveLength(1);
    expect(outcome.lines[0]).toContain('ENOTFOUND');
  });

  it.each([
    [
      'the endpoint refusing the request (403)',
      JSON.stringify({ ...JSON.parse(ENDPOINT_405), statusCode: 403, message: '403 Forbidden' }),
    ],
    [
      'an error from another URL than the audit endpoint',
      JSON.stringify({
        message: '405 Method Not Allowed - GET https://registry.npmjs.org/some-package',
        uri: 'https://registry.npmjs.org/some-package',
        statusCode: 405,
      }),
    ],
    [
      'no lockfile',
      JSON.stringify({
        error: {
          code: 'ENOLOCK',
          summary: 'This command requires an existing lockfile.',
          detail: 'Try creating one first with: npm i --package-lock-only',
        },
      }),
    ],
    ['output that is not JSON', 'npm error audit endpoint returned an error'],
    ['empty output', ''],
    ['JSON that is not a report', '[]'],
  ])('fails (does not mask) on %s', (_case, output) => {
    // Act
    const outcome = evaluateAudit(output);

    // Assert
    expect(outcome.exitCode).toBe(1);
    expect(outcome.level).toBe('fail');
    expect(outcome.lines[0]).toMatch(/^audit: FAILED: /);
  });
});
