#!/usr/bin/env node
// The `keygate` CLI. In this repository it runs the TypeScript sources through tsx, as `npm
// start` does; installed as a package, the built JavaScript in dist/ (with tsx registered when
// the project has it, so a keygate.config.ts loads).
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const source = new URL('../local/cli.ts', import.meta.url);
try {
  const { register } = await import('tsx/esm/api');
  register();
} catch (error) {
  if (existsSync(source) || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
}
const { runCli } = await import(existsSync(source) ? source.href : '../dist/local/cli.js');
process.exitCode = await runCli(process.argv.slice(2));
