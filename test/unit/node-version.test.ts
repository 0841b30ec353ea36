import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLING, LAMBDA_RUNTIME } from '../../infra/constructs/bundling.js';
import { LAMBDA_NODE_MAJOR, nodeMajor, nodeVersionProblem } from '../../shared/node-version.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const PACKAGE = JSON.parse(read('package.json')) as {
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
const LOCK = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; devDependencies?: Record<string, string> }>;
};

describe('one Node.js major, in Lambda and here', () => {
  it('the functions deploy on it and are bundled for it', () => {
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${LAMBDA_NODE_MAJOR}.x`);
    expect(LAMBDA_BUNDLING.target).toBe(`node${LAMBDA_NODE_MAJOR}`);
  });

  it('these tests run on it (npm scripts and npx put the node devDependency first on PATH)', () => {
    expect(nodeMajor(process.versions.node)).toBe(LAMBDA_NODE_MAJOR);
  });

  it('the node devDependency is pinned to an exact version of it, in package.json and the lock', () => {
    const pinned = PACKAGE.devDependencies.node;

    expect(pinned).toMatch(new RegExp(`^${LAMBDA_NODE_MAJOR}\\.\\d+\\.\\d+$`));
    expect(LOCK.packages['']?.devDependencies?.node).toBe(pinned);
    expect(LOCK.packages['node_modules/node']?.version).toBe(pinned);
    // Its preinstall script fetches the binary: without it, npm scripts would fall back to the
    // system's node.
    expect(PACKAGE.allowScripts.node).toBe(true);
  });
});

describe('nodeVersionProblem', () => {
  it('refuses an older major, naming it, the one needed and how to get it', () => {
    const problem = nodeVersionProblem('The keygate CLI', '20.20.2');

    expect(problem).toContain('The keygate CLI runs on Node.js 24 or newer');
    expect(problem).toContain('nodejs24.x');
    expect(problem).toContain('this is Node.js 20.20.2');
    expect(problem).toContain('npm install -D node@24');
    expect(nodeVersionProblem('npm start', '23.11.1')).toContain('npm start runs on Node.js 24');
  });

  it("accepts Lambda's major and newer ones", () => {
    expect(nodeVersionProblem('npm start', '24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('npm start', '26.1.0')).toBeUndefined();
  });
});
