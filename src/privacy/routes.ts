import type { Request, Response } from 'express';
import { z } from 'zod';
import { defineRoutes, type SessionRoute, routeParam } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { InvalidInputError, NotFoundError } from '../web/errors';
import type { SessionContext } from '../lti/sessions';
import type { Database } from '../db/database';
import type { Badges } from '../badges/service';
import { deletePerson, findPerson, listPeople, summarize } from './deletion';
import { evidenceAudit, privacyLog } from './audit';

/**
 * The district administrator's privacy pages and API (docs/privacy.md): find a person, see what microcred holds
 * about them, delete it at their request; the evidence-access audit of one submission or one educator; the log
 * of deletions and retention purges. Admins only (policy `privacy.admin`); every change needs the CSRF token.
 */

export interface PrivacyDeps {
  db: Database;
  badges: Badges;
  jobSchema: string;
  retentionDays: number;
}

const param = routeParam;
const query = (req: Request, name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim().slice(0, 100) : '');

const NOTICES: Record<string, { kind: 'success' | 'info'; text: string }> = {
  deleted: { kind: 'success', text: 'The person’s data was deleted. Their credentials are revoked; the record of the deletion is below.' },
};

const AuditQuery = z.object({ item: z.uuid().optional(), person: z.string().max(64).optional(), actions: z.enum(['evidence', 'all']).default('evidence') });

export function privacyRoutes(deps: PrivacyDeps): SessionRoute[] {
  const sql = deps.db.sql;
  const auditOf = async (ctx: SessionContext, req: Request) => {
    const q = AuditQuery.safeParse(req.query);
    if (!q.success) throw new InvalidInputError('Name a submission (item) or a person to see the audit for.', { item: 'Not a submission id.' });
    if (!q.data.item && !q.data.person) throw new InvalidInputError('Name a submission (item) or a person to see the audit for.', { item: 'Required (or person).' });
    const person = q.data.person ? await findPerson(sql, ctx.tenant.id, q.data.person) : undefined;
    return evidenceAudit(sql, ctx.tenant.id, { itemId: q.data.item, person, actions: q.data.actions });
  };
  const personSummary = async (ctx: SessionContext, req: Request) => summarize(sql, ctx.tenant.id, await findPerson(sql, ctx.tenant.id, param(req, 'key')));
  const remove = async (ctx: SessionContext, req: Request) => {
    const person = await findPerson(sql, ctx.tenant.id, param(req, 'key'));
    return deletePerson({ db: deps.db, badges: deps.badges, jobSchema: deps.jobSchema }, { tenantId: ctx.tenant.id, actorId: ctx.user.id, person });
  };

  const routes = defineRoutes([
    {
      method: 'get', path: '/admin/privacy', action: 'privacy.admin',
      handler: async (ctx, req, res) => {
        const search = query(req, 'q');
        const [people, log] = await Promise.all([listPeople(sql, ctx.tenant.id, search), privacyLog(sql, ctx.tenant.id)]);
        const notice = NOTICES[query(req, 'notice')];
        res.render('privacy/index', { title: 'Privacy', search, people, log, retentionDays: deps.retentionDays, flash: notice ? [notice] : [] });
      },
    },
    {
      method: 'get', path: '/admin/privacy/people/:key', action: 'privacy.admin',
      handler: async (ctx, req, res) => renderPerson(res, await personSummary(ctx, req)),
    },
    {
      method: 'post', path: '/admin/privacy/people/:key/delete', action: 'privacy.admin',
      handler: async (ctx, req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (body.confirm !== 'yes') {
          res.status(400);
          return renderPerson(res, await personSummary(ctx, req), { confirm: 'Tick the box to confirm that this person’s data should be deleted.' });
        }
        await remove(ctx, req);
        res.redirect(303, `${ctx.base}/admin/privacy?notice=deleted`);
      },
    },
    {
      method: 'get', path: '/admin/privacy/audit', action: 'privacy.admin',
      handler: async (ctx, req, res) => res.render('privacy/audit', { title: 'Evidence access audit', audit: await auditOf(ctx, req) }),
    },

    { method: 'get', path: '/api/privacy/people', action: 'privacy.admin', kind: 'api', handler: async (ctx, req, res) => void res.json({ people: await listPeople(sql, ctx.tenant.id, query(req, 'q')) }) },
    { method: 'get', path: '/api/privacy/people/:key', action: 'privacy.admin', kind: 'api', handler: async (ctx, req, res) => void res.json(await personSummary(ctx, req)) },
    {
      method: 'post', path: '/api/privacy/people/:key/delete', action: 'privacy.admin', kind: 'api',
      handler: async (ctx, req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (body.confirm !== true) throw new InvalidInputError('Send {"confirm": true} to delete this person’s data.', { confirm: 'Must be true.' });
        const r = await remove(ctx, req);
        res.json({ deleted: true, revokedCredentials: r.revoked, removed: r.removed, placeholderId: r.placeholderId });
      },
    },
    { method: 'get', path: '/api/privacy/audit', action: 'privacy.admin', kind: 'api', handler: async (ctx, req, res) => void res.json(await auditOf(ctx, req)) },
    { method: 'get', path: '/api/privacy/log', action: 'privacy.admin', kind: 'api', handler: async (ctx, _req, res) => void res.json({ events: await privacyLog(sql, ctx.tenant.id) }) },
  ]);

  const tag = 'privacy';
  describeApi([
    { method: 'get', path: '/api/privacy/people', tag, summary: 'People of the district (launched users and roster-only educators), by name', query: z.object({ q: z.string().optional() }) },
    { method: 'get', path: '/api/privacy/people/:key', tag, summary: 'What microcred holds about one person (key: their microcred user id or Canvas user id)' },
    {
      method: 'post', path: '/api/privacy/people/:key/delete', tag, summary: 'Delete a person’s data at their request: credentials revoked, reviews anonymised, everything else removed',
      description: 'Irreversible. Issued credentials are revoked with the reason “deleted at the educator’s request” and kept, so verifiers see them revoked. Review scores stay, anonymised, for agreement statistics.',
      body: z.object({ confirm: z.literal(true) }),
    },
    { method: 'get', path: '/api/privacy/audit', tag, summary: 'Who viewed the evidence (and its files) of one submission or one educator, and when', query: AuditQuery },
    { method: 'get', path: '/api/privacy/log', tag, summary: 'Deletions and retention purges in this district' },
  ]);
  return routes;
}

function renderPerson(res: Response, summary: Awaited<ReturnType<typeof summarize>>, errors?: Record<string, string>): void {
  if (!summary) throw new NotFoundError('person');
  res.render('privacy/person', { title: `Delete data: ${summary.name}`, summary, errors });
}
