import type { Orm } from '../db/database';
import type { SessionContext } from '../lti/sessions';
import { authorize } from '../policies';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../web/errors';
import { parseInput } from '../catalog/model';
import { evaluate, type Evaluation } from '../catalog/rules';
import type { Rubric } from '../catalog/model';
import { DecisionInputSchema, ReviewInputSchema } from './model';
import { ReviewRepository, type QueueFilter, type ReviewScope } from './repository';
import { checkDecision, isBorderline, needsSecondReview, nextRound } from './rules';
import type { ReviewDeps } from './ports';
import type { ReviewItemRow, ReviewRow } from './schema';

/**
 * The review's stories, one function each: routes call these; each writes in one transaction. Policies decide
 * who may see an item (`review.item`); conflicts of interest and calibration decide who may review it.
 */

export const PASSBACK_JOB = 'review.passback';

export function repoOf(deps: ReviewDeps): ReviewRepository {
  return new ReviewRepository(deps.db.orm);
}

export function inTransaction<T>(deps: ReviewDeps, fn: (repo: ReviewRepository, tx: Orm) => Promise<T>): Promise<T> {
  return deps.db.orm.transaction((tx) => fn(new ReviewRepository(tx as unknown as Orm), tx as unknown as Orm));
}

// ---- who may review what ----------------------------------------------------------------------------------

/** Admins and district reviewers (a grant with no course) see every course of the tenant; others their courses. */
export async function reviewScope(deps: ReviewDeps, ctx: SessionContext): Promise<ReviewScope> {
  if (ctx.roles.includes('admin')) return { userId: ctx.user.id, all: true, courseIds: [] };
  const g = await repoOf(deps).reviewerGrants(ctx.tenant.id, ctx.user.id);
  if (g.district) return { userId: ctx.user.id, all: true, courseIds: [] };
  const courseIds = new Set(g.courseIds);
  if (ctx.roles.includes('reviewer') && ctx.course) courseIds.add(ctx.course.id);
  return { userId: ctx.user.id, all: false, courseIds: [...courseIds] };
}

/** An item this person may review: another tenant's is not found (404); another course's is forbidden (403). */
export async function itemFor(repo: ReviewRepository, ctx: SessionContext, scope: ReviewScope, id: string, opts: { forUpdate?: boolean } = {}): Promise<ReviewItemRow> {
  const item = await repo.findItem(ctx.tenant.id, id, opts);
  if (!item) throw new NotFoundError('submission');
  authorize(ctx, 'review.item', { courseId: item.courseId, scope });
  if (item.earnerId === ctx.user.id) throw new ForbiddenError('You cannot review your own submission.', 'Another reviewer will review it.');
  return item;
}

/** What stops this reviewer from reviewing this item, if anything. */
export async function conflictOf(repo: ReviewRepository, ctx: SessionContext, item: ReviewItemRow): Promise<string | null> {
  if (item.earnerId === ctx.user.id) return 'You cannot review your own submission.';
  const mine = await repo.findReview(ctx.tenant.id, item.id, ctx.user.id);
  if (mine?.state === 'submitted') return 'You already reviewed this submission; a second review must come from someone else.';
  const settings = await repo.settings(ctx.tenant.id, item.credentialId);
  if (settings.excludeSameSection && (await repo.sameGroup(ctx.tenant.id, ctx.user.id, item))) return 'Conflict of interest: this educator is in your Canvas section or school.';
  if (!ctx.roles.includes('admin')) {
    const cal = await calibrationStatus(repo, ctx.tenant.id, ctx.user.id, item.credentialId);
    if (!cal.ok) return `Score the ${cal.required} exemplar submission${cal.required === 1 ? '' : 's'} of this micro-credential before reviewing it (${cal.passed} of ${cal.required} done).`;
  }
  return null;
}

export async function calibrationStatus(repo: ReviewRepository, tenantId: string, reviewerId: string, credentialId: string): Promise<{ required: number; passed: number; ok: boolean; exemplarIds: string[] }> {
  const exemplars = await repo.exemplars(tenantId, credentialId);
  if (!exemplars.length) return { required: 0, passed: 0, ok: true, exemplarIds: [] };
  const attempts = await repo.latestAttempts(tenantId, reviewerId);
  const passed = exemplars.filter((e) => attempts.get(e.id)?.passed).length;
  return { required: exemplars.length, passed, ok: passed === exemplars.length, exemplarIds: exemplars.map((e) => e.id) };
}

// ---- submitting (called by the progress engine) -----------------------------------------------------------

export interface SubmitForReviewInput {
  tenantId: string;
  courseId: string;
  credentialId: string;
  versionId: string;
  earnerId: string;
  attempt: number;
  snapshotId: string;
  submittedAt: Date | string;
}

/**
 * Puts an attempt in the queue. Idempotent per (earner, version, attempt): calling again returns the same item.
 * A later attempt links to the earner's previous item of the same micro-credential (a resubmission) and replaces
 * one still waiting. Past the credential's maximum of “not yet” attempts, or once awarded, the item is stored
 * closed (not queued), so the earner and the district can see why.
 */
export async function submitForReview(deps: ReviewDeps, input: SubmitForReviewInput): Promise<ReviewItemRow> {
  return inTransaction(deps, async (repo, tx) => {
    const existing = await repo.findAttempt(input.tenantId, input.earnerId, input.versionId, input.attempt);
    if (existing) return existing;
    const earlier = (await repo.itemsOfEarner(input.tenantId, input.earnerId, input.credentialId)).filter((i) => i.attempt !== input.attempt || i.versionId !== input.versionId);
    const previous = earlier[0];
    for (const open of earlier.filter((i) => i.status === 'pending' || i.status === 'in_review')) {
      await repo.updateItem(input.tenantId, open.id, { status: 'superseded', claimedBy: null, claimedAt: null });
      await repo.audit(input.tenantId, { itemId: open.id, actorId: null, action: 'submit', detail: { superseded: true, byAttempt: input.attempt } });
    }
    const settings = await repo.settings(input.tenantId, input.credentialId);
    const notYet = earlier.filter((i) => i.status === 'not_yet').length;
    const closedReason = earlier.some((i) => i.status === 'awarded') ? 'already_awarded' : settings.maxAttempts !== null && notYet >= settings.maxAttempts ? 'max_attempts' : null;
    const row = await repo.insertItem(input.tenantId, {
      courseId: input.courseId,
      credentialId: input.credentialId,
      versionId: input.versionId,
      earnerId: input.earnerId,
      attempt: input.attempt,
      snapshotId: input.snapshotId,
      previousItemId: previous?.id ?? null,
      status: closedReason ? 'closed' : 'pending',
      closedReason,
      submittedAt: new Date(input.submittedAt),
    });
    if (!row) return (await repo.findAttempt(input.tenantId, input.earnerId, input.versionId, input.attempt))!;
    await repo.audit(input.tenantId, { itemId: row.id, actorId: input.earnerId, action: 'submit', detail: { attempt: input.attempt, snapshotId: input.snapshotId, previousItemId: row.previousItemId, closedReason } });
    await deps.progress.itemChanged(tx, row);
    return row;
  });
}

// ---- claim, release, next, assign -------------------------------------------------------------------------

export async function claimItem(deps: ReviewDeps, ctx: SessionContext, id: string): Promise<ReviewItemRow> {
  const repo = repoOf(deps);
  const scope = await reviewScope(deps, ctx);
  const item = await itemFor(repo, ctx, scope, id);
  if (item.status === 'in_review' && item.claimedBy === ctx.user.id) return item;
  if (item.status === 'in_review') throw new ConflictError('Another reviewer is already reviewing this submission.');
  if (item.status !== 'pending') throw new ConflictError('This submission is no longer waiting for review.');
  const conflict = await conflictOf(repo, ctx, item);
  if (conflict) throw new ForbiddenError(conflict);
  const won = await repo.claim(ctx.tenant.id, id, ctx.user.id);
  if (!won) throw new ConflictError('Another reviewer claimed this submission first.');
  await repo.audit(ctx.tenant.id, { itemId: id, actorId: ctx.user.id, action: 'claim', detail: { round: won.round } });
  return won;
}

export async function releaseItem(deps: ReviewDeps, ctx: SessionContext, id: string): Promise<ReviewItemRow> {
  const repo = repoOf(deps);
  const item = await itemFor(repo, ctx, await reviewScope(deps, ctx), id);
  const admin = ctx.roles.includes('admin');
  if (item.status !== 'in_review') throw new ConflictError('This submission is not claimed.');
  if (item.claimedBy !== ctx.user.id && !admin) throw new ForbiddenError('Only the reviewer who claimed it (or an administrator) can release it.');
  const row = await repo.release(ctx.tenant.id, id, admin ? null : ctx.user.id);
  if (!row) throw new ConflictError('This submission changed; reload and try again.');
  await repo.audit(ctx.tenant.id, { itemId: id, actorId: ctx.user.id, action: 'release', detail: { from: item.claimedBy } });
  return row;
}

/** Claims the oldest waiting item this reviewer may review (under the filters); null when none is left. */
export async function claimNext(deps: ReviewDeps, ctx: SessionContext, f: Pick<QueueFilter, 'credentialId' | 'courseId'> = {}): Promise<ReviewItemRow | null> {
  const repo = repoOf(deps);
  const scope = await reviewScope(deps, ctx);
  for (let page = 0; page < 10; page++) {
    const rows = await repo.queue(ctx.tenant.id, scope, { ...f, status: 'pending', limit: 25, offset: page * 25 });
    // The oldest first; once another reviewer took one, go on from a random place among the rest and round:
    // fifty reviewers pressing “Review next” together then claim different items instead of all racing for the
    // same few oldest ones (bench:load).
    let order = rows;
    for (let i = 0; i < order.length; i++) {
      const r = order[i]!;
      const item = await repo.findItem(ctx.tenant.id, r.id);
      const free = !!item && item.status === 'pending' && !item.claimedBy;
      const conflict = free && (await conflictOf(repo, ctx, item)) !== null;
      const won = free && !conflict ? await repo.claim(ctx.tenant.id, r.id, ctx.user.id) : undefined;
      // Lost to another reviewer (taken before, or just now): spread out.
      if (!won && !conflict && order === rows) {
        const rest = rows.slice(i + 1);
        const start = Math.floor(Math.random() * rest.length);
        order = [...rows.slice(0, i + 1), ...rest.slice(start), ...rest.slice(0, start)];
      }
      if (won) {
        await repo.audit(ctx.tenant.id, { itemId: r.id, actorId: ctx.user.id, action: 'claim', detail: { next: true, round: won.round } });
        return won;
      }
    }
    if (rows.length < 25) break;
  }
  return null;
}

/**
 * Automatic assignment by load: each waiting item, oldest first, goes to the eligible reviewer of its course
 * with the fewest items in review (ties: the lower id, so runs are repeatable). Eligible: a reviewer grant for the
 * course or the district, or a Canvas TA of the course; never the earner, nobody who reviewed it already, nobody
 * with a conflict of interest, and only calibrated reviewers when the credential has exemplars.
 */
export async function autoAssign(deps: ReviewDeps, tenantId: string, actorId: string | null, o: { courseId?: string; limit?: number } = {}): Promise<{ itemId: string; reviewerId: string }[]> {
  const repo = repoOf(deps);
  const loads = await repo.loads(tenantId);
  const everyone: ReviewScope = { userId: '00000000-0000-0000-0000-000000000000', all: true, courseIds: [] };
  const items = await repo.queue(tenantId, everyone, { courseId: o.courseId, status: 'pending', limit: o.limit ?? 200, offset: 0 });
  const reviewersByCourse = new Map<string, { id: string }[]>();
  const out: { itemId: string; reviewerId: string }[] = [];
  for (const q of items) {
    const item = await repo.findItem(tenantId, q.id);
    if (!item || item.status !== 'pending' || item.claimedBy) continue;
    let candidates = reviewersByCourse.get(item.courseId);
    if (!candidates) reviewersByCourse.set(item.courseId, (candidates = await repo.reviewersOf(tenantId, item.courseId)));
    const settings = await repo.settings(tenantId, item.credentialId);
    const reviewed = new Set((await repo.submittedReviews(tenantId, item.id)).map((r) => r.reviewerId));
    const eligible: string[] = [];
    for (const c of candidates) {
      if (c.id === item.earnerId || reviewed.has(c.id)) continue;
      if (settings.excludeSameSection && (await repo.sameGroup(tenantId, c.id, item))) continue;
      if (!(await calibrationStatus(repo, tenantId, c.id, item.credentialId)).ok) continue;
      eligible.push(c.id);
    }
    eligible.sort((a, b) => (loads.get(a) ?? 0) - (loads.get(b) ?? 0) || a.localeCompare(b));
    const pick = eligible[0];
    if (!pick) continue;
    if (await repo.claim(tenantId, item.id, pick)) {
      loads.set(pick, (loads.get(pick) ?? 0) + 1);
      await repo.audit(tenantId, { itemId: item.id, actorId, action: 'assign', detail: { reviewerId: pick, load: loads.get(pick) } });
      out.push({ itemId: item.id, reviewerId: pick });
    }
  }
  return out;
}

// ---- scoring and deciding ---------------------------------------------------------------------------------

export function presentEvaluation(e: Evaluation, rubric: Rubric) {
  const below = e.perCriterion.filter((p) => p.met === false && p.levelId !== null).length;
  const unscored = e.perCriterion.filter((p) => p.levelId === null).length;
  const summary = !e.complete
    ? `${rubric.criteria.length - unscored} of ${rubric.criteria.length} criteria scored`
    : e.passed
      ? `Meets the passing rule: Award (${e.total} of ${e.maxTotal} points)`
      : `Below the passing rule: Not yet (${e.total} of ${e.maxTotal} points${below ? `; ${below} ${below === 1 ? 'criterion' : 'criteria'} below the passing level` : ''})`;
  return { passed: e.passed, complete: e.complete, total: e.total, maxTotal: e.maxTotal, suggested: e.complete ? (e.passed ? 'award' : 'not_yet') : null, summary, perCriterion: e.perCriterion };
}

async function editableItem(repo: ReviewRepository, ctx: SessionContext, scope: ReviewScope, id: string): Promise<ReviewItemRow> {
  const item = await itemFor(repo, ctx, scope, id, { forUpdate: true });
  if (item.status !== 'in_review' || item.claimedBy !== ctx.user.id) {
    throw new ConflictError(item.status === 'pending' ? 'Claim this submission before scoring it.' : item.status === 'in_review' ? 'Another reviewer is reviewing this submission.' : 'This submission has already been decided.');
  }
  return item;
}

/** Saves a draft (autosave, or the “Save draft” button) and answers what the passing rule says of it. */
export async function saveDraft(deps: ReviewDeps, ctx: SessionContext, id: string, body: unknown) {
  const input = parseInput(ReviewInputSchema, body);
  const scope = await reviewScope(deps, ctx);
  return inTransaction(deps, async (repo) => {
    const item = await editableItem(repo, ctx, scope, id);
    const version = (await repo.version(ctx.tenant.id, item.versionId))!;
    const evaluation = evaluate(version.rubric, version.passingRule, input.scores);
    const before = await repo.findReview(ctx.tenant.id, item.id, ctx.user.id);
    const review = await repo.upsertReview(ctx.tenant.id, { itemId: item.id, reviewerId: ctx.user.id, round: item.round, state: 'draft', scores: input.scores, criterionComments: input.comments, feedback: input.feedback });
    const changed = Object.fromEntries(Object.entries(input.scores).filter(([c, l]) => before?.scores[c] !== l));
    if (Object.keys(changed).length) await repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'score', detail: { round: item.round, changed } });
    return { review: presentReview(review), evaluation: presentEvaluation(evaluation, version.rubric) };
  });
}

export type DecisionOutcome = 'awarded' | 'not_yet' | 'second_review' | 'third_review';

/**
 * Submits a review with a decision. The first review decides unless the credential asks for a second, independent
 * one (for all, a random share, or borderline results); a second that agrees decides, one that disagrees sends the
 * item to a third reviewer, whose decision is final. The final decision commits with its consequences: the award
 * hook (issue 6) or the “not yet” feedback job (outbox: it exists only if this transaction commits).
 */
export async function decide(deps: ReviewDeps, ctx: SessionContext, id: string, body: unknown): Promise<{ outcome: DecisionOutcome; item: ReviewItemRow; review: ReviewRow }> {
  const input = parseInput(DecisionInputSchema, body);
  const scope = await reviewScope(deps, ctx);
  return inTransaction(deps, async (repo, tx) => {
    const item = await editableItem(repo, ctx, scope, id);
    const version = (await repo.version(ctx.tenant.id, item.versionId))!;
    const evaluation = evaluate(version.rubric, version.passingRule, input.scores);
    if (!evaluation.complete) {
      const missing = version.rubric.criteria.filter((c) => !input.scores[c.id]);
      throw new InvalidInputError('Score every criterion before deciding.', Object.fromEntries(missing.map((c) => [`scores.${c.id}`, `Choose a level for “${c.title}”.`])));
    }
    const check = checkDecision(evaluation, input.decision, input.overrideComment);
    if (check.problem) throw new InvalidInputError(check.problem, { overrideComment: check.problem });
    const review = await repo.upsertReview(ctx.tenant.id, {
      itemId: item.id,
      reviewerId: ctx.user.id,
      round: item.round,
      state: 'submitted',
      scores: input.scores,
      criterionComments: input.comments,
      feedback: input.feedback,
      computedPassed: evaluation.passed,
      total: evaluation.total,
      decision: input.decision,
      override: check.override,
      overrideComment: check.override ? input.overrideComment!.trim() : null,
      submittedAt: new Date(),
    });
    const who = { itemId: item.id, actorId: ctx.user.id };
    await repo.audit(ctx.tenant.id, { ...who, action: 'score', detail: { round: item.round, scores: input.scores, final: true } });
    await repo.audit(ctx.tenant.id, { ...who, action: 'decision', detail: { round: item.round, decision: input.decision, computedPassed: evaluation.passed, total: evaluation.total } });
    if (check.override) await repo.audit(ctx.tenant.id, { ...who, action: 'override', detail: { decision: input.decision, computedPassed: evaluation.passed, comment: review.overrideComment } });

    const settings = await repo.settings(ctx.tenant.id, item.credentialId);
    const submitted = await repo.submittedReviews(ctx.tenant.id, item.id);
    const second =
      item.round === 1
        ? needsSecondReview({ mode: settings.secondReview, share: settings.secondReviewShare }, item.id, settings.secondReview === 'borderline' && isBorderline(version.rubric, version.passingRule, input.scores))
        : (item.calibration as 'all' | 'random' | 'borderline' | null);
    const next = nextRound(item.round, submitted.map((r) => r.decision!), second);
    if (!next.done) {
      await repo.updateItem(ctx.tenant.id, item.id, { status: 'pending', round: next.round, claimedBy: null, claimedAt: null, calibration: second });
      const updated = (await repo.findItem(ctx.tenant.id, item.id))!;
      return { outcome: next.round === 2 ? ('second_review' as const) : ('third_review' as const), item: updated, review };
    }
    // Two reviewers who agree: the first one's feedback goes to the earner. A third review settles a disagreement.
    const final = item.round === 2 ? (submitted.find((r) => r.round === 1) ?? review) : review;
    const status = final.decision === 'award' ? 'awarded' : 'not_yet';
    await repo.updateItem(ctx.tenant.id, item.id, { status, decidedAt: new Date(), decisionReviewId: final.id, claimedBy: null, claimedAt: null });
    const decided = (await repo.findItem(ctx.tenant.id, item.id))!;
    await deps.progress.itemChanged(tx, decided);
    if (status === 'awarded') await deps.onAward(deps, { tx, item: decided, decision: final });
    else {
      if (deps.jobs) await deps.jobs.send(PASSBACK_JOB, { tenantId: ctx.tenant.id, itemId: item.id }, { tx, singletonKey: item.id });
      if (deps.onNotYet) await deps.onNotYet(deps, { tx, item: decided, decision: final });
    }
    return { outcome: status, item: decided, review };
  });
}

export function presentReview(r: ReviewRow | undefined) {
  if (!r) return { state: 'none' as const, scores: {}, comments: {}, feedback: '', decision: null, override: false, overrideComment: null, updatedAt: null, submittedAt: null };
  return {
    id: r.id,
    state: r.state,
    round: r.round,
    scores: r.scores,
    comments: r.criterionComments,
    feedback: r.feedback,
    decision: r.decision,
    override: r.override,
    overrideComment: r.overrideComment,
    updatedAt: r.updatedAt.toISOString(),
    submittedAt: r.submittedAt?.toISOString() ?? null,
  };
}

