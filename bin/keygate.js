#!/usr/bin/env node
// The `keygate` CLI. Loads the TypeScript sources through tsx, as `npm start` does.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { runCli } = await import('../local/cli.ts');
process.exitCode = await runCli(process.argv.slice(2));
