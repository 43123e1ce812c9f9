import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, jsonb, boolean, numeric, date, uniqueIndex, index, check, primaryKey } from 'drizzle-orm/pg-core';
import { tenants, courses, users } from '../tenants/schema';
import { microCredentials, microCredentialVersions, stacks } from '../catalog/schema';

/**
 * Awards (docs/awards.md). An award is the fact that an earner earned a micro-credential version or a stack; the
 * signed credential (badges/issued_credentials), the CEU ledger entry and the outbox rows are written with it in
 * one transaction. Exactly once per earner and version (or stack): the partial unique indexes below.
 */

export const AWARD_SOURCES = ['review', 'automatic', 'stack', 'bulk'] as const;
export type AwardSource = (typeof AWARD_SOURCES)[number];

export const awards = pgTable(
  'awards',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    earnerId: uuid('earner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The course the award was made in (null for a district-level bulk award without one). */
    courseId: uuid('course_id').references(() => courses.id, { onDelete: 'set null' }),
    /** A micro-credential version, or a stack: exactly one. */
    credentialId: uuid('credential_id').references(() => microCredentials.id, { onDelete: 'no action' }),
    versionId: uuid('version_id').references(() => microCredentialVersions.id, { onDelete: 'no action' }),
    stackId: uuid('stack_id').references(() => stacks.id, { onDelete: 'no action' }),
    source: text('source', { enum: AWARD_SOURCES }).notNull(),
    /** The review item that decided it (source `review`). */
    reviewItemId: uuid('review_item_id'),
    /** Who awarded (the reviewer, or the designer of a bulk award); null when automatic. */
    awardedBy: uuid('awarded_by').references(() => users.id, { onDelete: 'set null' }),
    /** Required for bulk awards: why these educators get it without review. */
    reason: text('reason'),
    /** Hours credited (the version's hours; 0 for a stack, whose members carry the hours). */
    hours: numeric('hours', { precision: 7, scale: 2, mode: 'number' }).notNull().default(0),
    /** The signed OB 3.0 credential (badges/issued_credentials.id). */
    issuedCredentialId: uuid('issued_credential_id'),
    awardedAt: timestamp('awarded_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason'),
  },
  (t) => [
    uniqueIndex('awards_earner_version').on(t.tenantId, t.earnerId, t.versionId).where(sql`${t.versionId} IS NOT NULL`),
    uniqueIndex('awards_earner_stack').on(t.tenantId, t.earnerId, t.stackId).where(sql`${t.stackId} IS NOT NULL`),
    index('awards_tenant_earner').on(t.tenantId, t.earnerId, t.awardedAt),
    index('awards_tenant_credential').on(t.tenantId, t.credentialId, t.awardedAt),
    index('awards_tenant_awarded').on(t.tenantId, t.awardedAt),
    check('awards_achievement', sql`(${t.versionId} IS NULL) <> (${t.stackId} IS NULL)`),
    check('awards_bulk_reason', sql`${t.source} <> 'bulk' OR length(coalesce(${t.reason}, '')) > 0`),
  ],
);

/**
 * The CEU ledger: one entry per award that carries hours (1 CEU = 10 hours). Kept apart from awards so a revoked
 * award can be reversed by a negative entry and the ledger stays append-only, as a transcript should be.
 */
export const ceuLedger = pgTable(
  'ceu_ledger',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    earnerId: uuid('earner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    awardId: uuid('award_id').notNull().references(() => awards.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['earned', 'reversed'] }).notNull().default('earned'),
    /** What the transcript prints (the credential's name at the time). */
    title: text('title').notNull(),
    hours: numeric('hours', { precision: 7, scale: 2, mode: 'number' }).notNull(),
    ceus: numeric('ceus', { precision: 7, scale: 3, mode: 'number' }).notNull(),
    /** The day it counts on (the award date in the tenant's time zone, as a calendar date). */
    earnedOn: date('earned_on', { mode: 'string' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('ceu_ledger_award_kind').on(t.awardId, t.kind), index('ceu_ledger_earner').on(t.tenantId, t.earnerId, t.earnedOn)],
);

export const PASSBACK_KINDS = ['ags_score', 'rubric_assessment', 'notification', 'next_level'] as const;
export type PassbackKind = (typeof PASSBACK_KINDS)[number];
export const PASSBACK_STATES = ['pending', 'sent', 'retrying', 'failed', 'skipped'] as const;
export type PassbackState = (typeof PASSBACK_STATES)[number];

/**
 * The outbox's visible side: what an award must still tell Canvas, and how that went. A job per row does the work;
 * the row is what designers see (sent, retrying, failed with the reason) and what “Retry” re-queues.
 */
export const awardPassbacks = pgTable(
  'award_passbacks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    awardId: uuid('award_id').notNull().references(() => awards.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: PASSBACK_KINDS }).notNull(),
    state: text('state', { enum: PASSBACK_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** What was sent (the AGS score body, the rubric assessment) for the record. */
    payload: jsonb('payload').$type<Record<string, unknown>>(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('award_passbacks_award_kind').on(t.awardId, t.kind), index('award_passbacks_state').on(t.tenantId, t.state, t.updatedAt)],
);

/** Per micro-credential: how it is awarded (after review, or automatically once its modules are complete). */
export const awardSettings = pgTable('award_settings', {
  credentialId: uuid('credential_id').primaryKey().references(() => microCredentials.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  mode: text('mode', { enum: ['review', 'automatic'] }).notNull().default('review'),
  updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Per stack: what opens in Canvas when it is earned (Tech Leader I → enrol in, or unlock the module of, II). */
export const stackNextLevels = pgTable('stack_next_levels', {
  stackId: uuid('stack_id').primaryKey().references(() => stacks.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  action: text('action', { enum: ['enroll', 'unlock_module'] }).notNull(),
  canvasCourseId: text('canvas_course_id').notNull(),
  /** For unlock_module: the module whose prerequisite or lock is lifted. */
  canvasModuleId: text('canvas_module_id'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** An earner's choices: notifications, public name, the public portfolio link. */
export const earnerPreferences = pgTable(
  'earner_preferences',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    notifyAward: boolean('notify_award').notNull().default(true),
    notifyNotYet: boolean('notify_not_yet').notNull().default(true),
    /** A random slug for the opt-in public portfolio page; null = not shared. */
    publicSlug: text('public_slug'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), uniqueIndex('earner_preferences_slug').on(t.publicSlug)],
);

/** A district's license-renewal cycle, for grouping the CEU ledger (default: 5 years starting July 1, 2025). */
export const renewalCycles = pgTable('renewal_cycles', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  years: integer('years').notNull().default(5),
  /** The first day of some cycle (any cycle: the others follow every `years`). */
  anchor: date('anchor', { mode: 'string' }).notNull().default('2025-07-01'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type AwardRow = typeof awards.$inferSelect;
export type CeuLedgerRow = typeof ceuLedger.$inferSelect;
export type AwardPassbackRow = typeof awardPassbacks.$inferSelect;
export type AwardSettingsRow = typeof awardSettings.$inferSelect;
export type StackNextLevelRow = typeof stackNextLevels.$inferSelect;
export type EarnerPreferencesRow = typeof earnerPreferences.$inferSelect;

/**
 * Per course: the AGS line-item container URL Canvas sent in a launch's AGS claim. Grades go back from a job long
 * after the launch's session has expired, so the URL is kept here (updated on every launch that carries it).
 */
export const courseAgsEndpoints = pgTable('course_ags_endpoints', {
  courseId: uuid('course_id').primaryKey().references(() => courses.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  lineitemsUrl: text('lineitems_url').notNull(),
  scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The “not yet” message to an educator (Canvas conversations), one per decided review item. The row makes the
 * job idempotent (a Canvas message cannot be taken back or deduplicated) and shows how sending went.
 */
export const notYetNotices = pgTable(
  'not_yet_notices',
  {
    reviewItemId: uuid('review_item_id').primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    earnerId: uuid('earner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    state: text('state', { enum: PASSBACK_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('not_yet_notices_tenant').on(t.tenantId, t.state)],
);

export type CourseAgsEndpointRow = typeof courseAgsEndpoints.$inferSelect;
export type NotYetNoticeRow = typeof notYetNotices.$inferSelect;
