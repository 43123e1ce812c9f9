import type { Page } from './browser';

/** The session a launched page carries: its URL prefix (for API calls) and its CSRF token. */
export function sessionOf(page: Page): { base: string; csrf: string; api(path: string, init?: { method?: string; json?: unknown }): Promise<Response> } {
  const u = new URL(page.url);
  const token = u.pathname.split('/')[2];
  if (!token) throw new Error(`not a session page: ${page.url}`);
  const base = `${u.origin}/s/${token}`;
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.body)?.[1] ?? '';
  return {
    base,
    csrf,
    api(path, init = {}) {
      const headers: Record<string, string> = { Accept: 'application/json', 'X-CSRF-Token': csrf };
      if (init.json !== undefined) headers['Content-Type'] = 'application/json';
      return fetch(base + path, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
    },
  };
}
