import { build } from 'vite';

/**
 * The stacks host the web console, and `KeygateConsole` refuses to synthesize without the built
 * page: build it once for the whole infra run (about a second), as `npm run synth` does.
 */
export default async function setup(): Promise<void> {
  await build({ configFile: 'console/vite.config.ts', logLevel: 'warn' });
}
