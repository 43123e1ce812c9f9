import type { NextFunction, Request, Response, Router } from 'express';
import type { SessionContext } from '../lti/sessions';
import { authorize, type Action } from '../policies';
import { ForbiddenError } from './errors';
import { sameSecret } from '../lti/stateCookie';

/**
 * Session routes are declared as data: method, path, the policy action, the handler. The table is the
 * single list the authorization tests walk, so a new route cannot escape them.
 */
export interface SessionRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  action: Action;
  /** API routes answer JSON; page routes render views. */
  kind?: 'page' | 'api';
  handler: (ctx: SessionContext, req: Request, res: Response) => Promise<void> | void;
}

export const ROUTE_TABLE: SessionRoute[] = [];

export function defineRoutes(routes: SessionRoute[]): SessionRoute[] {
  for (const r of routes) {
    if (!r.action) throw new Error(`route ${r.method.toUpperCase()} ${r.path} has no policy action`);
    ROUTE_TABLE.push(r);
  }
  return routes;
}

/** Mounts routes on the session router: CSRF on every state change, then the policy, then the handler. */
export function mountRoutes(router: Router, routes: SessionRoute[]): void {
  for (const r of routes) {
    router[r.method](r.path, async (req: Request, res: Response, _next: NextFunction) => {
      const ctx = res.locals.ctx as SessionContext;
      if (r.method !== 'get') verifyCsrf(ctx, req);
      authorize(ctx, r.action, undefined);
      await r.handler(ctx, req, res);
    });
  }
}

function verifyCsrf(ctx: SessionContext, req: Request): void {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const sent = typeof body._csrf === 'string' ? body._csrf : req.get('x-csrf-token');
  if (!sameSecret(sent, ctx.csrfToken)) throw new ForbiddenError('This form has expired or did not come from microcred. Reload the page and try again.');
}

/** A JSON route's handler from a command or query: its answer is the body (status 200, or the one given). */
export const jsonRoute =
  (fn: (ctx: SessionContext, req: Request) => Promise<unknown>, status = 200): SessionRoute['handler'] =>
  async (ctx, req, res) => {
    res.status(status).json(await fn(ctx, req));
  };

/** A path parameter as a string ('' when absent). */
export const routeParam = (req: Request, name: string): string => String((req.params as Record<string, string>)[name] ?? '');
