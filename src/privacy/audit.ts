import type { SqlClient } from '../db/database';
import type { Person } from './deletion';

/**
 * Reading the audit trails for the privacy pages: who opened an educator's evidence (the review writes
 * `view_evidence` for every evidence view and `view_attachment` for every file opened or downloaded), and the
 * privacy actions (deletions, retention purges).
 */

export const EVIDENCE_ACTIONS = ['view_evidence', 'view_attachment'];

export interface EvidenceAuditEvent {
  id: number;
  at: string;
  action: string;
  actor: { id: string; name: string } | null;
  item: { id: string; credential: string; attempt: number };
  filename: string | null;
  download: boolean;
}

export async function evidenceAudit(sql: SqlClient, tenantId: string, o: { itemId?: string; person?: Person; actions: 'evidence' | 'all' }) {
  const rows = (
    await sql.query<{ id: string; at: Date; action: string; actor_id: string | null; actor_name: string | null; item_id: string; attempt: number; credential: string | null; detail: Record<string, unknown> }>(
      `SELECT a.id, a.at, a.action, a.actor_id, u.name AS actor_name, i.id AS item_id, i.attempt, v.name AS credential, a.detail
         FROM review_audit a
         JOIN review_items i ON i.id = a.item_id AND i.tenant_id = a.tenant_id
         LEFT JOIN users u ON u.id = a.actor_id
         LEFT JOIN micro_credential_versions v ON v.id = i.version_id
        WHERE a.tenant_id = $1
          AND ($2::uuid IS NULL OR i.id = $2::uuid)
          AND ($3::uuid[] IS NULL OR i.earner_id = ANY($3::uuid[]))
          AND ($4::text[] IS NULL OR a.action = ANY($4::text[]))
        ORDER BY a.at DESC, a.id DESC
        LIMIT 1000`,
      [tenantId, o.itemId ?? null, o.person ? o.person.userIds : null, o.actions === 'evidence' ? EVIDENCE_ACTIONS : null],
    )
  ).rows;
  const events: EvidenceAuditEvent[] = rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    action: r.action,
    actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? 'Unnamed person' } : null,
    item: { id: r.item_id, credential: r.credential ?? '', attempt: r.attempt },
    filename: typeof r.detail.filename === 'string' ? r.detail.filename : null,
    download: r.detail.download === true,
  }));
  return { scope: o.itemId ? { item: o.itemId } : { person: o.person?.key ?? null, name: o.person?.names[0] ?? null }, actions: o.actions, events };
}

export async function privacyLog(sql: SqlClient, tenantId: string) {
  const rows = (
    await sql.query<{ id: string; at: Date; action: string; actor_id: string | null; actor_name: string | null; subject_ref: string | null; detail: Record<string, unknown> }>(
      `SELECT p.id, p.at, p.action, p.actor_id, u.name AS actor_name, p.subject_ref, p.detail
         FROM privacy_audit p LEFT JOIN users u ON u.id = p.actor_id
        WHERE p.tenant_id = $1 ORDER BY p.at DESC, p.id DESC LIMIT 100`,
      [tenantId],
    )
  ).rows;
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    action: r.action,
    actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? 'Unnamed person' } : null,
    subjectRef: r.subject_ref,
    detail: r.detail,
  }));
}
