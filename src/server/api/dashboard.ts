import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

/** The live dashboard's files, served as they are: the page polls this node's own HTTP API. */
const ASSETS: ReadonlyMap<string, { readonly file: string; readonly type: string }> = new Map([
  ['/dashboard', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/dashboard/', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/dashboard/dashboard.js', { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' }],
  ['/dashboard/dashboard.css', { file: 'dashboard.css', type: 'text/css; charset=utf-8' }],
]);

const loaded = new Map<string, Buffer>();

function contentOf(file: string): Buffer {
  let content = loaded.get(file);
  if (content === undefined) {
    content = readFileSync(new URL(`./dashboard/${file}`, import.meta.url));
    loaded.set(file, content);
  }
  return content;
}

/**
 * Answers `GET /` (to the dashboard) and the dashboard's own paths; false for any other path. The
 * page runs only its own script and talks only to this node (`default-src 'self'`).
 */
export function serveDashboard(path: string, response: ServerResponse): boolean {
  if (path === '/') {
    response.writeHead(302, { location: '/dashboard' });
    response.end();
    return true;
  }
  const asset = ASSETS.get(path);
  if (asset === undefined) return false;
  const content = contentOf(asset.file);
  response.writeHead(200, {
    'content-type': asset.type,
    'content-length': content.length,
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  response.end(content);
  return true;
}
