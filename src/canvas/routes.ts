import { describeApi } from '../web/openapi';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { SessionContext } from '../lti/sessions';
import { can } from '../policies';
import { defineRoutes } from '../web/routeTable';
import { InvalidInputError } from '../web/errors';
import { wantsJson } from '../web/errorHandler';
import type { CanvasAccess } from './access';
import { CanvasAuthorizationRequired } from './errors';

/**
 * Canvas API access pages and JSON:
 * - `/canvas/connect` explains and links (new tab) to `/canvas/connect/start`, which sends the browser to Canvas's
 *   consent page: Canvas's login cannot run inside its own iframe, so it needs a top-level window.
 * - `/canvas/oauth/callback` (public, top-level) finishes the flow and tells the person to return.
 * - `/admin/canvas` and `/api/canvas/*` let an admin set the API developer key and the service token.
 */

const ApiKeyBody = z.object({
  clientId: z.string().trim().min(1, 'Enter the developer key’s client id.').max(64, 'That is too long for a client id.').regex(/^[A-Za-z0-9_.~-]+$/, 'A client id has only letters, digits and - _ . ~'),
  clientSecret: z.string().trim().max(512, 'That is too long for a client secret.').optional(),
});
const ServiceTokenBody = z.object({ token: z.string().trim().min(1, 'Paste the access token.').max(512, 'That is too long for a Canvas token.') });

/** A local path to return to after connecting (never another site). */
function safeNext(v: unknown): string {
  return typeof v === 'string' && /^\/[A-Za-z0-9/_-]*$/.test(v) && !v.startsWith('//') ? v : '/';
}

function fieldsOf(err: z.ZodError, map: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of err.issues) {
    const k = map[String(i.path[0])] ?? String(i.path[0]);
    out[k] ??= i.message;
  }
  return out;
}

/** The "Connect microcred to Canvas" page: what is set up, whether this person is connected, and the link. */
async function renderConnect(access: CanvasAccess, ctx: SessionContext, res: Response, o: { next: string; status?: number; reason?: CanvasAuthorizationRequired }): Promise<void> {
  const settings = await access.store.settings(ctx.tenant.id);
  const row = await access.store.userToken(ctx.tenant.id, ctx.user.id);
  res.status(o.status ?? 200).render('canvas/connect', {
    title: 'Connect microcred to Canvas',
    configured: !!settings.clientId && settings.hasClientSecret && !!ctx.tenant.canvasBaseUrl,
    connected: !!row && !row.revokedAt,
    revoked: !!row?.revokedAt || o.reason?.reason === 'revoked' || o.reason?.reason === 'refresh_failed',
    serviceToken: settings.serviceToken.set,
    isAdmin: can(ctx, 'canvas.admin'),
    next: o.next,
    reason: o.reason?.message,
  });
}

export function canvasRoutes(deps: { access: CanvasAccess }) {
  const { access } = deps;

  async function saveServiceToken(ctx: SessionContext, token: string): Promise<string> {
    // Check it before keeping it: Canvas must accept it, and the admin page names whom it acts as.
    const client = access.clientWithToken(ctx.tenant, token);
    try {
      const me = await client.getSelf();
      await access.store.setServiceToken(ctx.tenant.id, token, { setBy: ctx.user.id, canvasUser: `${me.name} (${me.id})` });
      return me.name;
    } catch (err) {
      if (err instanceof CanvasAuthorizationRequired) throw new InvalidInputError('Canvas does not accept this token.', { token: 'Canvas does not accept this token. Check that it was copied whole and has not expired.' });
      throw err;
    }
  }

  async function renderAdmin(ctx: SessionContext, res: Response, o: { status?: number; errors?: Record<string, string>; values?: Record<string, string>; saved?: string } = {}): Promise<void> {
    const settings = await access.store.settings(ctx.tenant.id);
    const flash = o.saved === 'api-key' ? [{ kind: 'success', text: 'The Canvas API key was saved.' }] : o.saved === 'service-token' ? [{ kind: 'success', text: 'The service token was saved.' }] : o.saved === 'service-token-cleared' ? [{ kind: 'success', text: 'The service token was removed.' }] : [];
    res.status(o.status ?? 200).render('canvas/admin', { title: 'Canvas API access', settings, redirectUri: access.redirectUri(), errors: o.errors, values: o.values ?? {}, flash, canvasBaseUrl: ctx.tenant.canvasBaseUrl });
  }

  return defineRoutes([
    {
      method: 'get',
      path: '/canvas/connect',
      action: 'canvas.connect',
      handler: (ctx, req, res) => renderConnect(access, ctx, res, { next: safeNext(req.query.next) }),
    },
    {
      method: 'get',
      path: '/canvas/connect/start',
      action: 'canvas.connect',
      handler: async (ctx, _req, res) => {
        res.redirect(303, await access.authorizeUrl(ctx));
      },
    },
    {
      method: 'post',
      path: '/canvas/disconnect',
      action: 'canvas.connect',
      handler: async (ctx, _req, res) => {
        await access.disconnect(ctx);
        res.redirect(303, `${ctx.base}/canvas/connect`);
      },
    },
    {
      method: 'get',
      path: '/api/canvas/connection',
      action: 'canvas.connect',
      kind: 'api',
      // Makes a real call, so "connected" means Canvas accepts the token now.
      handler: async (ctx, _req, res) => {
        const client = await access.forSession(ctx);
        const me = await client.getSelf();
        res.json({ connected: true, actingAs: client.actingAs, canvasUser: { id: me.id, name: me.name } });
      },
    },
    {
      method: 'get',
      path: '/admin/canvas',
      action: 'canvas.admin',
      handler: (ctx, req, res) => renderAdmin(ctx, res, { saved: typeof req.query.saved === 'string' ? req.query.saved : undefined }),
    },
    {
      method: 'post',
      path: '/admin/canvas/api-key',
      action: 'canvas.admin',
      handler: async (ctx, req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const parsed = ApiKeyBody.safeParse({ clientId: body.client_id, clientSecret: body.client_secret || undefined });
        const settings = await access.store.settings(ctx.tenant.id);
        const errors = parsed.success ? {} : fieldsOf(parsed.error, { clientId: 'client_id', clientSecret: 'client_secret' });
        if (parsed.success && !parsed.data.clientSecret && !settings.hasClientSecret) errors.client_secret = 'Enter the developer key’s client secret.';
        if (!parsed.success || Object.keys(errors).length) return renderAdmin(ctx, res, { status: 400, errors, values: { client_id: typeof body.client_id === 'string' ? body.client_id : '' } });
        await access.store.setApiKey(ctx.tenant.id, parsed.data.clientId, parsed.data.clientSecret);
        res.redirect(303, `${ctx.base}/admin/canvas?saved=api-key`);
      },
    },
    {
      method: 'post',
      path: '/admin/canvas/service-token',
      action: 'canvas.admin',
      handler: async (ctx, req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (body.remove === '1') {
          await access.store.setServiceToken(ctx.tenant.id, null, { setBy: ctx.user.id, canvasUser: null });
          return res.redirect(303, `${ctx.base}/admin/canvas?saved=service-token-cleared`);
        }
        const parsed = ServiceTokenBody.safeParse({ token: body.token });
        if (!parsed.success) return renderAdmin(ctx, res, { status: 400, errors: fieldsOf(parsed.error) });
        try {
          await saveServiceToken(ctx, parsed.data.token);
        } catch (err) {
          if (err instanceof InvalidInputError) return renderAdmin(ctx, res, { status: 400, errors: err.fields });
          throw err;
        }
        res.redirect(303, `${ctx.base}/admin/canvas?saved=service-token`);
      },
    },
    {
      method: 'get',
      path: '/api/canvas/settings',
      action: 'canvas.admin',
      kind: 'api',
      handler: async (ctx, _req, res) => {
        const s = await access.store.settings(ctx.tenant.id);
        res.json({ apiKey: { clientId: s.clientId, hasClientSecret: s.hasClientSecret }, serviceToken: s.serviceToken, redirectUri: access.redirectUri(), canvasBaseUrl: ctx.tenant.canvasBaseUrl });
      },
    },
    {
      method: 'put',
      path: '/api/canvas/api-key',
      action: 'canvas.admin',
      kind: 'api',
      handler: async (ctx, req, res) => {
        const parsed = ApiKeyBody.safeParse(req.body ?? {});
        if (!parsed.success) throw new InvalidInputError('The API key is not valid.', fieldsOf(parsed.error));
        const s = await access.store.settings(ctx.tenant.id);
        if (!parsed.data.clientSecret && !s.hasClientSecret) throw new InvalidInputError('The API key is not valid.', { clientSecret: 'Enter the developer key’s client secret.' });
        await access.store.setApiKey(ctx.tenant.id, parsed.data.clientId, parsed.data.clientSecret);
        res.json({ apiKey: { clientId: parsed.data.clientId, hasClientSecret: true } });
      },
    },
    {
      method: 'put',
      path: '/api/canvas/service-token',
      action: 'canvas.admin',
      kind: 'api',
      handler: async (ctx, req, res) => {
        const parsed = ServiceTokenBody.safeParse(req.body ?? {});
        if (!parsed.success) throw new InvalidInputError('The service token is not valid.', fieldsOf(parsed.error));
        const name = await saveServiceToken(ctx, parsed.data.token);
        res.json({ serviceToken: { set: true, canvasUser: name } });
      },
    },
    {
      method: 'delete',
      path: '/api/canvas/service-token',
      action: 'canvas.admin',
      kind: 'api',
      handler: async (ctx, _req, res) => {
        await access.store.setServiceToken(ctx.tenant.id, null, { setBy: ctx.user.id, canvasUser: null });
        res.status(204).end();
      },
    },
  ]);
}

/** `GET /canvas/oauth/callback`: public (Canvas redirects a top-level window here; the state names the session). */
export function canvasOauthCallback(deps: { access: CanvasAccess }) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = req.query as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const result = await deps.access.completeAuthorization({ state: str(q.state), code: str(q.code), error: str(q.error) });
    res.set('Cache-Control', 'no-store');
    // The code and state are in this URL: do not pass it on to anything the page links to.
    res.set('Referrer-Policy', 'no-referrer');
    res.render('canvas/callback', { title: 'Connected to Canvas', canvasUserName: result.canvasUserName });
  };
}

/**
 * Turns `CanvasAuthorizationRequired` from any session route into the "Connect microcred to Canvas" page (or
 * JSON with the link), instead of a generic error. Mounted just before the app's error handler.
 */
export function canvasAuthorizationErrors(deps: { access: CanvasAccess }) {
  return async (err: unknown, req: Request, res: Response, next: NextFunction): Promise<void> => {
    const ctx = res.locals.ctx as SessionContext | undefined;
    if (!(err instanceof CanvasAuthorizationRequired) || !ctx || res.headersSent) return next(err);
    const back = req.originalUrl.startsWith(ctx.base) ? req.originalUrl.slice(ctx.base.length).split('?')[0] : '/';
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      // An API path is no page to come back to: the caller adds `?next=` for the page it is on.
      const connectUrl = `${ctx.base}/canvas/connect`;
      res.status(err.status).json({ error: { code: err.code, reason: err.reason, message: err.message, hint: err.options.hint, connectUrl } });
      return;
    }
    try {
      await renderConnect(deps.access, ctx, res, { next: safeNext(back), status: err.status, reason: err });
    } catch (renderErr) {
      next(renderErr);
    }
  };
}

describeApi([
  { method: 'get', path: '/api/canvas/connection', tag: 'Canvas access', summary: 'Whether microcred can call Canvas for you now (makes a real users/self call)' },
  { method: 'get', path: '/api/canvas/settings', tag: 'Canvas access', summary: 'The district’s Canvas API developer key and service token (never the secrets)' },
  { method: 'put', path: '/api/canvas/api-key', tag: 'Canvas access', summary: 'Set the Canvas API developer key (client id and secret; the secret is sealed at rest)' },
  { method: 'put', path: '/api/canvas/service-token', tag: 'Canvas access', summary: 'Set the service token used when a person has not connected (checked with Canvas first)' },
  { method: 'delete', path: '/api/canvas/service-token', tag: 'Canvas access', summary: 'Remove the service token' },
]);
