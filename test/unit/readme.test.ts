import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAM_DYNAMODB_ENDPOINT_ENV, SAM_LOCAL, samEnvVars } from '../../infra/local-recipes.js';
import { ROUTE_LIST } from '../../shared/routes.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it.each(ROUTE_LIST.map((r) => [`${r.method} ${r.path}`] as const))(
    'lists %s in the API table',
    (route) => {
      expect(readme).toContain(`| \`${route}`);
    },
  );

  it('shows the bench chart it commits, and a figure for every target', () => {
    const chart = /!\[[^\]]*\]\((docs\/bench-http\.svg)\)/.exec(readme)?.[1];

    expect(chart).toBeDefined();
    expect(existsSync(new URL(`../../${chart}`, import.meta.url))).toBe(true);
    const targets = readme.split('## Performance')[1]?.split('\n## ')[0] ?? '';
    expect(targets.match(/\| met \|/g)?.length ?? 0).toBeGreaterThanOrEqual(8);
  });

  describe('SAM and LocalStack recipes', () => {
    const section = readme.slice(
      readme.indexOf('## SAM and LocalStack'),
      readme.indexOf('## Key format'),
    );
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
