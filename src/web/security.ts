import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Where microcred may be framed: the Canvas hosts it is registered with. The list is read from the
 * database (tenants' Canvas URLs, platform issuers) and cached for a minute, so every instance agrees
 * within that time; pages that know their tenant add its host themselves (`allowFraming`).
 */
export class FrameAncestors {
  private origins: string[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly load: () => Promise<string[]>, private readonly ttlMs = 60_000) {}

  current(): string[] {
    if (Date.now() - this.loadedAt > this.ttlMs && !this.loading) {
      this.loading = this.refresh().finally(() => (this.loading = undefined));
    }
    return this.origins;
  }

  async refresh(): Promise<void> {
    const list = await this.load().catch(() => this.origins);
    this.origins = [...new Set(list.map(originOf).filter((o): o is string => !!o))].sort();
    this.loadedAt = Date.now();
  }
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.hostname === 'localhost' || u.hostname === '127.0.0.1' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

function csp(frameAncestors: string[], formAction: string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob: https:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self' ${formAction.join(' ')}`.trim(),
    `frame-ancestors 'self' ${frameAncestors.join(' ')}`.trim(),
  ].join('; ');
}

/** Security headers for every response; no X-Frame-Options (Canvas frames us; CSP frame-ancestors decides). */
export function securityHeaders(frameAncestors: FrameAncestors, opts: { hsts: boolean }) {
  const base = helmet({
    contentSecurityPolicy: false,
    xFrameOptions: false,
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: opts.hsts ? { maxAge: 31536000, includeSubDomains: false } : false,
  });
  return (req: Request, res: Response, next: NextFunction) => {
    base(req, res, () => {
      res.setHeader('Content-Security-Policy', csp(frameAncestors.current(), []));
      res.locals.frameAncestors = frameAncestors;
      next();
    });
  };
}

/**
 * Sets this response's framing and form targets. Before a session exists any registered Canvas may frame the
 * page (plus `frameAncestors`); with `only`, just the hosts given may (a session page: its own tenant's Canvas).
 */
export function allowFraming(res: Response, extra: { frameAncestors?: (string | null | undefined)[]; formAction?: (string | null | undefined)[]; only?: boolean }): void {
  const known = extra.only ? [] : ((res.locals.frameAncestors as FrameAncestors | undefined)?.current() ?? []);
  const clean = (list?: (string | null | undefined)[]) => (list ?? []).map((u) => (u ? originOf(u) : undefined)).filter((o): o is string => !!o);
  res.setHeader('Content-Security-Policy', csp([...new Set([...known, ...clean(extra.frameAncestors)])], [...new Set(clean(extra.formAction))]));
}
