import { isUuid } from '../catalog/repository';
import type { Request } from 'express';
import { z } from 'zod';
import { defineRoutes, type SessionRoute, jsonRoute, routeParam } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { InvalidInputError } from '../web/errors';
import { AwardModeSchema, BulkAwardSchema, NextLevelSchema, PreferencesSchema, RevokeSchema, type Awards } from './service';

/**
 * Awards' pages (designers: the course's awards and how they reached Canvas, with Retry; the bulk award) and JSON
 * API (docs/awards.md). Every route names a policy action; per-credential and per-course checks are in the
 * commands (service.ts).
 */

const json = jsonRoute;
function uuidParam(req: Request, name: string, what: string): string {
  const v = routeParam(req, name);
  if (!isUuid(v)) throw new InvalidInputError(`Not a ${what} id.`, { [name]: `Not a ${what} id.` });
  return v;
}

const NOTICES: Record<string, { kind: 'success' | 'info'; text: string }> = {
  retried: { kind: 'success', text: 'Queued again: microcred is sending it to Canvas.' },
  mode: { kind: 'success', text: 'Award mode saved.' },
};

/** A form's fields as the bulk award's input (checkboxes arrive as one value or a list). */
function bulkFormInput(body: Record<string, unknown>) {
  const earners = body.earners === undefined ? [] : Array.isArray(body.earners) ? body.earners : [body.earners];
  return { credentialId: body.credentialId, reason: body.reason, earners };
}

export function awardRoutes(awards: Awards): SessionRoute[] {
  const api = '/api/awards';
  const routes = defineRoutes([
    // ---- pages --------------------------------------------------------------------------------------------
    {
      method: 'get', path: '/awards', action: 'awards.course',
      handler: async (ctx, req, res) => {
        const n = NOTICES[String(req.query.notice ?? '')];
        res.render('awards/course', { title: 'Awards and grades', view: await awards.courseView(ctx), flash: n ? [n] : [] });
      },
    },
    {
      method: 'post', path: '/awards/passbacks/:id/retry', action: 'awards.course',
      handler: async (ctx, req, res) => {
        await awards.retryPassback(ctx, uuidParam(req, 'id', 'passback'));
        res.redirect(303, `${ctx.base}/awards?notice=retried`);
      },
    },
    {
      method: 'post', path: '/awards/settings/:credentialId', action: 'awards.course',
      handler: async (ctx, req, res) => {
        await awards.setMode(ctx, uuidParam(req, 'credentialId', 'micro-credential'), req.body);
        res.redirect(303, `${ctx.base}/awards?notice=mode`);
      },
    },
    {
      method: 'get', path: '/awards/bulk', action: 'awards.bulk',
      handler: async (ctx, _req, res) => {
        res.render('awards/bulk', { title: 'Award without review', credentials: await awards.attachedCredentials(ctx), roster: await awards.roster(ctx), form: { credentialId: '', reason: '', earners: [] }, errors: undefined, result: null });
      },
    },
    {
      method: 'post', path: '/awards/bulk', action: 'awards.bulk',
      handler: async (ctx, req, res) => {
        const form = bulkFormInput((req.body ?? {}) as Record<string, unknown>);
        const page = async (extra: Record<string, unknown>) => ({ title: 'Award without review', credentials: await awards.attachedCredentials(ctx), roster: await awards.roster(ctx), form, errors: undefined, result: null, ...extra });
        try {
          const result = await awards.bulkAward(ctx, form);
          res.render('awards/bulk', await page({ result, form: { credentialId: form.credentialId, reason: '', earners: [] } }));
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          const errors: Record<string, string> = {};
          for (const [k, v] of Object.entries(err.fields)) errors[k.startsWith('earners') ? 'earners' : k] ??= v;
          if (!Object.keys(errors).length) errors.reason = err.message;
          res.status(400).render('awards/bulk', await page({ errors }));
        }
      },
    },

    // ---- JSON API -----------------------------------------------------------------------------------------
    { method: 'get', path: `${api}/course`, action: 'awards.course', kind: 'api', handler: json((ctx) => awards.courseView(ctx)) },
    { method: 'post', path: `${api}/bulk`, action: 'awards.bulk', kind: 'api', handler: json((ctx, req) => awards.bulkAward(ctx, req.body)) },
    { method: 'post', path: `${api}/:id/revoke`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.revokeAward(ctx, uuidParam(req, 'id', 'award'), req.body)) },
    { method: 'post', path: `${api}/passbacks/:id/retry`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.retryPassback(ctx, uuidParam(req, 'id', 'passback'))) },
    { method: 'get', path: `${api}/settings/:credentialId`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.getMode(ctx, uuidParam(req, 'credentialId', 'micro-credential'))) },
    { method: 'put', path: `${api}/settings/:credentialId`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.setMode(ctx, uuidParam(req, 'credentialId', 'micro-credential'), req.body)) },
    { method: 'get', path: `${api}/stacks/:stackId/next-level`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.getNextLevel(ctx, uuidParam(req, 'stackId', 'stack'))) },
    { method: 'put', path: `${api}/stacks/:stackId/next-level`, action: 'awards.course', kind: 'api', handler: json((ctx, req) => awards.setNextLevel(ctx, uuidParam(req, 'stackId', 'stack'), req.body)) },
    { method: 'get', path: '/me/preferences', action: 'earner.preferences', kind: 'api', handler: json((ctx) => awards.preferences(ctx)) },
    { method: 'put', path: '/me/preferences', action: 'earner.preferences', kind: 'api', handler: json((ctx, req) => awards.setPreferences(ctx, req.body)) },
  ]);

  const tag = 'awards';
  const Passback = z.object({ id: z.string(), kind: z.enum(['ags_score', 'rubric_assessment', 'notification', 'next_level']), kindLabel: z.string(), state: z.enum(['pending', 'sent', 'retrying', 'failed', 'skipped']), stateLabel: z.string(), attempts: z.number(), lastError: z.string().nullable(), sentAt: z.string().nullable(), retryable: z.boolean() });
  const Preferences = z.object({ notifyAward: z.boolean(), notifyNotYet: z.boolean() });
  describeApi([
    { method: 'get', path: `${api}/course`, tag, summary: 'This course’s awards, newest first, each with its passbacks to Canvas (grade, rubric, message, next level) and their state', description: 'States: pending → sent | retrying (attempts, lastError) | failed; skipped when not needed (no evidence assignment, the educator opted out of messages). Designers of the course, admins.' },
    { method: 'post', path: `${api}/bulk`, tag, summary: 'Award a micro-credential to several educators without review (a reason is required)', description: 'Designers of the credential’s course and admins. Educators are Canvas user ids; each is awarded in a transaction of their own: awarded, alreadyHeld (exactly once per earner and version) or skipped with the reason.', body: BulkAwardSchema },
    { method: 'post', path: `${api}/:id/revoke`, tag, summary: 'Revoke an award with a reason: the credential shows as revoked to verifiers, and the CEU ledger gets a reversing entry', body: RevokeSchema },
    { method: 'post', path: `${api}/passbacks/:id/retry`, tag, summary: 'Send a passback to Canvas again (a failed or retrying one)', response: { description: 'The passback, pending again', schema: Passback } },
    { method: 'get', path: `${api}/settings/:credentialId`, tag, summary: 'How a micro-credential is awarded: after review, or automatically once every required module is complete' },
    { method: 'put', path: `${api}/settings/:credentialId`, tag, summary: 'Set the award mode (the credential’s designers, admins)', body: AwardModeSchema },
    { method: 'get', path: `${api}/stacks/:stackId/next-level`, tag, summary: 'What opens in Canvas when a stack is earned' },
    { method: 'put', path: `${api}/stacks/:stackId/next-level`, tag, summary: 'Set a stack’s next level: enroll the educator in a Canvas course, or unlock (publish) a module; none removes it', body: NextLevelSchema },
    { method: 'get', path: '/me/preferences', tag, summary: 'The signed-in person’s notification choices', response: { description: 'Preferences', schema: Preferences } },
    { method: 'put', path: '/me/preferences', tag, summary: 'Turn award and “not yet” messages (Canvas conversations) on or off', body: PreferencesSchema, response: { description: 'Preferences after the change', schema: Preferences } },
  ]);
  return routes;
}

