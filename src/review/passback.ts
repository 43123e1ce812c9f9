import type { Rubric } from '../catalog/model';
import type { CanvasRubricCriterion } from '../canvas/types';
import { logger } from '../log';
import type { ReviewDeps } from './ports';
import { decidedFeedback } from './reading';
import { repoOf } from './service';

/**
 * The “not yet” feedback reaches the earner in Canvas: a submission comment on the evidence assignment, and a
 * rubric assessment when the assignment has a Canvas rubric. Runs as a durable job (sent in the decision's
 * transaction); the Canvas client acts as the deciding reviewer, or the district's service token.
 */

export interface PassbackJob {
  tenantId: string;
  itemId: string;
}

export async function runPassback(deps: ReviewDeps, job: PassbackJob): Promise<'posted' | 'skipped'> {
  const repo = repoOf(deps);
  const item = await repo.findItem(job.tenantId, job.itemId);
  if (!item || item.status !== 'not_yet') return 'skipped';
  // A retry after Canvas took the comment must not post it twice (Canvas comments are not idempotent).
  if (await repo.hasAudit(job.tenantId, item.id, 'passback')) return 'skipped';
  const feedback = await decidedFeedback(repo, job.tenantId, item);
  const [attachment, earner, version, decision] = await Promise.all([
    repo.attachment(job.tenantId, item.courseId, item.credentialId),
    repo.user(job.tenantId, item.earnerId),
    repo.version(job.tenantId, item.versionId),
    item.decisionReviewId ? repo.reviewById(job.tenantId, item.decisionReviewId) : Promise.resolve(undefined),
  ]);
  const log = logger.child({ job: 'review.passback', tenant: job.tenantId, item: item.id });
  if (!feedback || !version || !decision) return 'skipped';
  if (!attachment || !earner?.canvasUserId || !deps.canvas) {
    log.warn({ attached: !!attachment, canvasUser: !!earner?.canvasUserId }, 'no Canvas assignment to post “not yet” feedback to; the earner sees it in microcred');
    await repo.audit(job.tenantId, { itemId: item.id, actorId: null, action: 'passback', detail: { posted: false, reason: 'no evidence assignment' } });
    return 'skipped';
  }
  const tenant = await deps.db.sql.query<{ id: string; canvas_base_url: string | null }>('SELECT id, canvas_base_url FROM tenants WHERE id = $1', [job.tenantId]);
  const client = await deps.canvas.forUser({ id: job.tenantId, canvasBaseUrl: tenant.rows[0]?.canvas_base_url ?? null }, decision.reviewerId);
  const assignment = await client.getAssignment(attachment.canvasCourseId, attachment.assignmentId);
  const rubricAssessment = assignment.rubric?.length ? mapRubricAssessment(version.rubric, assignment.rubric, decision.scores, decision.criterionComments) : undefined;
  const comment = feedbackComment(version.name, item.attempt, feedback);
  await client.gradeSubmission(attachment.canvasCourseId, attachment.assignmentId, earner.canvasUserId, {
    comment,
    ...(rubricAssessment && Object.keys(rubricAssessment).length ? { rubricAssessment } : {}),
  });
  await repo.audit(job.tenantId, { itemId: item.id, actorId: null, action: 'passback', detail: { posted: true, rubricCriteria: Object.keys(rubricAssessment ?? {}).length, actingAs: client.actingAs } });
  return 'posted';
}

/** The comment an earner reads in Canvas: the decision, each criterion's level and comment, the overall feedback. */
export function feedbackComment(credentialName: string, attempt: number, f: NonNullable<Awaited<ReturnType<typeof decidedFeedback>>>): string {
  const lines = [`Not yet: ${credentialName} (attempt ${attempt})`, ''];
  if (f.feedback.trim()) lines.push(f.feedback.trim(), '');
  for (const c of f.criteria) lines.push(`• ${c.title}: ${c.level ?? 'not scored'}${c.met === false ? ' (below the passing level)' : ''}${c.comment.trim() ? ` — ${c.comment.trim()}` : ''}`);
  lines.push('', 'Revise your evidence and submit the assignment again: your next attempt goes back to review.');
  return lines.join('\n');
}

/**
 * Our criteria → the Canvas rubric's. A rubric imported from Canvas kept Canvas's ids, so ids match; otherwise a
 * criterion matches by title and a level by its rating's id, name or points. Criteria with no match are left out.
 */
export function mapRubricAssessment(rubric: Rubric, canvas: CanvasRubricCriterion[], scores: Record<string, string>, comments: Record<string, string>): Record<string, { points?: number; ratingId?: string; comments?: string }> {
  const norm = (s: string | null | undefined) => (s ?? '').trim().toLowerCase();
  const out: Record<string, { points?: number; ratingId?: string; comments?: string }> = {};
  for (const c of rubric.criteria) {
    const cc = canvas.find((x) => x.id === c.id) ?? canvas.find((x) => norm(x.description) === norm(c.title));
    const level = c.levels.find((l) => l.id === scores[c.id]);
    if (!cc || !level) continue;
    const rating = cc.ratings.find((r) => r.id === level.id) ?? cc.ratings.find((r) => norm(r.description) === norm(level.name)) ?? cc.ratings.find((r) => r.points === level.points);
    out[cc.id] = { points: rating?.points ?? level.points, ...(rating ? { ratingId: rating.id } : {}), ...(comments[c.id]?.trim() ? { comments: comments[c.id]!.trim() } : {}) };
  }
  return out;
}
