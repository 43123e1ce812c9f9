import crypto from 'node:crypto';
import type { EvidenceAttachment, EvidenceFile, EvidenceSnapshot, EvidenceSource } from '../../../src/review/ports';

/**
 * The tests' EvidenceSource: snapshots and files in memory, per tenant, as the progress engine will store them
 * (files with their SHA-256). The lead replaces it at merge with one over the progress engine's tables.
 */
export class MemoryEvidence implements EvidenceSource {
  private readonly snapshots = new Map<string, EvidenceSnapshot>();
  private readonly files = new Map<string, EvidenceFile>();

  add(tenantId: string, s: { text?: string; url?: string; attempt?: number; submittedAt?: Date | string; files?: { filename: string; contentType: string; bytes: Buffer | string }[] }): { snapshotId: string; snapshot: EvidenceSnapshot } {
    const attachments: EvidenceAttachment[] = (s.files ?? []).map((f) => {
      const bytes = Buffer.isBuffer(f.bytes) ? f.bytes : Buffer.from(f.bytes);
      const id = crypto.randomUUID();
      this.files.set(`${tenantId}/${id}`, { bytes, contentType: f.contentType, filename: f.filename });
      return { id, filename: f.filename, contentType: f.contentType, size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
    });
    const snapshotId = `snap-${crypto.randomUUID()}`;
    const snapshot: EvidenceSnapshot = { text: s.text, url: s.url, attempt: s.attempt ?? 1, submittedAt: s.submittedAt ?? new Date(), attachments };
    this.snapshots.set(`${tenantId}/${snapshotId}`, snapshot);
    return { snapshotId, snapshot };
  }

  snapshot(tenantId: string, snapshotId: string): Promise<EvidenceSnapshot | undefined> {
    return Promise.resolve(this.snapshots.get(`${tenantId}/${snapshotId}`));
  }

  attachment(tenantId: string, attachmentId: string): Promise<EvidenceFile | undefined> {
    return Promise.resolve(this.files.get(`${tenantId}/${attachmentId}`));
  }
}
