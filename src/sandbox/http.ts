import type { Request, Response } from 'express';

/** An error that becomes an HTTP response shaped like Canvas's (JSON for the API, an HTML page for browser routes). */
export class SandboxError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly html = false) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export const notFound = (): SandboxError => new SandboxError(404, { errors: [{ message: 'The specified resource does not exist.' }] });
/** Canvas's answer to a logged-in user without the right (distinct from the throttling 403). */
export const unauthorized = (): SandboxError => new SandboxError(403, { status: 'unauthorized', errors: [{ message: 'user not authorized to perform that action' }] });
export const badRequest = (message: string): SandboxError => new SandboxError(400, { errors: [{ message }] });
/** A 400 HTML page, as Canvas renders for a broken OIDC or deep-linking request. */
export const badRequestPage = (message: string): SandboxError => new SandboxError(400, message, true);

/** A string query/body value; arrays and objects are not strings. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Canvas list params arrive as `include[]=a&include[]=b`, `include=a` or `include[0]=a`. */
export function list(q: Record<string, unknown>, name: string): string[] {
  const v = q[name] ?? q[`${name}[]`];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v.map((x) => str(x)).filter((x): x is string => x !== undefined);
  if (typeof v === 'object' && v !== null) return Object.values(v).map((x) => str(x)).filter((x): x is string => x !== undefined);
  const s = str(v);
  return s === undefined ? [] : [s];
}

export function intParam(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
}

/**
 * Canvas-style pagination: `page`/`per_page` (default 10, max 100), and a `Link` header of absolute URLs with
 * `current`, `next`, `prev`, `first`, `last`. `sizeParam` is `limit` for the LTI services.
 */
export function paginate<T>(req: Request, res: Response, baseUrl: string, items: T[], o: { sizeParam?: string; defaultSize?: number; maxSize?: number } = {}): T[] {
  const sizeParam = o.sizeParam ?? 'per_page';
  const max = o.maxSize ?? 100;
  const requested = intParam(req.query[sizeParam]);
  const per = Math.max(1, Math.min(max, requested ?? o.defaultSize ?? 10));
  const page = Math.max(1, intParam(req.query.page) ?? 1);
  const last = Math.max(1, Math.ceil(items.length / per));
  const link = (p: number): string => {
    const u = new URL(baseUrl + req.originalUrl);
    u.searchParams.delete('access_token');
    u.searchParams.set('page', String(p));
    u.searchParams.set(sizeParam, String(per));
    return u.toString();
  };
  const rels = [`<${link(page)}>; rel="current"`];
  if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`);
  if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
  rels.push(`<${link(1)}>; rel="first"`, `<${link(last)}>; rel="last"`);
  res.setHeader('Link', rels.join(','));
  return items.slice((page - 1) * per, page * per);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[k] = part.slice(i + 1).trim();
    }
  }
  return out;
}

export function bearer(req: Request): string | undefined {
  const h = req.get('authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (m?.[1]) return m[1];
  return str(req.query.access_token);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
