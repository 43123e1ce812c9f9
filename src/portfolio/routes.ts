import { isUuid } from '../catalog/repository';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { SessionContext } from '../lti/sessions';
import { defineRoutes, type SessionRoute } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { InvalidInputError, NotFoundError } from '../web/errors';
import { longDate } from './cycles';
import type { Portfolio } from './service';

/**
 * The portfolio's pages and API (session routes), and the public portfolio page (no session, by slug). Forms
 * work without JavaScript: they post and redirect back with a notice.
 */

const SharingSchema = z.object({ public: z.boolean({ error: 'Say true to share your portfolio, false to stop.' }) });
const ShowNameSchema = z.object({ showName: z.boolean({ error: 'Say true to show your name, false to hide it.' }) });

const NOTICES: Record<string, { kind: 'success' | 'info'; text: string }> = {
  shared: { kind: 'success', text: 'Your public portfolio link is on. Anyone with the link can see your badges.' },
  unshared: { kind: 'info', text: 'Your public portfolio link is off. The old link no longer opens anything.' },
  named: { kind: 'success', text: 'Your name now shows with that badge on your public pages.' },
  unnamed: { kind: 'info', text: 'Your name no longer shows with that badge on your public portfolio.' },
};

function credentialParam(req: Request): string {
  const id = String((req.params as Record<string, string>).id ?? '');
  if (!isUuid(id)) throw new NotFoundError('credential');
  return id;
}

/** A form's on/off field: 'on' or 'off' (a button's value), anything else is a 400. */
function onOff(body: unknown, field: string): boolean {
  const v = (body as Record<string, unknown> | undefined)?.[field];
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new InvalidInputError('Choose on or off.', { [field]: 'Choose on or off.' });
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new InvalidInputError(r.error.issues[0]?.message ?? 'Not valid.', Object.fromEntries(r.error.issues.map((i) => [i.path.join('.') || 'body', i.message])));
  return r.data;
}

export function publicPortfolioUrl(publicUrl: string, slug: string | null): string | null {
  return slug ? `${publicUrl}/portfolio/${slug}` : null;
}

export function portfolioRoutes(deps: { portfolio: Portfolio; publicUrl: string }): SessionRoute[] {
  const { portfolio } = deps;
  const mine = (ctx: SessionContext) => portfolio.mine(ctx.tenant.id, ctx.user.id);
  const withLinks = async (ctx: SessionContext) => {
    const p = await mine(ctx);
    return { ...p, publicUrl: publicPortfolioUrl(deps.publicUrl, p.preferences.publicSlug) };
  };
  describeApi([
    { method: 'get', path: '/api/portfolio', tag: 'portfolio', summary: 'My portfolio across the district: badges and their state, stack progress, the CEU ledger per renewal cycle, my sharing and notification choices' },
    { method: 'get', path: '/api/portfolio/clr', tag: 'portfolio', summary: 'A signed CLR 2.0 ClrCredential of every credential I hold (not revoked), as a download', response: { description: 'The ClrCredential (signed, eddsa-rdfc-2022)', contentType: 'application/ld+json' } },
    { method: 'put', path: '/api/portfolio/sharing', tag: 'portfolio', summary: 'Turn my public portfolio link on (a new random link) or off (the old link stops working)', body: SharingSchema, response: { description: '{ public, url }' } },
    { method: 'put', path: '/api/portfolio/credentials/:id/show-name', tag: 'portfolio', summary: 'Show or hide my name with one of my badges on public pages', body: ShowNameSchema },
    { method: 'get', path: '/me/export', tag: 'portfolio', summary: 'Export everything microcred stores about me in this district (JSON download)', description: 'Profile, courses, progress, evidence snapshot metadata and SHA-256 hashes, the reviews of my submissions (reviewer names only where the review was not blind), awards, credentials, CEU ledger, preferences. Nothing about anyone else.' },
  ]);
  return defineRoutes([
    {
      method: 'get', path: '/portfolio', action: 'portfolio.mine',
      handler: async (ctx, req, res) => {
        const notice = NOTICES[String(req.query.notice ?? '')];
        res.render('portfolio/index', { title: 'My portfolio', ...(await withLinks(ctx)), longDate, flash: notice ? [notice] : [], stylesheets: ['/assets/css/portfolio.css'], scripts: ['/assets/js/portfolio.js'] });
      },
    },
    {
      method: 'get', path: '/portfolio/transcript', action: 'portfolio.mine',
      handler: async (ctx, _req, res) => {
        res.render('portfolio/transcript', { title: 'CEU transcript', ...(await portfolio.transcript(ctx.tenant.id, ctx.user.id)), longDate, stylesheets: ['/assets/css/portfolio.css'], scripts: ['/assets/js/portfolio.js'] });
      },
    },
    {
      method: 'post', path: '/portfolio/sharing', action: 'portfolio.mine',
      handler: async (ctx, req, res) => {
        const on = onOff(req.body, 'share');
        await portfolio.setSharing(ctx.tenant.id, ctx.user.id, on);
        res.redirect(303, `${ctx.base}/portfolio?notice=${on ? 'shared' : 'unshared'}#sharing`);
      },
    },
    {
      method: 'post', path: '/portfolio/credentials/:id/name', action: 'portfolio.mine',
      handler: async (ctx, req, res) => {
        const id = credentialParam(req);
        const show = onOff(req.body, 'show');
        await portfolio.setShowName(ctx.tenant.id, ctx.user.id, id, show);
        res.redirect(303, `${ctx.base}/portfolio?notice=${show ? 'named' : 'unnamed'}#badge-${id}`);
      },
    },
    { method: 'get', path: '/api/portfolio', action: 'portfolio.mine', kind: 'api', handler: async (ctx, _req, res) => void res.json(await withLinks(ctx)) },
    {
      method: 'get', path: '/api/portfolio/clr', action: 'portfolio.mine', kind: 'api',
      handler: async (ctx, _req, res) => {
        const clr = await portfolio.clr(ctx.tenant.id, ctx.user.id);
        res.attachment('learner-record-clr.json');
        res.type('application/ld+json').send(JSON.stringify(clr, null, 2));
      },
    },
    {
      method: 'put', path: '/api/portfolio/sharing', action: 'portfolio.mine', kind: 'api',
      handler: async (ctx, req, res) => {
        const { public: on } = parse(SharingSchema, req.body);
        const slug = await portfolio.setSharing(ctx.tenant.id, ctx.user.id, on);
        res.json({ public: on, url: publicPortfolioUrl(deps.publicUrl, slug) });
      },
    },
    {
      method: 'put', path: '/api/portfolio/credentials/:id/show-name', action: 'portfolio.mine', kind: 'api',
      handler: async (ctx, req, res) => {
        const id = credentialParam(req);
        const { showName } = parse(ShowNameSchema, req.body);
        await portfolio.setShowName(ctx.tenant.id, ctx.user.id, id, showName);
        res.json({ id, showName });
      },
    },
    {
      method: 'get', path: '/me/export', action: 'portfolio.export', kind: 'api',
      handler: async (ctx, _req, res) => {
        const doc = await portfolio.export(ctx.tenant.id, ctx.user.id, ctx.tenant.name);
        res.attachment(`microcred-my-data-${doc.exportedAt.slice(0, 10)}.json`);
        res.type('application/json').send(JSON.stringify(doc, null, 2));
      },
    },
  ]);
}

/** GET /portfolio/:slug — the public page an earner chose to share. Not framed, not indexed, not cached. */
export function publicPortfolioRoutes(portfolio: Portfolio): Router {
  const r = express.Router();
  r.get('/portfolio/:slug', (req: Request, res: Response, next: NextFunction) => {
    portfolio
      .publicView(String(req.params.slug ?? ''))
      .then((view) => {
        res.set('Cache-Control', 'no-store');
        res.set('X-Robots-Tag', 'noindex');
        res.render('portfolio/public', { title: 'Micro-credential portfolio', ...view, longDate, stylesheets: ['/assets/css/portfolio.css'] });
      })
      .catch(next);
  });
  return r;
}
