import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_SECURITY_HEADERS } from '../shared/console-headers.js';
import type { EmulatorResponse } from './emulator.js';

/** The built console (`npm run build:console`), served by the local runtime beside the API. */
export const CONSOLE_DIST = fileURLToPath(new URL('../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/**
 * The console file for a GET path, or undefined when the path is not one (the API then answers).
 * Paths cannot leave the dist folder; hashed assets are cached for a year, the page never.
 */
export function consoleFile(
  pathname: string,
  root: string = CONSOLE_DIST,
): EmulatorResponse | undefined {
  const relative = pathname === '/' ? 'index.html' : decodeSafe(pathname).replace(/^\/+/, '');
  const file = normalize(join(root, relative));
  if (!file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return undefined;
  try {
    if (!statSync(file).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const immutable = relative.startsWith('assets/');
  return {
    status: 200,
    headers: {
      ...CONSOLE_SECURITY_HEADERS,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
    },
    body: readFileSync(file, 'utf8'),
  };
}

function decodeSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
