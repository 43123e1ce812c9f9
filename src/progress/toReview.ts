import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { users } from '../tenants/schema';
import { microCredentials, microCredentialVersions } from '../catalog/schema';
import { isUuid } from '../catalog/repository';
import { reviewItems, type ReviewItemRow } from '../review/schema';
import type { EvidenceFile, EvidenceSnapshot, EvidenceSource, ProgressPort, ReviewDeps } from '../review/ports';
import { submitForReview } from '../review/service';
import { logger } from '../log';
import { summarize } from './engine';
import { ProgressRepository } from './repository';
import { canvasIdentities, credentialProgress, evidenceFiles, evidenceSnapshots, type ProgressState } from './schema';

/**
 * The seam between progress and review (docs/progress.md, “Into review”): the review reads evidence snapshots
 * through an `EvidenceSource`, the progress engine puts each new snapshot into the queue, and the review's
 * outcomes show on the earner's progress (in review, returned).
 */

/** Files the review may serve as what they are: stored, and their bytes match what Canvas declared. */
const SERVABLE = new Set(['stored']);

export function snapshotEvidenceSource(orm: Orm): EvidenceSource {
  return {
    async snapshot(tenantId, snapshotId, tx): Promise<EvidenceSnapshot | undefined> {
      if (!isUuid(snapshotId)) return undefined;
      const db = tx ?? orm;
      const [s] = await db.select().from(evidenceSnapshots).where(and(eq(evidenceSnapshots.tenantId, tenantId), eq(evidenceSnapshots.id, snapshotId))).limit(1);
      if (!s) return undefined;
      const files = await db
        .select({ id: evidenceFiles.id, filename: evidenceFiles.filename, declared: evidenceFiles.declaredContentType, detected: evidenceFiles.detectedContentType, size: evidenceFiles.size, sha256: evidenceFiles.sha256, status: evidenceFiles.status })
        .from(evidenceFiles)
        .where(and(eq(evidenceFiles.tenantId, tenantId), eq(evidenceFiles.snapshotId, s.id)))
        .orderBy(asc(evidenceFiles.filename));
      return {
        text: s.body ?? undefined,
        url: s.url ?? undefined,
        attempt: s.attempt,
        submittedAt: s.submittedAt ?? s.capturedAt,
        attachments: files.map((f) => ({
          id: f.id,
          filename: f.filename,
          // A file whose bytes are not what Canvas said is offered as a download of unknown type, never rendered.
          contentType: SERVABLE.has(f.status) ? f.declared : 'application/octet-stream',
          size: f.size,
          sha256: f.sha256 ?? '',
        })),
        canvasRubricAssessment: s.rubricAssessment
          ? Object.fromEntries(Object.entries(s.rubricAssessment).map(([k, v]) => [k, { points: v.points, rating_id: v.ratingId, comments: v.comments }]))
          : undefined,
      };
    },
    async attachment(tenantId, attachmentId): Promise<EvidenceFile | undefined> {
      if (!isUuid(attachmentId)) return undefined;
      const [f] = await orm.select().from(evidenceFiles).where(and(eq(evidenceFiles.tenantId, tenantId), eq(evidenceFiles.id, attachmentId))).limit(1);
      if (!f?.bytes) return undefined;
      return { bytes: f.bytes, filename: f.filename, contentType: SERVABLE.has(f.status) ? f.declaredContentType : 'application/octet-stream' };
    },
  };
}

/**
 * Puts the earner's newest evidence snapshot of one credential into the review queue, once (the review makes it
 * idempotent per attempt). Returns the item, or null when there is nothing to submit yet: no snapshot, the
 * credential has no published version, or the earner is not known by their LTI identity yet (they are submitted
 * at their next launch).
 */
export async function submitLatestSnapshot(review: ReviewDeps, job: { tenantId: string; courseId: string; credentialId: string; canvasUserId: string }): Promise<ReviewItemRow | null> {
  const orm = review.db.orm;
  const [snap] = await orm
    .select()
    .from(evidenceSnapshots)
    .where(and(eq(evidenceSnapshots.tenantId, job.tenantId), eq(evidenceSnapshots.credentialId, job.credentialId), eq(evidenceSnapshots.canvasUserId, job.canvasUserId)))
    .orderBy(desc(evidenceSnapshots.attempt))
    .limit(1);
  if (!snap) return null;
  const [progress] = await orm
    .select({ state: credentialProgress.state })
    .from(credentialProgress)
    .where(and(eq(credentialProgress.courseId, job.courseId), eq(credentialProgress.credentialId, job.credentialId), eq(credentialProgress.canvasUserId, job.canvasUserId)))
    .limit(1);
  // Evidence alone is not enough: the required modules must be complete too (the engine says ready).
  if (!progress || !(['ready_for_review', 'in_review', 'returned'] as ProgressState[]).includes(progress.state)) return null;
  const [version] = await orm
    .select({ id: microCredentialVersions.id })
    .from(microCredentials)
    .innerJoin(microCredentialVersions, eq(microCredentialVersions.id, microCredentials.currentVersionId))
    .where(and(eq(microCredentials.tenantId, job.tenantId), eq(microCredentials.id, job.credentialId), eq(microCredentials.state, 'published'), isNotNull(microCredentialVersions.publishedAt)))
    .limit(1);
  if (!version) return null;
  const earnerId = (await new ProgressRepository(orm).earnerFor(job.tenantId, job.canvasUserId))?.id;
  if (!earnerId) {
    logger.info({ tenant: job.tenantId, credential: job.credentialId }, 'evidence waits for the earner’s first launch before review');
    return null;
  }
  return submitForReview(review, {
    tenantId: job.tenantId,
    courseId: snap.courseId,
    credentialId: job.credentialId,
    versionId: version.id,
    earnerId,
    attempt: snap.attempt,
    snapshotId: snap.id,
    submittedAt: snap.submittedAt ?? snap.capturedAt,
  });
}

/** At a launch: any snapshot of this earner that could not be submitted before (they were not known yet). */
export async function submitWaitingSnapshots(review: ReviewDeps, tenantId: string, canvasUserId: string): Promise<number> {
  const orm = review.db.orm;
  const snaps = await orm
    .selectDistinct({ courseId: evidenceSnapshots.courseId, credentialId: evidenceSnapshots.credentialId })
    .from(evidenceSnapshots)
    // review_items.snapshot_id is text (the review does not know how progress names snapshots).
    .leftJoin(reviewItems, and(eq(reviewItems.tenantId, evidenceSnapshots.tenantId), eq(reviewItems.snapshotId, sql`${evidenceSnapshots.id}::text`)))
    .where(and(eq(evidenceSnapshots.tenantId, tenantId), eq(evidenceSnapshots.canvasUserId, canvasUserId), isNull(reviewItems.id)));
  let n = 0;
  for (const s of snaps) if (await submitLatestSnapshot(review, { tenantId, canvasUserId, ...s })) n += 1;
  return n;
}

/**
 * What the earner sees while a review runs and after “not yet”: the item's status as a progress state. (“Awarded” is
 * the award command's to write, for every source of awards: src/awards/award.ts.)
 */
const PROGRESS_OF_ITEM: Partial<Record<ReviewItemRow['status'], ProgressState>> = { pending: 'in_review', in_review: 'in_review', not_yet: 'returned' };

export const progressFollowsReview: ProgressPort = {
  async itemChanged(tx, item) {
    const state = PROGRESS_OF_ITEM[item.status];
    if (!state) return;
    const canvasUserIds = (
      await tx
        .select({ id: canvasIdentities.canvasUserId })
        .from(canvasIdentities)
        .where(and(eq(canvasIdentities.tenantId, item.tenantId), eq(canvasIdentities.userId, item.earnerId)))
    ).map((r) => r.id);
    const [u] = await tx.select({ c: users.canvasUserId }).from(users).where(and(eq(users.tenantId, item.tenantId), eq(users.id, item.earnerId))).limit(1);
    if (u?.c) canvasUserIds.push(u.c);
    if (!canvasUserIds.length) return;
    const rows = await tx
      .select()
      .from(credentialProgress)
      .where(and(eq(credentialProgress.tenantId, item.tenantId), eq(credentialProgress.courseId, item.courseId), eq(credentialProgress.credentialId, item.credentialId), inArray(credentialProgress.canvasUserId, [...new Set(canvasUserIds)])));
    for (const r of rows) {
      // An item of an older attempt never pulls a newer one back (its state belongs to the newer item).
      if (r.evidenceAttempt !== null && item.attempt < r.evidenceAttempt) continue;
      const summary = summarize({ state, modulesDone: r.modulesDone, modulesTotal: r.modulesTotal, missing: r.missingModuleIds.length, evidence: { state: r.evidenceState, attempt: r.evidenceAttempt } });
      await tx.update(credentialProgress).set({ state, summary, updatedAt: new Date() }).where(eq(credentialProgress.id, r.id));
    }
  },
};
