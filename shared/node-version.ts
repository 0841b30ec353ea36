/**
 * The Node.js major Keygate's functions run on in Lambda (`nodejs24.x`), and the check that keeps
 * what runs their code elsewhere (npm start, the CLI, the bench) off older majors. No imports:
 * the `keygate` launcher loads this first, and it has to be able to say what is wrong on an old
 * Node.
 *
 * The esbuild target (`infra/constructs/bundling.ts`) is written from it; a unit test checks that
 * the construct's runtime names the same major and that the tests themselves run on it, so what
 * passes here ran on what Lambda runs.
 */
export const LAMBDA_NODE_MAJOR = 24;

/** The major of a `process.versions.node`-style version (`24.21.0` → 24). */
export function nodeMajor(version: string): number {
  return Number.parseInt(version, 10);
}

/**
 * Why `what` should not run on Node `version`, or undefined when it may: a major older than
 * Lambda's is refused (the code is built and tested for Lambda's, and the AWS SDK drops old
 * majors); a newer one is allowed, since a team's own Node may well be ahead of Lambda's.
 */
export function nodeVersionProblem(what: string, version: string): string | undefined {
  if (nodeMajor(version) >= LAMBDA_NODE_MAJOR) return undefined;
  return (
    `${what} runs on Node.js ${LAMBDA_NODE_MAJOR} or newer, as Keygate's functions do in Lambda ` +
    `(nodejs${LAMBDA_NODE_MAJOR}.x); this is Node.js ${version}. Through npm (npm start, npm test, ` +
    `npx keygate) the project's own node devDependency runs it: run npm ci, or ` +
    `npm install -D node@${LAMBDA_NODE_MAJOR} in a project without it, or install Node.js ` +
    `${LAMBDA_NODE_MAJOR}.`
  );
}
