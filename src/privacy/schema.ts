import { pgTable, uuid, text, timestamp, jsonb, bigserial, index } from 'drizzle-orm/pg-core';
import { tenants, users } from '../tenants/schema';
import { evidenceFiles } from '../progress/schema';

/**
 * Privacy (docs/privacy.md): which evidence files the retention job emptied, and the record of privacy actions
 * (deletions of a person's data). Neither holds personal data of its own.
 */

/**
 * An evidence file whose bytes were purged after the retention period. The `evidence_files` row keeps its
 * SHA-256, size, content type and filename, so the review still says what was there and can prove it.
 */
export const evidencePurges = pgTable(
  'evidence_purges',
  {
    fileId: uuid('file_id').primaryKey().references(() => evidenceFiles.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    /** Why: `retention` (the period after the decision ran out). */
    reason: text('reason', { enum: ['retention'] }).notNull().default('retention'),
    /** The decision (award, close, supersede) whose retention period ran out. */
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    purgedAt: timestamp('purged_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('evidence_purges_tenant').on(t.tenantId, t.purgedAt)],
);

export const PRIVACY_ACTIONS = ['delete_person', 'retention_purge'] as const;
export type PrivacyAction = (typeof PRIVACY_ACTIONS)[number];

/**
 * Who deleted whose data, when, and how much: append-only. The person is named only by the anonymous placeholder
 * their kept rows now point to (`subject_ref`), never by name, email or Canvas id.
 */
export const privacyAudit = pgTable(
  'privacy_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action', { enum: PRIVACY_ACTIONS }).notNull(),
    subjectRef: text('subject_ref'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('privacy_audit_tenant').on(t.tenantId, t.at)],
);

export type EvidencePurgeRow = typeof evidencePurges.$inferSelect;
export type PrivacyAuditRow = typeof privacyAudit.$inferSelect;
