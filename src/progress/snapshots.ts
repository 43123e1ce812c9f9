import crypto from 'node:crypto';
import type { CanvasClient } from '../canvas/client';
import { CanvasFileTooLarge, CanvasForbidden, CanvasNotFound } from '../canvas/errors';
import { SubmissionSchema, type CanvasFile, type CanvasSubmission } from '../canvas/types';
import { logger as rootLogger, type Logger } from '../log';
import { contentTypeMatches, detectContentType } from './magic';
import type { AttachedCredential, CourseInfo, ProgressRepository } from './repository';
import type { SnapshotRubricEntry } from './schema';

export interface SnapshotDeps {
  repo: ProgressRepository;
  client: (course: CourseInfo, attached: AttachedCredential[]) => Promise<CanvasClient>;
  maxFileBytes: number;
  log?: Logger;
}

type FileRow = {
  canvasFileId: string; filename: string; declaredContentType: string; detectedContentType: string | null; size: number; sha256: string | null; bytes: Buffer | null;
  status: 'stored' | 'too_large' | 'type_mismatch' | 'unavailable'; note: string | null;
};

/**
 * Keeps the evidence of every attempt not yet captured: Canvas's text, URL, attempt, `submitted_at`, the rubric
 * assessment, and each attachment's bytes (capped, SHA-256, content type checked against the bytes). A snapshot
 * is written once per attempt and never changed, so a review can rely on it after Canvas changes or loses the work.
 */
export async function snapshotEvidence(deps: SnapshotDeps, job: { tenantId: string; courseId: string; credentialId: string; canvasUserId: string }): Promise<number> {
  const log = (deps.log ?? rootLogger).child({ component: 'evidence-snapshot' });
  const repo = deps.repo;
  const course = await repo.course(job.tenantId, job.courseId);
  const attached = course ? await repo.attached(job.tenantId, job.courseId) : [];
  const a = attached.find((x) => x.credentialId === job.credentialId);
  const progress = await repo.progressOne(job.tenantId, job.credentialId, job.canvasUserId);
  if (!course?.canvasCourseId || !a || !progress || progress.evidenceState !== 'submitted') return 0;
  const client = await deps.client(course, attached);
  let sub: CanvasSubmission;
  try {
    sub = await client.get(
      `/api/v1/courses/${encodeURIComponent(course.canvasCourseId)}/assignments/${encodeURIComponent(a.assignmentId)}/submissions/${encodeURIComponent(job.canvasUserId)}`,
      { 'include[]': ['submission_history', 'rubric_assessment'] },
      SubmissionSchema,
    );
  } catch (err) {
    // The submission or assignment is gone: nothing new to capture; what was captured stays.
    if (err instanceof CanvasNotFound || err instanceof CanvasForbidden) return 0;
    throw err;
  }
  const current = sub.attempt ?? 0;
  const versions = (sub.submission_history?.length ? sub.submission_history : [sub]).filter((v) => (v.attempt ?? 0) > (progress.snapshotAttempt ?? 0) && v.submitted_at);
  let taken = 0;
  for (const v of versions.sort((x, y) => (x.attempt ?? 0) - (y.attempt ?? 0))) {
    const attempt = v.attempt ?? 1;
    if (await repo.snapshotExists(job.tenantId, job.credentialId, job.canvasUserId, attempt)) continue;
    const files: FileRow[] = [];
    for (const f of v.attachments ?? []) files.push(await download(client, f, deps.maxFileBytes));
    const rubric = attempt === current && sub.rubric_assessment ? rubricOf(sub.rubric_assessment) : null;
    const inserted = await repo.transaction(async (r) => {
      const row = await r.insertSnapshot(
        {
          tenantId: job.tenantId, courseId: job.courseId, credentialId: job.credentialId, canvasUserId: job.canvasUserId, canvasAssignmentId: a.assignmentId, canvasSubmissionId: sub.id,
          attempt, submissionType: v.submission_type ?? null, body: v.body ?? null, url: v.url ?? null, submittedAt: v.submitted_at ? new Date(v.submitted_at) : null,
          workflowState: v.workflow_state, score: v.score ?? null, grade: v.grade ?? null, rubricAssessment: rubric, status: files.every((f) => f.status === 'stored') ? 'complete' : 'partial',
        },
        files,
      );
      await r.setSnapshotAttempt(job.tenantId, job.credentialId, job.canvasUserId, attempt);
      return row;
    });
    if (inserted) taken += 1;
    log.info({ tenant: job.tenantId, credential: job.credentialId, attempt, files: files.length }, 'evidence snapshot taken');
  }
  return taken;
}

async function download(client: CanvasClient, f: CanvasFile, maxBytes: number): Promise<FileRow> {
  const base = { canvasFileId: f.id, filename: f.display_name, declaredContentType: f['content-type'] };
  if (f.size > maxBytes) return { ...base, detectedContentType: null, size: f.size, sha256: null, bytes: null, status: 'too_large', note: `Larger than ${Math.round(maxBytes / 1048576)} MB; open it in Canvas.` };
  try {
    const got = await client.downloadFile(f.url, { maxBytes });
    const detected = detectContentType(got.data) ?? null;
    const sha256 = crypto.createHash('sha256').update(got.data).digest('hex');
    const ok = contentTypeMatches(f['content-type'], detected ?? undefined);
    return {
      ...base, detectedContentType: detected, size: got.size, sha256, bytes: got.data, status: ok ? 'stored' : 'type_mismatch',
      // Kept (it is the evidence), but never served as what it claims to be.
      note: ok ? null : `Canvas says ${f['content-type']}, but the file is ${detected ?? 'of an unknown kind'}.`,
    };
  } catch (err) {
    if (err instanceof CanvasFileTooLarge) return { ...base, detectedContentType: null, size: f.size, sha256: null, bytes: null, status: 'too_large', note: `Larger than ${Math.round(maxBytes / 1048576)} MB; open it in Canvas.` };
    if (err instanceof CanvasNotFound || err instanceof CanvasForbidden) return { ...base, detectedContentType: null, size: f.size, sha256: null, bytes: null, status: 'unavailable', note: 'Canvas no longer has this file.' };
    throw err;
  }
}

function rubricOf(r: NonNullable<CanvasSubmission['rubric_assessment']>): Record<string, SnapshotRubricEntry> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { points: v.points ?? null, ratingId: v.rating_id ?? null, comments: v.comments ?? null }]));
}
