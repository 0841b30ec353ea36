import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it('gives the install, run and test commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');

    expect(firstScreen).toContain('npm ci');
    expect(firstScreen).toContain('npm test');
    expect(firstScreen).toContain('npm start');
  });
});
