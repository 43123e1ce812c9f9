import type { CanvasAccess } from '../canvas/access';
import { CanvasAuthorizationRequired, CanvasForbidden, CanvasNotFound, CanvasRequestError } from '../canvas/errors';
import { ReviewRepository } from '../review/repository';
import type { AwardRepository } from './repository';
import type { PassbackState } from './schema';

/**
 * The “not yet” message: a Canvas conversation telling the educator their evidence was reviewed and where the
 * feedback is. Queued in the decision's transaction (src/review/service.ts → the review's `onNotYet` hook) with a
 * `not_yet_notices` row, which keeps a retry from messaging twice and shows how sending went.
 */

export const NOT_YET_JOB = 'awards.notifyNotYet';
export interface NotYetJobData { tenantId: string; itemId: string }

export async function runNotYetNotice(deps: { repo: AwardRepository; canvas: CanvasAccess | null; maxAttempts: number }, job: NotYetJobData): Promise<PassbackState | 'gone'> {
  const { repo } = deps;
  const notice = await repo.notYetNotice(job.tenantId, job.itemId);
  if (!notice) return 'gone';
  if (notice.state === 'sent' || notice.state === 'skipped') return notice.state;
  const reviews = new ReviewRepository(repo.orm);
  const item = await reviews.findItem(job.tenantId, job.itemId);
  const skip = async (why: string) => {
    await repo.updateNotYetNotice(job.tenantId, job.itemId, { state: 'skipped', lastError: why });
    return 'skipped' as const;
  };
  if (!item || item.status !== 'not_yet' || !deps.canvas) return skip('The decision changed, or Canvas is not connected.');
  const earner = await repo.user(job.tenantId, item.earnerId);
  if (!earner?.canvasUserId) return skip('microcred does not know this educator’s Canvas id.');
  if (!(await repo.preferences(job.tenantId, earner.id)).notifyNotYet) return skip('The educator turned “not yet” messages off.');
  const [version, course, tenant, decision] = await Promise.all([
    reviews.version(job.tenantId, item.versionId),
    repo.course(job.tenantId, item.courseId),
    repo.tenant(job.tenantId),
    item.decisionReviewId ? reviews.reviewById(job.tenantId, item.decisionReviewId) : Promise.resolve(undefined),
  ]);
  const attempts = notice.attempts + 1;
  try {
    // The deciding reviewer shares the course with the educator; their token, else the district's service token.
    const client = await deps.canvas.forUser({ id: job.tenantId, canvasBaseUrl: tenant?.canvasBaseUrl ?? null }, decision?.reviewerId ?? item.earnerId);
    await client.postConversation({
      recipients: [earner.canvasUserId],
      subject: `Not yet: ${version?.name ?? 'your micro-credential'}`,
      body: `Your evidence for “${version?.name ?? 'your micro-credential'}” (attempt ${item.attempt}) was reviewed: not yet.\n\nYour reviewer’s feedback, criterion by criterion, is on the assignment in Canvas and in microcred (open it from ${course?.title ?? 'your course'}). Revise your evidence and submit the assignment again: the next attempt goes back to review.\n\n(You can turn these messages off in microcred.)`,
      contextCode: course?.canvasCourseId ? `course_${course.canvasCourseId}` : undefined,
      forceNew: true,
    });
    await repo.updateNotYetNotice(job.tenantId, job.itemId, { state: 'sent', attempts, lastError: null, sentAt: new Date() });
    return 'sent';
  } catch (err) {
    const permanent = err instanceof CanvasAuthorizationRequired || err instanceof CanvasForbidden || err instanceof CanvasNotFound || err instanceof CanvasRequestError;
    const state: PassbackState = !permanent && attempts < deps.maxAttempts ? 'retrying' : 'failed';
    await repo.updateNotYetNotice(job.tenantId, job.itemId, { state, attempts, lastError: err instanceof Error ? err.message : String(err) });
    if (state === 'retrying') throw err;
    return state;
  }
}
