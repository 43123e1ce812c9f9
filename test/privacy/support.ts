import crypto from 'node:crypto';
import { submitForReview } from '../../src/review/service';
import type { ReviewItemRow } from '../../src/review/schema';
import type { World } from '../review/support/world';

export interface StoredSnapshot {
  snapshotId: string;
  fileIds: string[];
  sha256: string[];
}

/** Stores an evidence snapshot with files in the progress tables, as the snapshot job does. */
export async function storeSnapshot(w: World, canvasUserId: string | number, o: { attempt?: number; text?: string; files?: { filename: string; contentType: string; bytes: Buffer | string }[]; credentialId?: string } = {}): Promise<StoredSnapshot> {
  const [s] = await w.q<{ id: string }>(
    `INSERT INTO evidence_snapshots (tenant_id, course_id, credential_id, canvas_user_id, canvas_assignment_id, canvas_submission_id, attempt, submission_type, body, submitted_at)
     VALUES ($1, $2, $3, $4, '9001', $5, $6, 'online_upload', $7, now()) RETURNING id`,
    [w.tenantId, w.course101, o.credentialId ?? w.credential.id, String(canvasUserId), `sub-${canvasUserId}`, o.attempt ?? 1, o.text ?? 'My lesson plan on digital citizenship.'],
  );
  const out: StoredSnapshot = { snapshotId: s!.id, fileIds: [], sha256: [] };
  for (const f of o.files ?? []) {
    const bytes = Buffer.isBuffer(f.bytes) ? f.bytes : Buffer.from(f.bytes);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    const [row] = await w.q<{ id: string }>(
      `INSERT INTO evidence_files (tenant_id, snapshot_id, canvas_file_id, filename, declared_content_type, detected_content_type, size, sha256, bytes, status)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, 'stored') RETURNING id`,
      [w.tenantId, s!.id, crypto.randomUUID(), f.filename, f.contentType, bytes.length, sha, bytes],
    );
    out.fileIds.push(row!.id);
    out.sha256.push(sha);
  }
  return out;
}

/** A snapshot in the progress tables and its review item, as the progress engine will submit it. */
export async function submitStored(w: World, canvasUserId: string | number, o: Parameters<typeof storeSnapshot>[2] = {}): Promise<{ item: ReviewItemRow; stored: StoredSnapshot }> {
  const stored = await storeSnapshot(w, canvasUserId, o);
  const item = await submitForReview(w.stack.tool.app.review.deps, {
    tenantId: w.tenantId, courseId: w.course101, credentialId: w.credential.id, versionId: w.credential.versionId, earnerId: await w.userId(canvasUserId), attempt: o.attempt ?? 1, snapshotId: stored.snapshotId, submittedAt: new Date(),
  });
  return { item, stored };
}

export const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
export const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
