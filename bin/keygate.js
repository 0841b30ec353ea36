#!/usr/bin/env node
// The `keygate` CLI. In this repository it runs the TypeScript sources through tsx, as `npm
// start` does; installed as a package, the built JavaScript in dist/ (with tsx registered when
// the project has it, so a keygate.config.ts loads).
import { existsSync } from 'node:fs';

const inRepository = existsSync(new URL('../local/cli.ts', import.meta.url));
/** One of the CLI's modules: the source here, the built JavaScript in the package. */
const cliModule = (path) =>
  new URL(inRepository ? `../${path}.ts` : `../dist/${path}.js`, import.meta.url).href;
try {
  const { register } = await import('tsx/esm/api');
  register();
} catch (error) {
  if (inRepository || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
}
// Before the CLI loads: on a Node older than Lambda's it says so, and how to get Lambda's,
// rather than running the same domain code as the functions on a major nothing tested.
const { nodeVersionProblem } = await import(cliModule('shared/node-version'));
const problem = nodeVersionProblem('The keygate CLI', process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
const { runCli } = await import(cliModule('local/cli'));
process.exitCode = await runCli(process.argv.slice(2));
