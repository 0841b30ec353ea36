import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SAM_DYNAMODB_ENDPOINT_ENV, SAM_LOCAL, samEnvVars } from '../../infra/local-recipes.js';
import { ROUTE_LIST } from '../../shared/routes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** README.md and every page of docs/, by path from the repository's root. */
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown page's headings (outside code blocks), GitHub's `-1` for repeats. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of stripCode(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(heading ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The page without its fenced code blocks. */
function stripCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** Every relative link and image target of a page (no scheme, no `mailto:`). */
function relativeLinks(markdown: string): string[] {
  return [...stripCode(markdown).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('README', () => {
  const readme = read('README.md');
  const api = read('docs/api.md');
  const performance = read('docs/performance.md');
  const deploy = read('docs/deploy.md');

  it.each(ROUTE_LIST.map((r) => [`${r.method} ${r.path}`] as const))(
    'lists %s in the route table, and in the API page',
    (route) => {
      expect(readme).toContain(`| \`${route}`);
      expect(api).toContain(`| \`${route}`);
    },
  );

  it('stays under 12 KB', () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThan(12_288);
  });

  it.each(PAGES.map((page) => [page] as const))(
    '%s links only to files and headings that exist',
    (page) => {
      const broken: string[] = [];
      for (const target of relativeLinks(read(page))) {
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
        if (!existsSync(file)) {
          broken.push(`${target}: no such file`);
        } else if (anchor !== undefined) {
          const headings =
            statSync(file).isFile() && file.endsWith('.md')
              ? anchors(readFileSync(file, 'utf8'))
              : new Set<string>();
          if (!headings.has(decodeURIComponent(anchor))) broken.push(`${target}: no such heading`);
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it('links every page of docs/', () => {
    const linked = relativeLinks(readme).map((target) => target.split('#')[0]);
    for (const page of PAGES.filter((p) => p !== 'README.md')) expect(linked).toContain(page);
  });

  it('shows the bench chart it commits, and a figure for every target (docs/performance.md)', () => {
    const chart = /!\[[^\]]*\]\((bench-http\.svg)\)/.exec(performance)?.[1];

    expect(chart).toBeDefined();
    expect(existsSync(join(ROOT, 'docs', chart ?? ''))).toBe(true);
    expect(performance.match(/\| met \|/g)?.length ?? 0).toBeGreaterThanOrEqual(8);
  });

  describe('SAM and LocalStack recipes (docs/deploy.md)', () => {
    const from = deploy.indexOf('## SAM and LocalStack');
    const section = from < 0 ? '' : deploy.slice(from);
    /** The shell commands of the section's sh blocks, continuation lines joined. */
    const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
      .flatMap((m) => (m[1] ?? '').replace(/\\\n\s*/g, '').split('\n'))
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '');
    const command = (start: string) => {
      const found = commands.find((c) => c.startsWith(start));
      if (!found) throw new Error(`no command starting with "${start}" in the SAM section`);
      return found;
    };

    it('says they were not run here, and why', () => {
      expect(section).toMatch(/no Docker engine/);
      expect(section).toContain('npm start');
    });

    it('shows the exact env file the script writes (infra/local-recipes.ts)', () => {
      const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
      expect(JSON.parse(json ?? '')).toEqual(samEnvVars());
      expect(section).toContain(`\`${SAM_DYNAMODB_ENDPOINT_ENV}\``);
    });

    it('runs DynamoDB Local where the functions reach it, under the names the env file uses', () => {
      const port = SAM_LOCAL.dynamodbPort;
      expect(command('docker network create')).toBe(`docker network create ${SAM_LOCAL.network}`);
      expect(command('docker run -d --rm --name keygate-dynamodb')).toContain(
        `--name ${SAM_LOCAL.dynamodbContainer} --network ${SAM_LOCAL.network} -p 127.0.0.1:${port}:${port}`,
      );
      expect(command('npx tsx scripts/sam-local.ts')).toBeDefined();
      const sam = command('sam local start-api');
      expect(sam).toContain('-t cdk.out/Keygate.template.json');
      expect(sam).toContain(`--env-vars ${SAM_LOCAL.envFile}`);
      expect(sam).toContain(`--docker-network ${SAM_LOCAL.network}`);
    });

    it('registers arm64 emulation, and installs aws-cdk-local before calling its cdklocal', () => {
      expect(command('docker run --privileged --rm tonistiigi/binfmt')).toContain(
        '--install arm64',
      );
      const install = commands.findIndex((c) => /^npm install .*\baws-cdk-local\b/.test(c));
      const first = commands.findIndex((c) => c.startsWith('npx cdklocal'));
      expect(install).toBeGreaterThanOrEqual(0);
      expect(first).toBeGreaterThan(install);
      expect(command('docker run -d --rm --name keygate-localstack')).toContain(
        'LAMBDA_IGNORE_ARCHITECTURE=1',
      );
    });
  });

  it('gives the install, run and test commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');

    expect(firstScreen).toContain('npm ci');
    expect(firstScreen).toContain('npm test');
    expect(firstScreen).toContain('npm start');
  });
});
