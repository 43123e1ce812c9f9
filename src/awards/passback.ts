import type { CanvasAccess } from '../canvas/access';
import type { CanvasClient } from '../canvas/client';
import { CanvasAuthorizationRequired, CanvasForbidden, CanvasNotFound, CanvasRequestError } from '../canvas/errors';
import { ModuleSchema } from '../canvas/types';
import { maxPoints } from '../catalog/rules';
import { logger } from '../log';
import { ReviewRepository } from '../review/repository';
import { decidedFeedback } from '../review/reading';
import { mapRubricAssessment } from '../review/passback';
import { AgsError, type AgsClient, type AgsPlatform } from './ags';
import type { AwardRepository } from './repository';
import type { AwardPassbackRow, AwardRow, PassbackState } from './schema';

/**
 * The outbox's jobs: what an award tells Canvas, one passback row each (docs/awards.md).
 * - `ags_score`: the score on the credential's line item (AGS), with the verification link as the comment;
 * - `rubric_assessment`: the reviewer's rubric assessment and a comment on the evidence assignment (REST);
 * - `notification`: a Canvas conversation to the educator (unless they opted out);
 * - `next_level`: a stack's next level opens (enrolment in the next course, or its module published).
 * A failure Canvas may get over (5xx, timeout, throttling) leaves the row `retrying` and the job retries with
 * backoff; one it will not (no line item, no access, refused) marks it `failed` with the reason in plain words,
 * and a designer's Retry queues it again.
 */

export interface PassbackDeps {
  repo: AwardRepository;
  canvas: CanvasAccess | null;
  ags: AgsClient;
  /** ltijs's registration of the tenant's platform, for the AGS client-credentials grant. */
  platform: (issuer: string, clientId: string) => Promise<AgsPlatform | undefined>;
  publicUrl: string;
  /** Tries before a transient failure becomes `failed` (pg-boss retries the job as often). */
  maxAttempts: number;
}

/** A reason Canvas will not accept this passback until someone changes something (not worth an automatic retry). */
export class PassbackProblem extends Error {}

/** Not needed or not wanted: the row ends `skipped` with this reason. */
class Skip extends Error {}

export function verificationUrl(publicUrl: string, issuedCredentialId: string | null): string {
  return `${publicUrl}/credentials/${issuedCredentialId ?? ''}`;
}

export async function runAwardPassback(deps: PassbackDeps, job: { tenantId: string; passbackId: string }): Promise<PassbackState | 'gone'> {
  const { repo } = deps;
  const row = await repo.passback(job.tenantId, job.passbackId);
  if (!row) return 'gone';
  if (row.state === 'sent' || row.state === 'skipped') return row.state;
  const award = await repo.award(job.tenantId, row.awardId);
  if (!award) return 'gone';
  const log = logger.child({ job: 'awards.passback', tenant: job.tenantId, passback: row.id, kind: row.kind });
  if (award.revokedAt) {
    await repo.updatePassback(job.tenantId, row.id, { state: 'skipped', lastError: 'The award was revoked before Canvas heard of it.' });
    return 'skipped';
  }
  const attempts = await repo.countAttempt(job.tenantId, row.id);
  try {
    const payload = await perform(deps, row, award);
    await repo.updatePassback(job.tenantId, row.id, { state: 'sent', lastError: null, sentAt: new Date(), payload: { ...(row.payload ?? {}), ...payload } });
    return 'sent';
  } catch (err) {
    if (err instanceof Skip) {
      await repo.updatePassback(job.tenantId, row.id, { state: 'skipped', lastError: err.message });
      return 'skipped';
    }
    const message = describe(err);
    const transient = isTransient(err);
    const state: PassbackState = transient && attempts < deps.maxAttempts ? 'retrying' : 'failed';
    await repo.updatePassback(job.tenantId, row.id, { state, lastError: message });
    log.warn({ err: message, attempts, state }, 'award passback did not go through');
    // Throwing hands the retry (with backoff) to the queue; a failed row waits for a person.
    if (state === 'retrying') throw err;
    return state;
  }
}

function isTransient(err: unknown): boolean {
  // Canvas refused (403, 404, other 4xx), no access, or something a person must fix: retrying alone will not help.
  if (err instanceof PassbackProblem || err instanceof CanvasAuthorizationRequired || err instanceof CanvasNotFound || err instanceof CanvasForbidden || err instanceof CanvasRequestError) return false;
  if (err instanceof AgsError) return err.transient;
  return true;
}

function describe(err: unknown): string {
  if (err instanceof CanvasAuthorizationRequired) return `microcred has no Canvas access for this: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

async function perform(deps: PassbackDeps, row: AwardPassbackRow, award: AwardRow): Promise<Record<string, unknown>> {
  switch (row.kind) {
    case 'ags_score':
      return agsScore(deps, row, award);
    case 'rubric_assessment':
      return rubricAssessment(deps, award);
    case 'notification':
      return notify(deps, award);
    case 'next_level':
      return nextLevel(deps, award);
  }
}

async function agsScore(deps: PassbackDeps, row: AwardPassbackRow, award: AwardRow): Promise<Record<string, unknown>> {
  const { repo } = deps;
  if (!award.courseId || !award.versionId || !award.credentialId) throw new Skip('No course gradebook for this award.');
  const [tenant, earner, version] = await Promise.all([repo.tenant(award.tenantId), repo.user(award.tenantId, award.earnerId), repo.publishedVersion(award.tenantId, award.versionId)]);
  if (!tenant || !earner || !version) throw new Skip('The award’s educator or micro-credential no longer exists.');
  const lineitems = await repo.lineitemsUrl(award.tenantId, award.courseId);
  if (!lineitems) throw new PassbackProblem('microcred does not know where this course’s grades go yet: open microcred once from the course in Canvas (the launch says where), then retry.');
  const platform = await deps.platform(tenant.issuer, tenant.clientId);
  if (!platform) throw new PassbackProblem('The Canvas registration of this district is missing or inactive in microcred.');
  const lineItem = await deps.ags.findLineItem(platform, lineitems, award.credentialId);
  if (!lineItem) throw new PassbackProblem(`No graded assignment for “${version.version.name}” in this Canvas course. Add it as a graded assignment with “Add to course” (Deep Linking), then retry.`);
  const scoreMaximum = maxPoints(version.version.rubric);
  const given = typeof row.payload?.points === 'number' ? (row.payload.points as number) : scoreMaximum;
  const url = verificationUrl(deps.publicUrl, award.issuedCredentialId);
  const sent = await deps.ags.submitScore(platform, lineItem.id, {
    userId: earner.ltiSub,
    scoreGiven: Math.min(given, scoreMaximum),
    scoreMaximum,
    comment: `Awarded: ${version.version.name}. Verify the credential: ${url}`,
    activityProgress: 'Completed',
    gradingProgress: 'FullyGraded',
    // A badge award grades what was submitted; it must not create a new submission attempt.
    'https://canvas.instructure.com/lti/submission': { new_submission: false },
  });
  return { lineItem: lineItem.id, scoreGiven: Math.min(given, scoreMaximum), scoreMaximum, timestamp: sent.timestamp, comment: url };
}

async function rubricAssessment(deps: PassbackDeps, award: AwardRow): Promise<Record<string, unknown>> {
  const { repo } = deps;
  if (!award.reviewItemId || !award.courseId || !award.credentialId || !deps.canvas) throw new Skip('Not a reviewed award.');
  const reviews = new ReviewRepository(repo.orm);
  const item = await reviews.findItem(award.tenantId, award.reviewItemId);
  const decision = item?.decisionReviewId ? await reviews.reviewById(award.tenantId, item.decisionReviewId) : undefined;
  const feedback = item ? await decidedFeedback(reviews, award.tenantId, item) : null;
  const [attachment, earner, version, tenant] = await Promise.all([
    repo.attachment(award.tenantId, award.courseId, award.credentialId),
    repo.user(award.tenantId, award.earnerId),
    repo.publishedVersion(award.tenantId, award.versionId!),
    repo.tenant(award.tenantId),
  ]);
  if (!item || !decision || !feedback || !version || !tenant) throw new Skip('The review behind this award is gone.');
  if (!attachment) throw new Skip('The micro-credential has no evidence assignment in this course; the educator sees the feedback in microcred.');
  if (!earner?.canvasUserId) throw new Skip('microcred does not know this educator’s Canvas id.');
  const client = await deps.canvas.forUser({ id: tenant.id, canvasBaseUrl: tenant.canvasBaseUrl }, decision.reviewerId);
  const assignment = await client.getAssignment(attachment.canvasCourseId, attachment.assignmentId);
  const mapped = assignment.rubric?.length ? mapRubricAssessment(version.version.rubric, assignment.rubric, decision.scores, decision.criterionComments) : {};
  const lines = [`Awarded: ${version.version.name} (attempt ${item.attempt})`, ''];
  if (feedback.feedback.trim()) lines.push(feedback.feedback.trim(), '');
  for (const c of feedback.criteria) lines.push(`• ${c.title}: ${c.level ?? 'not scored'}${c.comment.trim() ? ` — ${c.comment.trim()}` : ''}`);
  lines.push('', `Your credential: ${verificationUrl(deps.publicUrl, award.issuedCredentialId)}`);
  await client.gradeSubmission(attachment.canvasCourseId, attachment.assignmentId, earner.canvasUserId, { comment: lines.join('\n'), ...(Object.keys(mapped).length ? { rubricAssessment: mapped } : {}) });
  return { assignment: attachment.assignmentId, rubricCriteria: Object.keys(mapped).length, actingAs: client.actingAs };
}

async function notify(deps: PassbackDeps, award: AwardRow): Promise<Record<string, unknown>> {
  const { repo } = deps;
  const [earner, tenant] = await Promise.all([repo.user(award.tenantId, award.earnerId), repo.tenant(award.tenantId)]);
  if (!earner || !tenant || !deps.canvas) throw new Skip('Nobody to tell.');
  if (!(await repo.preferences(award.tenantId, earner.id)).notifyAward) throw new Skip('The educator turned award messages off.');
  if (!earner.canvasUserId) throw new Skip('microcred does not know this educator’s Canvas id.');
  const name = award.versionId ? (await repo.publishedVersion(award.tenantId, award.versionId))?.version.name : (await repo.stack(award.tenantId, award.stackId!))?.name;
  const course = award.courseId ? await repo.course(award.tenantId, award.courseId) : undefined;
  const client = await backgroundClient(deps, award);
  const url = verificationUrl(deps.publicUrl, award.issuedCredentialId);
  const sent = await client.postConversation({
    recipients: [earner.canvasUserId],
    subject: `You earned ${name ?? 'a micro-credential'}`,
    body: `Congratulations! You earned “${name ?? 'a micro-credential'}”${course ? ` in ${course.title}` : ''}.\n\nYour digital credential: ${url}\nYou can download it, add it to LinkedIn, or share the link: anyone can verify it there.\n\n(You can turn these messages off in microcred.)`,
    contextCode: course?.canvasCourseId ? `course_${course.canvasCourseId}` : undefined,
    forceNew: true,
  });
  return { conversationId: sent[0]?.id ?? null, actingAs: client.actingAs };
}

async function nextLevel(deps: PassbackDeps, award: AwardRow): Promise<Record<string, unknown>> {
  const { repo } = deps;
  if (!award.stackId || !deps.canvas) throw new Skip('Not a stack award.');
  const [level, earner] = await Promise.all([repo.nextLevel(award.tenantId, award.stackId), repo.user(award.tenantId, award.earnerId)]);
  if (!level) throw new Skip('The stack has no next level any more.');
  if (!earner?.canvasUserId) throw new Skip('microcred does not know this educator’s Canvas id.');
  const client = await backgroundClient(deps, award);
  if (level.action === 'enroll') {
    const e = await client.enroll(level.canvasCourseId, earner.canvasUserId, 'StudentEnrollment', { state: 'active' });
    return { action: 'enroll', canvasCourseId: level.canvasCourseId, enrollmentId: e.id, actingAs: client.actingAs };
  }
  if (!level.canvasModuleId) throw new PassbackProblem('The next level names no module to unlock.');
  // Canvas has no per-student unlock: the module is published (its items with it) for the course.
  await client.call('PUT', `/api/v1/courses/${encodeURIComponent(level.canvasCourseId)}/modules/${encodeURIComponent(level.canvasModuleId)}`, { module: { published: true } }, ModuleSchema, true);
  return { action: 'unlock_module', canvasCourseId: level.canvasCourseId, canvasModuleId: level.canvasModuleId, actingAs: client.actingAs };
}

/**
 * Who writes to Canvas for an award when nobody is at the keyboard: the district's service token, else the person
 * who awarded, else a designer who attached the micro-credential.
 */
async function backgroundClient(deps: PassbackDeps, award: AwardRow): Promise<CanvasClient> {
  const tenant = (await deps.repo.tenant(award.tenantId))!;
  const t = { id: tenant.id, canvasBaseUrl: tenant.canvasBaseUrl };
  const canvas = deps.canvas!;
  try {
    return await canvas.forService(t);
  } catch (err) {
    if (!(err instanceof CanvasAuthorizationRequired)) throw err;
  }
  const people = [award.awardedBy, ...(award.credentialId ? (await deps.repo.attachmentsOf(award.tenantId, award.credentialId)).map((a) => a.attachedBy) : [])].filter((x): x is string => !!x);
  for (const id of new Set(people)) {
    try {
      return await canvas.forUser(t, id, { serviceFallback: false });
    } catch (err) {
      if (!(err instanceof CanvasAuthorizationRequired)) throw err;
    }
  }
  throw new CanvasAuthorizationRequired('not_configured', 'Ask your district administrator to set a Canvas service token (or connect microcred to Canvas as the person who awards).');
}
