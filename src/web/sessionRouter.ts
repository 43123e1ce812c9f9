import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SessionRepository, SessionContext } from '../lti/sessions';
import { primaryRole, ROLE_LABELS } from '../lti/roles';
import { navFor } from '../homes/routes';
import { UnauthorizedError } from './errors';
import { allowFraming } from './security';
import { mountRoutes, type SessionRoute } from './routeTable';

/**
 * Everything after a launch lives under /s/<session token>/…: the token in the path carries the session
 * where third-party cookies are blocked. This router loads the session, prepares what every view needs,
 * lets the tenant's Canvas frame the page, and mounts the feature routes.
 */
export function sessionRouter(deps: { sessions: SessionRepository; routes: SessionRoute[] }): Router {
  const router = express.Router({ mergeParams: true });
  router.use(express.urlencoded({ extended: false, limit: '256kb' }));
  router.use(express.json({ limit: '1mb' }));
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = String((req.params as Record<string, string>).token ?? '');
    const ctx = await deps.sessions.load(token);
    if (!ctx) throw new UnauthorizedError('Your microcred session has ended or the link is not valid.', { title: 'Session ended', hint: 'Open microcred again from Canvas.', code: 'session_expired' });
    exposeToViews(res, ctx, req.path);
    allowFraming(res, { frameAncestors: [ctx.tenant.canvasBaseUrl, ctx.tenant.issuer], formAction: [ctx.launch.deepLinking?.returnUrl], only: true });
    res.set('Cache-Control', 'no-store');
    next();
  });
  mountRoutes(router, deps.routes);
  return router;
}

function exposeToViews(res: Response, ctx: SessionContext, path: string): void {
  const role = primaryRole(ctx.roles);
  res.locals.session = { userName: ctx.user.name ?? 'you', roleLabel: role ? ROLE_LABELS[role] : '', courseTitle: ctx.course?.title ?? '' };
  res.locals.ctx = ctx;
  res.locals.nav = navFor(ctx, path);
  res.locals.url = (p: string) => ctx.base + (p.startsWith('/') ? p : '/' + p);
  res.locals.csrfToken = ctx.csrfToken;
}
