import { readFileSync } from 'node:fs';
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

  it('gives the install, run and test commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');

    expect(firstScreen).toContain('npm ci');
    expect(firstScreen).toContain('npm test');
    expect(firstScreen).toContain('npm start');
  });
});
