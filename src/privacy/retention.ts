import { isUuid } from '../catalog/repository';
import { and, eq, inArray } from 'drizzle-orm';
import type { Database, Orm } from '../db/database';
import { evidencePurges } from './schema';
import { logger as rootLogger, type Logger } from '../log';
import type { EvidenceFile, EvidenceSnapshot, EvidenceSource } from '../review/ports';

/**
 * Evidence retention (docs/privacy.md). The bytes of an evidence file are kept while the evidence can still be
 * reviewed, and for `EVIDENCE_RETENTION_DAYS` after the decision; then the daily job empties them. The file's
 * row keeps its SHA-256, size, content types and filename, and the reviews keep their scores and feedback, so
 * the record of what was decided, on what, stays; only the raw file goes.
 *
 * "The decision" of a snapshot is the latest of: a review item on it decided (awarded, not yet) or ended (closed,
 * superseded: their last change), and an award of that micro-credential to that earner (automatic awards have no
 * review item). A snapshot that is still under review (pending, in review) or is an exemplar keeps its files.
 */

export const RETENTION_JOB = 'privacy.retention';
/** Daily, at a quiet hour (server time). */
export const RETENTION_CRON = '17 3 * * *';

export interface RetentionRun {
  purged: number;
  bytes: number;
  batches: number;
}

/**
 * One batch of files due for purging, oldest decision first. `FOR UPDATE SKIP LOCKED` lets two instances run the
 * job at once without purging a file twice; the candidates exclude files already purged, so a rerun is a no-op.
 */
const DUE = `
  WITH decided AS (
    SELECT s.id, s.tenant_id, GREATEST(
        (SELECT max(CASE WHEN i.status IN ('awarded', 'not_yet') THEN i.decided_at ELSE coalesce(i.decided_at, i.updated_at) END)
           FROM review_items i
          WHERE i.tenant_id = s.tenant_id AND i.snapshot_id = s.id::text AND i.status IN ('awarded', 'not_yet', 'closed', 'superseded')),
        (SELECT max(a.awarded_at) FROM awards a
          WHERE a.tenant_id = s.tenant_id AND a.credential_id = s.credential_id
            AND a.earner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = s.tenant_id AND u.canvas_user_id = s.canvas_user_id
                                UNION SELECT ci.user_id FROM canvas_identities ci WHERE ci.tenant_id = s.tenant_id AND ci.canvas_user_id = s.canvas_user_id))
      ) AS decided_at
      FROM evidence_snapshots s
     WHERE EXISTS (SELECT 1 FROM evidence_files f WHERE f.snapshot_id = s.id AND f.bytes IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM review_items o WHERE o.tenant_id = s.tenant_id AND o.snapshot_id = s.id::text AND o.status IN ('pending', 'in_review'))
       AND NOT EXISTS (SELECT 1 FROM review_exemplars x JOIN review_items xi ON xi.id = x.item_id WHERE xi.tenant_id = s.tenant_id AND xi.snapshot_id = s.id::text)
  )
  SELECT f.id, f.tenant_id, d.decided_at, octet_length(f.bytes) AS size
    FROM decided d JOIN evidence_files f ON f.snapshot_id = d.id
   WHERE d.decided_at IS NOT NULL AND d.decided_at < $1 AND f.bytes IS NOT NULL
   ORDER BY d.decided_at, f.id
   LIMIT $2
     FOR UPDATE OF f SKIP LOCKED`;

/** Purges every evidence file whose retention ran out before `now`, `batchSize` files per transaction. */
export async function purgeExpiredEvidence(db: Database, o: { retentionDays: number; batchSize?: number; now?: Date; log?: Logger }): Promise<RetentionRun> {
  const log = (o.log ?? rootLogger).child({ component: 'retention' });
  const cutoff = new Date((o.now ?? new Date()).getTime() - o.retentionDays * 86_400_000);
  const batchSize = o.batchSize ?? 200;
  const run: RetentionRun = { purged: 0, bytes: 0, batches: 0 };
  const perTenant = new Map<string, number>();
  for (;;) {
    const batch = await db.sql.transaction(async (tx) => {
      const due = (await tx.query<{ id: string; tenant_id: string; decided_at: Date; size: number | null }>(DUE, [cutoff, batchSize])).rows;
      if (!due.length) return due;
      await tx.query(
        `INSERT INTO evidence_purges (file_id, tenant_id, reason, decided_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[]) ON CONFLICT (file_id) DO NOTHING`,
        [due.map((d) => d.id), due.map((d) => d.tenant_id), due.map(() => 'retention'), due.map((d) => d.decided_at)],
      );
      await tx.query('UPDATE evidence_files SET bytes = NULL WHERE id = ANY($1::uuid[])', [due.map((d) => d.id)]);
      return due;
    });
    if (!batch.length) break;
    run.batches++;
    run.purged += batch.length;
    for (const d of batch) {
      run.bytes += Number(d.size ?? 0);
      perTenant.set(d.tenant_id, (perTenant.get(d.tenant_id) ?? 0) + 1);
    }
    if (batch.length < batchSize) break;
  }
  for (const [tenantId, files] of perTenant) {
    await db.sql.query(`INSERT INTO privacy_audit (tenant_id, action, detail) VALUES ($1, 'retention_purge', $2)`, [tenantId, JSON.stringify({ files, retentionDays: o.retentionDays, cutoff: cutoff.toISOString() })]);
  }
  if (run.purged) log.info({ purged: run.purged, bytes: run.bytes, batches: run.batches, retentionDays: o.retentionDays }, 'evidence files purged after retention');
  return run;
}

/** Which of these files were purged, and when. */
export async function purgesOf(orm: Orm, tenantId: string, fileIds: string[]): Promise<Map<string, Date>> {
  const uuids = fileIds.filter(isUuid);
  if (!uuids.length) return new Map();
  const rows = await orm.select({ fileId: evidencePurges.fileId, purgedAt: evidencePurges.purgedAt }).from(evidencePurges).where(and(eq(evidencePurges.tenantId, tenantId), inArray(evidencePurges.fileId, uuids)));
  return new Map(rows.map((r) => [r.fileId, new Date(r.purgedAt)]));
}

/**
 * Wraps whatever EvidenceSource the review reads (attachment ids are `evidence_files` ids): a purged attachment
 * keeps its metadata with `purgedAt` set, and its bytes are never asked for.
 */
export function withRetention(orm: Orm, inner: EvidenceSource): EvidenceSource {
  return {
    async snapshot(tenantId, snapshotId, tx): Promise<EvidenceSnapshot | undefined> {
      const snap = await inner.snapshot(tenantId, snapshotId, tx);
      if (!snap?.attachments.length) return snap;
      const purged = await purgesOf(tx ?? orm, tenantId, snap.attachments.map((a) => a.id));
      if (!purged.size) return snap;
      return { ...snap, attachments: snap.attachments.map((a) => (purged.has(a.id) ? { ...a, purgedAt: purged.get(a.id) } : a)) };
    },
    async attachment(tenantId, attachmentId): Promise<EvidenceFile | undefined> {
      if ((await purgesOf(orm, tenantId, [attachmentId])).size) return undefined;
      return inner.attachment(tenantId, attachmentId);
    },
  };
}
