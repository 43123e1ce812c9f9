import { isUuid } from '../catalog/repository';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { defineRoutes, type SessionRoute, jsonRoute, routeParam } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { AppError, ConflictError, InvalidInputError } from '../web/errors';
import type { SessionContext } from '../lti/sessions';
import { parseInput } from '../catalog/model';
import { AffiliationInputSchema, AssignInputSchema, DecisionInputSchema, ExemplarAttemptSchema, ExemplarInputSchema, formToInput, QueueQuerySchema, ReviewInputSchema, SettingsInputSchema } from './model';
import type { ReviewDeps } from './ports';
import { autoAssign, claimItem, claimNext, decide, releaseItem, reviewScope, saveDraft } from './service';
import { earnerFeedback, filterChoices, itemAudit, loadAttachment, loadQueue, loadReview } from './reading';
import { calibrationReport, createExemplar, getSettings, listExemplars, loadExemplar, putSettings, scoreExemplar, setAffiliation, syncSections } from './calibration';

/**
 * The review's pages (server-rendered, working without JavaScript) and its JSON API (docs/review.md). Every
 * route names a policy action; item-level checks happen in the commands (service.ts).
 */

const json = jsonRoute;
const param = routeParam;

const NOTICES: Record<string, { kind: 'info' | 'success' | 'warning'; text: string }> = {
  taken: { kind: 'warning', text: 'Another reviewer claimed that submission first. Choose another one.' },
  released: { kind: 'info', text: 'You released the submission; it is back in the queue.' },
  none: { kind: 'info', text: 'Nothing is waiting that you can review.' },
  saved: { kind: 'success', text: 'Draft saved.' },
  awarded: { kind: 'success', text: 'Awarded. The educator will be told.' },
  not_yet: { kind: 'success', text: '“Not yet” recorded. Your feedback goes to the educator in microcred and in Canvas.' },
  second_review: { kind: 'success', text: 'Review submitted. A second reviewer will score it independently before the educator hears.' },
  third_review: { kind: 'success', text: 'Review submitted. The two reviews disagree: a third reviewer will decide.' },
  assigned: { kind: 'success', text: 'Waiting submissions were assigned to reviewers by load.' },
};
const flashOf = (req: Request) => {
  const n = NOTICES[String(req.query.notice ?? '')];
  return n ? [n] : [];
};

/** The browser's own page for an error a person can act on: back to the queue with a message. */
const queueNotice = (ctx: SessionContext, res: Response, notice: string) => res.redirect(303, `${ctx.base}/review?notice=${notice}`);

export function reviewRoutes(deps: ReviewDeps): SessionRoute[] {
  const item = '/review/items/:id';
  const api = '/api/review';
  const routes = defineRoutes([
    // ---- pages --------------------------------------------------------------------------------------------
    {
      method: 'get', path: '/review', action: 'review.queue',
      handler: async (ctx, req, res) => {
        const q = parseInput(QueueQuerySchema, req.query, 'The filters are not valid.');
        const [queue, choices, exemplars] = await Promise.all([loadQueue(deps, ctx, q), filterChoices(deps, ctx, await reviewScope(deps, ctx)), listExemplars(deps, ctx)]);
        res.render('review/queue', { title: 'Review queue', queue, choices, exemplars: exemplars.exemplars.filter((e) => !e.passed), flash: flashOf(req), isAdmin: ctx.roles.includes('admin') });
      },
    },
    {
      method: 'post', path: '/review/next', action: 'review.queue',
      handler: async (ctx, req, res) => {
        const body = (req.body ?? {}) as Record<string, string>;
        const uuid = (v: unknown) => (typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v) ? v : undefined);
        const next = await claimNext(deps, ctx, { credentialId: uuid(body.credential), courseId: uuid(body.course) });
        if (!next) return queueNotice(ctx, res, 'none');
        res.redirect(303, `${ctx.base}/review/items/${next.id}`);
      },
    },
    {
      method: 'post', path: '/review/assign', action: 'review.assign',
      handler: async (ctx, _req, res) => {
        await autoAssign(deps, ctx.tenant.id, ctx.user.id);
        queueNotice(ctx, res, 'assigned');
      },
    },
    {
      method: 'post', path: `${item}/claim`, action: 'review.queue',
      handler: async (ctx, req, res) => {
        try {
          await claimItem(deps, ctx, param(req, 'id'));
        } catch (err) {
          if (err instanceof ConflictError) return queueNotice(ctx, res, 'taken');
          throw err;
        }
        res.redirect(303, `${ctx.base}/review/items/${param(req, 'id')}`);
      },
    },
    {
      method: 'post', path: `${item}/release`, action: 'review.queue',
      handler: async (ctx, req, res) => {
        await releaseItem(deps, ctx, param(req, 'id'));
        queueNotice(ctx, res, 'released');
      },
    },
    {
      method: 'get', path: item, action: 'review.queue',
      handler: async (ctx, req, res) => renderItem(deps, ctx, req, res, param(req, 'id')),
    },
    {
      method: 'post', path: item, action: 'review.queue',
      handler: async (ctx, req, res) => {
        const id = param(req, 'id');
        const body = (req.body ?? {}) as Record<string, unknown>;
        const input = formToInput(body);
        try {
          if (body.decision === 'award' || body.decision === 'not_yet') {
            const r = await decide(deps, ctx, id, input);
            return queueNotice(ctx, res, r.outcome);
          }
          await saveDraft(deps, ctx, id, input);
          res.redirect(303, `${ctx.base}/review/items/${id}?notice=saved`);
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          res.status(400);
          await renderItem(deps, ctx, req, res, id, { input: input as { scores: Record<string, string>; comments: Record<string, string>; feedback: string; overrideComment?: string }, error: err });
        }
      },
    },
    {
      method: 'get', path: `${item}/attachments/:attachmentId`, action: 'review.queue',
      handler: async (ctx, req, res) => {
        const f = await loadAttachment(deps, ctx, param(req, 'id'), param(req, 'attachmentId'), { download: req.query.download === '1' });
        res.set(f.headers).send(f.bytes);
      },
    },
    {
      method: 'get', path: '/review/feedback', action: 'review.feedback',
      handler: async (ctx, req, res) => res.render('review/feedback', { title: 'Feedback on my evidence', ...(await earnerFeedback(deps, ctx)), flash: flashOf(req) }),
    },
    {
      method: 'get', path: '/review/exemplars/:id', action: 'review.queue',
      handler: async (ctx, req, res) => res.render('review/exemplar', { title: 'Score an exemplar', ...(await loadExemplar(deps, ctx, param(req, 'id'))), errors: undefined, result: null }),
    },
    {
      method: 'post', path: '/review/exemplars/:id', action: 'review.queue',
      handler: async (ctx, req, res) => {
        const id = param(req, 'id');
        const { scores } = formToInput((req.body ?? {}) as Record<string, unknown>) as { scores: Record<string, string> };
        try {
          const result = await scoreExemplar(deps, ctx, id, { scores });
          res.render('review/exemplar', { title: 'Score an exemplar', ...(await loadExemplar(deps, ctx, id)), errors: undefined, result });
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          res.status(400).render('review/exemplar', { title: 'Score an exemplar', ...(await loadExemplar(deps, ctx, id)), errors: { 'exemplar-rubric': err.message }, result: null, submitted: scores });
        }
      },
    },
    {
      method: 'get', path: '/review/exemplars/:id/attachments/:attachmentId', action: 'review.queue',
      handler: async (ctx, req, res) => {
        const f = await loadAttachment(deps, ctx, param(req, 'id'), param(req, 'attachmentId'), { download: req.query.download === '1', exemplar: true });
        res.set(f.headers).send(f.bytes);
      },
    },
    {
      method: 'get', path: '/review/calibration', action: 'review.calibration',
      handler: async (ctx, req, res) => {
        const credential = typeof req.query.credential === 'string' && /^[0-9a-f-]{36}$/i.test(req.query.credential) ? req.query.credential : undefined;
        res.render('review/calibration', { title: 'Reviewer agreement', report: await calibrationReport(deps, ctx, credential) });
      },
    },

    // ---- JSON API -----------------------------------------------------------------------------------------
    { method: 'get', path: `${api}/queue`, action: 'review.queue', kind: 'api', handler: json((ctx, req) => loadQueue(deps, ctx, parseInput(QueueQuerySchema, req.query, 'The filters are not valid.'))) },
    {
      method: 'post', path: `${api}/next`, action: 'review.queue', kind: 'api',
      handler: json(async (ctx, req) => {
        const f = parseInput(z.object({ credentialId: z.uuid().optional(), courseId: z.uuid().optional() }), req.body);
        const next = await claimNext(deps, ctx, f);
        return { item: next ? { id: next.id, page: `${ctx.base}/review/items/${next.id}` } : null };
      }),
    },
    { method: 'post', path: `${api}/assign`, action: 'review.assign', kind: 'api', handler: json(async (ctx, req) => ({ assigned: await autoAssign(deps, ctx.tenant.id, ctx.user.id, parseInput(AssignInputSchema, req.body)) })) },
    { method: 'get', path: `${api}/items/:id`, action: 'review.queue', kind: 'api', handler: json((ctx, req) => loadReview(deps, ctx, param(req, 'id'))) },
    { method: 'post', path: `${api}/items/:id/claim`, action: 'review.queue', kind: 'api', handler: json(async (ctx, req) => presentItem(await claimItem(deps, ctx, param(req, 'id')))) },
    { method: 'post', path: `${api}/items/:id/release`, action: 'review.queue', kind: 'api', handler: json(async (ctx, req) => presentItem(await releaseItem(deps, ctx, param(req, 'id')))) },
    { method: 'put', path: `${api}/items/:id/draft`, action: 'review.queue', kind: 'api', handler: json((ctx, req) => saveDraft(deps, ctx, param(req, 'id'), req.body)) },
    {
      method: 'post', path: `${api}/items/:id/decision`, action: 'review.queue', kind: 'api',
      handler: json(async (ctx, req) => {
        const r = await decide(deps, ctx, param(req, 'id'), req.body);
        return { outcome: r.outcome, item: presentItem(r.item) };
      }),
    },
    { method: 'get', path: `${api}/items/:id/audit`, action: 'review.audit', kind: 'api', handler: json((ctx, req) => itemAudit(deps, ctx, param(req, 'id'))) },
    { method: 'get', path: `${api}/feedback`, action: 'review.feedback', kind: 'api', handler: json((ctx) => earnerFeedback(deps, ctx)) },
    { method: 'get', path: `${api}/settings/:credentialId`, action: 'review.configure', kind: 'api', handler: json((ctx, req) => getSettings(deps, ctx, uuidParam(req, 'credentialId'))) },
    { method: 'put', path: `${api}/settings/:credentialId`, action: 'review.configure', kind: 'api', handler: json((ctx, req) => putSettings(deps, ctx, uuidParam(req, 'credentialId'), req.body)) },
    { method: 'get', path: `${api}/exemplars`, action: 'review.queue', kind: 'api', handler: json((ctx, req) => listExemplars(deps, ctx, typeof req.query.credential === 'string' ? uuidOf(req.query.credential) : undefined)) },
    { method: 'post', path: `${api}/exemplars`, action: 'review.configure', kind: 'api', handler: json((ctx, req) => createExemplar(deps, ctx, req.body), 201) },
    { method: 'post', path: `${api}/exemplars/:id/attempts`, action: 'review.queue', kind: 'api', handler: json((ctx, req) => scoreExemplar(deps, ctx, param(req, 'id'), req.body), 201) },
    { method: 'get', path: `${api}/calibration`, action: 'review.calibration', kind: 'api', handler: json((ctx, req) => calibrationReport(deps, ctx, typeof req.query.credential === 'string' ? uuidOf(req.query.credential) : undefined)) },
    { method: 'post', path: `${api}/sections/sync`, action: 'review.configure', kind: 'api', handler: json((ctx) => syncSections(deps, ctx)) },
    { method: 'put', path: `${api}/affiliations`, action: 'review.configure', kind: 'api', handler: json((ctx, req) => setAffiliation(deps, ctx, req.body)) },
  ]);

  const tag = 'review';
  const ItemOut = z.object({ id: z.string(), status: z.string(), round: z.number(), claimedBy: z.string().nullable() });
  describeApi([
    { method: 'get', path: `${api}/queue`, tag, summary: 'The review queue: items this reviewer may see, oldest first, with counts per tab', description: 'Course reviewers see their courses; district reviewers and admins every course of the district. Never your own submissions; conflicts of interest and items you already reviewed are left out of the waiting list. Blind review hides the educator’s name.', query: QueueQuerySchema },
    { method: 'post', path: `${api}/next`, tag, summary: 'Claim the oldest waiting item you may review', body: z.object({ credentialId: z.uuid().optional(), courseId: z.uuid().optional() }) },
    { method: 'post', path: `${api}/assign`, tag, summary: 'Assign waiting items to eligible reviewers by load (admins)', body: AssignInputSchema },
    { method: 'get', path: `${api}/items/:id`, tag, summary: 'One item for review: evidence, rubric, your draft, the live result, earlier attempts and their feedback (audited as an evidence view)' },
    { method: 'post', path: `${api}/items/:id/claim`, tag, summary: 'Claim an item (of two reviewers claiming at once exactly one wins; the other gets 409)', response: { description: 'The claimed item', schema: ItemOut } },
    { method: 'post', path: `${api}/items/:id/release`, tag, summary: 'Release your claim (admins: anyone’s)', response: { description: 'The item, waiting again', schema: ItemOut } },
    { method: 'put', path: `${api}/items/:id/draft`, tag, summary: 'Save a draft review (autosave); answers the passing rule’s result for these scores', body: ReviewInputSchema },
    { method: 'post', path: `${api}/items/:id/decision`, tag, summary: 'Submit the review with Award or Not yet (a decision against the computed result needs overrideComment)', description: 'Outcome: awarded, not_yet, second_review (calibration asks for an independent second review) or third_review (the two disagreed).', body: DecisionInputSchema },
    { method: 'get', path: `${api}/items/:id/audit`, tag, summary: 'The item’s audit trail: every evidence view, score, decision and override, with who and when (admins)' },
    { method: 'get', path: `${api}/feedback`, tag, summary: 'The signed-in educator’s own attempts, decisions and feedback per criterion' },
    { method: 'get', path: `${api}/settings/:credentialId`, tag, summary: 'Review settings of a micro-credential (maximum attempts, blind review, second reviews, conflicts, exemplar threshold)' },
    { method: 'put', path: `${api}/settings/:credentialId`, tag, summary: 'Change review settings (the credential’s designers, admins)', body: SettingsInputSchema },
    { method: 'get', path: `${api}/exemplars`, tag, summary: 'Exemplars to score before reviewing, with your latest agreement', query: z.object({ credential: z.uuid().optional() }) },
    { method: 'post', path: `${api}/exemplars`, tag, summary: 'Make a submission an exemplar with its agreed scores (designers, admins)', body: ExemplarInputSchema, response: { status: 201, description: 'The exemplar' } },
    { method: 'post', path: `${api}/exemplars/:id/attempts`, tag, summary: 'Score an exemplar; answers the agreement with the agreed scores', body: ExemplarAttemptSchema, response: { status: 201, description: 'Agreement, passed, the agreed scores' } },
    { method: 'get', path: `${api}/calibration`, tag, summary: 'Agreement per reviewer and per criterion: exact agreement and Cohen’s kappa', query: z.object({ credential: z.uuid().optional() }) },
    { method: 'post', path: `${api}/sections/sync`, tag, summary: 'Read this course’s Canvas sections (enrollments) for the conflict-of-interest rule' },
    { method: 'put', path: `${api}/affiliations`, tag, summary: 'Set a person’s sections or school in a course by hand', body: AffiliationInputSchema },
  ]);
  return routes;
}

function uuidOf(v: string): string | undefined {
  return isUuid(v) ? v : undefined;
}
function uuidParam(req: Request, name: string): string {
  const v = uuidOf(param(req, name));
  if (!v) throw new InvalidInputError('Not a micro-credential id.', { [name]: 'Not a micro-credential id.' });
  return v;
}

function presentItem(i: { id: string; status: string; round: number; claimedBy: string | null }) {
  return { id: i.id, status: i.status, round: i.round, claimedBy: i.claimedBy };
}

async function renderItem(deps: ReviewDeps, ctx: SessionContext, req: Request, res: Response, id: string, failed?: { input: { scores: Record<string, string>; comments: Record<string, string>; feedback: string; overrideComment?: string }; error: AppError }) {
  const view = await loadReview(deps, ctx, id);
  const review = failed ? { ...view.review, scores: failed.input.scores, comments: failed.input.comments, feedback: failed.input.feedback, overrideComment: failed.input.overrideComment ?? null } : view.review;
  const errors = failed && failed.error instanceof InvalidInputError ? formErrors(failed.error) : undefined;
  res.render('review/item', {
    title: `Review: ${view.credential.name}`,
    ...view,
    review,
    errors,
    flash: flashOf(req),
    scripts: ['/assets/js/review.js'],
  });
}

/** API field paths → the ids of the form's controls, so the error summary links to them. */
function formErrors(err: InvalidInputError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.fields)) {
    if (k.startsWith('scores.')) out[`criterion-${k.slice(7)}`] = v;
    else if (k === 'overrideComment') out.overrideComment = v;
    else if (k.startsWith('comments.')) out[`comment-${k.slice(9)}`] = v;
    else out[k === '_' ? 'feedback' : k] = v;
  }
  if (!Object.keys(out).length) out.feedback = err.message;
  return out;
}
