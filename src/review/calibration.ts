import type { SessionContext } from '../lti/sessions';
import { authorize, can } from '../policies';
import { parseInput } from '../catalog/model';
import { evaluate } from '../catalog/rules';
import { CatalogRepository } from '../catalog/repository';
import { EnrollmentSchema } from '../canvas/types';
import { ConflictError, InvalidInputError, NotFoundError } from '../web/errors';
import { AffiliationInputSchema, ExemplarAttemptSchema, ExemplarInputSchema, SettingsInputSchema } from './model';
import type { ReviewDeps } from './ports';
import type { ReviewRepository } from './repository';
import { cohensKappa, criterionPairs, exactAgreement, scoreAgreement, type Pair } from './rules';
import { calibrationStatus, inTransaction, repoOf } from './service';
import { presentEvidence } from './reading';

/** Per-credential settings, exemplars, agreement figures and Canvas sections: the district's side of review. */

/** A credential whose review settings this person may change: its course's designers and admins. */
async function configurableCredential(deps: ReviewDeps, ctx: SessionContext, credentialId: string) {
  const c = await new CatalogRepository(deps.db.orm).findCredential(ctx.tenant.id, credentialId);
  if (!c || !can(ctx, 'credential.view', c)) throw new NotFoundError('micro-credential');
  authorize(ctx, 'credential.change', c);
  return c;
}

export async function getSettings(deps: ReviewDeps, ctx: SessionContext, credentialId: string) {
  const c = await new CatalogRepository(deps.db.orm).findCredential(ctx.tenant.id, credentialId);
  if (!c) throw new NotFoundError('micro-credential');
  const s = await repoOf(deps).settings(ctx.tenant.id, c.id);
  return { credentialId: c.id, maxAttempts: s.maxAttempts, blind: s.blind, secondReview: s.secondReview, secondReviewShare: s.secondReviewShare, excludeSameSection: s.excludeSameSection, exemplarThreshold: s.exemplarThreshold };
}

export async function putSettings(deps: ReviewDeps, ctx: SessionContext, credentialId: string, body: unknown) {
  const input = parseInput(SettingsInputSchema, body);
  const c = await configurableCredential(deps, ctx, credentialId);
  await inTransaction(deps, async (repo) => {
    await repo.saveSettings(ctx.tenant.id, c.id, input, ctx.user.id);
    await repo.audit(ctx.tenant.id, { itemId: null, actorId: ctx.user.id, action: 'settings', detail: { credentialId: c.id, ...input } });
  });
  return getSettings(deps, ctx, c.id);
}

// ---- exemplars --------------------------------------------------------------------------------------------

/** A designer (or admin) makes a submission an exemplar, with the agreed scores. */
export async function createExemplar(deps: ReviewDeps, ctx: SessionContext, body: unknown) {
  const input = parseInput(ExemplarInputSchema, body);
  const repo = repoOf(deps);
  const item = await repo.findItem(ctx.tenant.id, input.itemId);
  if (!item) throw new InvalidInputError('That submission was not found.', { itemId: 'That submission was not found.' });
  await configurableCredential(deps, ctx, item.credentialId);
  const version = (await repo.version(ctx.tenant.id, item.versionId))!;
  const e = evaluate(version.rubric, version.passingRule, input.trueScores);
  if (!e.complete) throw new InvalidInputError('Give the agreed level of every criterion.', { trueScores: 'Give the agreed level of every criterion.' });
  const ex = await repo.insertExemplar(ctx.tenant.id, { credentialId: item.credentialId, itemId: item.id, title: input.title, trueScores: input.trueScores, createdBy: ctx.user.id });
  await repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'exemplar', detail: { exemplarId: ex.id, created: true } });
  return { id: ex.id, credentialId: ex.credentialId, itemId: ex.itemId, title: ex.title, trueScores: ex.trueScores };
}

/** Exemplars this reviewer has to score (per credential), with their latest result. */
export async function listExemplars(deps: ReviewDeps, ctx: SessionContext, credentialId?: string) {
  const repo = repoOf(deps);
  const [exemplars, attempts] = await Promise.all([repo.exemplars(ctx.tenant.id, credentialId), repo.latestAttempts(ctx.tenant.id, ctx.user.id)]);
  const names = new Map<string, string>();
  for (const e of exemplars) if (!names.has(e.credentialId)) names.set(e.credentialId, (await repo.version(ctx.tenant.id, (await repo.findItem(ctx.tenant.id, e.itemId))!.versionId))?.name ?? '');
  return {
    exemplars: exemplars.map((e) => {
      const a = attempts.get(e.id);
      return { id: e.id, title: e.title, credential: { id: e.credentialId, name: names.get(e.credentialId) ?? '' }, scored: !!a, agreement: a?.agreement ?? null, passed: a?.passed ?? false, page: `${ctx.base}/review/exemplars/${e.id}` };
    }),
  };
}

export async function loadExemplar(deps: ReviewDeps, ctx: SessionContext, id: string) {
  const repo = repoOf(deps);
  const ex = await repo.findExemplar(ctx.tenant.id, id);
  if (!ex) throw new NotFoundError('exemplar');
  const item = (await repo.findItem(ctx.tenant.id, ex.itemId))!;
  const version = (await repo.version(ctx.tenant.id, item.versionId))!;
  const snap = await deps.evidence.snapshot(ctx.tenant.id, item.snapshotId);
  const attempt = (await repo.latestAttempts(ctx.tenant.id, ctx.user.id)).get(ex.id);
  const settings = await repo.settings(ctx.tenant.id, ex.credentialId);
  await repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'view_evidence', detail: { exemplarId: ex.id } });
  return {
    exemplar: { id: ex.id, title: ex.title, threshold: settings.exemplarThreshold },
    credential: { id: ex.credentialId, name: version.name },
    rubric: version.rubric,
    evidence: presentEvidence(ctx, `/review/exemplars/${ex.id}`, snap),
    // The agreed scores are shown only after an attempt, so the first one is independent.
    attempt: attempt ? { agreement: attempt.agreement, passed: attempt.passed, scores: attempt.scores, trueScores: ex.trueScores } : null,
  };
}

export async function scoreExemplar(deps: ReviewDeps, ctx: SessionContext, id: string, body: unknown) {
  const input = parseInput(ExemplarAttemptSchema, body);
  const repo = repoOf(deps);
  const ex = await repo.findExemplar(ctx.tenant.id, id);
  if (!ex) throw new NotFoundError('exemplar');
  const item = (await repo.findItem(ctx.tenant.id, ex.itemId))!;
  const version = (await repo.version(ctx.tenant.id, item.versionId))!;
  const e = evaluate(version.rubric, version.passingRule, input.scores);
  if (!e.complete) throw new InvalidInputError('Score every criterion of the exemplar.', { scores: 'Score every criterion of the exemplar.' });
  const settings = await repo.settings(ctx.tenant.id, ex.credentialId);
  const agreement = scoreAgreement(input.scores, ex.trueScores);
  const passed = agreement >= settings.exemplarThreshold;
  await repo.addExemplarAttempt(ctx.tenant.id, { exemplarId: ex.id, reviewerId: ctx.user.id, scores: input.scores, agreement, passed });
  await repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'exemplar', detail: { exemplarId: ex.id, agreement, passed } });
  const status = await calibrationStatus(repo, ctx.tenant.id, ctx.user.id, ex.credentialId);
  return { agreement, passed, threshold: settings.exemplarThreshold, trueScores: ex.trueScores, calibrated: status.ok, remaining: status.required - status.passed };
}

// ---- agreement figures ------------------------------------------------------------------------------------

interface Figures {
  pairs: number;
  exactAgreement: number | null;
  kappa: number | null;
}
const figures = (pairs: Pair[]): Figures => ({ pairs: pairs.length, exactAgreement: round(exactAgreement(pairs)), kappa: round(cohensKappa(pairs)) });
const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

/**
 * Agreement between reviewers who scored the same submission (second and third reviews), per criterion and per
 * reviewer: exact agreement and Cohen's kappa over rubric levels, and over decisions; plus each reviewer's
 * agreement with the exemplars' agreed scores. Reviewers see their own row; designers and admins everyone's.
 */
export async function calibrationReport(deps: ReviewDeps, ctx: SessionContext, credentialId?: string) {
  const repo = repoOf(deps);
  const everyone = ctx.roles.includes('admin') || ctx.roles.includes('designer');
  const pairs = await repo.reviewPairs(ctx.tenant.id, credentialId);
  const perCriterion = new Map<string, { credentialId: string; criterionId: string; title: string; pairs: Pair[] }>();
  const perReviewer = new Map<string, { levels: Pair[]; decisions: Pair[]; exemplar: Pair[] }>();
  const reviewerOf = (id: string) => perReviewer.get(id) ?? perReviewer.set(id, { levels: [], decisions: [], exemplar: [] }).get(id)!;
  const titles = await titlesOf(repo, ctx.tenant.id, [...new Set(pairs.map((p) => p.versionId))]);
  for (const p of pairs) {
    for (const { criterionId, pair } of criterionPairs(p.a.scores, p.b.scores)) {
      const key = `${p.credentialId}/${criterionId}`;
      const entry = perCriterion.get(key) ?? perCriterion.set(key, { credentialId: p.credentialId, criterionId, title: titles.get(`${p.versionId}/${criterionId}`) ?? criterionId, pairs: [] }).get(key)!;
      entry.pairs.push(pair);
      reviewerOf(p.a.reviewerId).levels.push(pair);
      reviewerOf(p.b.reviewerId).levels.push([pair[1], pair[0]]);
    }
    if (p.a.decision && p.b.decision) {
      reviewerOf(p.a.reviewerId).decisions.push([p.a.decision, p.b.decision]);
      reviewerOf(p.b.reviewerId).decisions.push([p.b.decision, p.a.decision]);
    }
  }
  const exemplars = new Map((await repo.exemplars(ctx.tenant.id, credentialId)).map((e) => [e.id, e]));
  for (const a of await repo.allAttempts(ctx.tenant.id)) {
    const ex = exemplars.get(a.exemplarId);
    if (!ex) continue;
    for (const { pair } of criterionPairs(a.scores, ex.trueScores)) reviewerOf(a.reviewerId).exemplar.push(pair);
  }
  const ids = [...perReviewer.keys()].filter((id) => everyone || id === ctx.user.id);
  const names = new Map<string, string | null>();
  for (const id of ids) names.set(id, (await repo.user(ctx.tenant.id, id))?.name ?? null);
  return {
    credentialId: credentialId ?? null,
    perCriterion: [...perCriterion.values()].map((c) => ({ credentialId: c.credentialId, criterionId: c.criterionId, title: c.title, ...figures(c.pairs) })),
    perReviewer: ids.map((id) => {
      const r = perReviewer.get(id)!;
      return { reviewerId: id, name: names.get(id) ?? null, levels: figures(r.levels), decisions: figures(r.decisions), exemplars: figures(r.exemplar) };
    }),
  };
}

async function titlesOf(repo: ReviewRepository, tenantId: string, versionIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of versionIds) {
    const v = await repo.version(tenantId, id);
    for (const c of v?.rubric.criteria ?? []) out.set(`${id}/${c.id}`, c.title);
  }
  return out;
}

// ---- sections and schools (conflict of interest) ----------------------------------------------------------

/** Reads the session course's enrollments from Canvas and stores each known person's sections. */
export async function syncSections(deps: ReviewDeps, ctx: SessionContext) {
  if (!ctx.course?.canvasCourseId) throw new ConflictError('Open microcred from a Canvas course to read its sections.');
  if (!deps.canvas) throw new ConflictError('Canvas API access has not been set up.');
  const client = await deps.canvas.forSession(ctx);
  const enrollments = await client.list(`/api/v1/courses/${encodeURIComponent(ctx.course.canvasCourseId)}/enrollments`, { per_page: 100 }, EnrollmentSchema);
  const byUser = new Map<string, Set<string>>();
  for (const e of enrollments) if (e.course_section_id) (byUser.get(e.user_id) ?? byUser.set(e.user_id, new Set()).get(e.user_id)!).add(e.course_section_id);
  const repo = repoOf(deps);
  const known = await repo.usersByCanvasIds(ctx.tenant.id, [...byUser.keys()]);
  let stored = 0;
  for (const [canvasId, sections] of byUser) {
    const userId = known.get(canvasId);
    if (!userId) continue;
    await repo.setAffiliation(ctx.tenant.id, ctx.course.id, userId, { sectionIds: [...sections].sort() });
    stored++;
  }
  return { enrollments: enrollments.length, people: stored };
}

/** Sets a person's sections or school by hand (a school is not in Canvas enrollments). */
export async function setAffiliation(deps: ReviewDeps, ctx: SessionContext, body: unknown) {
  const input = parseInput(AffiliationInputSchema, body);
  const repo = repoOf(deps);
  if (!(await repo.user(ctx.tenant.id, input.userId))) throw new InvalidInputError('That person was not found.', { userId: 'That person was not found.' });
  if (!(await repo.course(ctx.tenant.id, input.courseId))) throw new InvalidInputError('That course was not found.', { courseId: 'That course was not found.' });
  await repo.setAffiliation(ctx.tenant.id, input.courseId, input.userId, { sectionIds: input.sectionIds, school: input.school });
  return { ok: true };
}
