import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, jsonb, boolean, real, bigserial, uniqueIndex, index, primaryKey } from 'drizzle-orm/pg-core';
import { tenants, courses, users } from '../tenants/schema';
import { microCredentials, microCredentialVersions } from '../catalog/schema';

/**
 * The review workflow (docs/review.md). An item is one attempt of one earner at one micro-credential version,
 * waiting for, in, or past review; a review is one reviewer's scores of one item (a draft until submitted).
 */

export const ITEM_STATUSES = ['pending', 'in_review', 'awarded', 'not_yet', 'superseded', 'closed'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export const reviewItems = pgTable(
  'review_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    versionId: uuid('version_id').notNull().references(() => microCredentialVersions.id, { onDelete: 'cascade' }),
    earnerId: uuid('earner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    /** The attempt this one resubmits (the item that got “not yet”, or a pending one it replaced). */
    previousItemId: uuid('previous_item_id'),
    /** The progress engine's evidence snapshot (read through an EvidenceSource). */
    snapshotId: text('snapshot_id').notNull(),
    status: text('status', { enum: ITEM_STATUSES }).notNull().default('pending'),
    /** 1 = first review, 2 = second (calibration), 3 = third (the two disagreed). */
    round: integer('round').notNull().default(1),
    /** Why a second review was asked for: all, random, borderline (null when none). */
    calibration: text('calibration', { enum: ['all', 'random', 'borderline'] }),
    claimedBy: uuid('claimed_by').references(() => users.id, { onDelete: 'set null' }),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** The final decision's review. */
    decisionReviewId: uuid('decision_review_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    closedReason: text('closed_reason'),
    submittedAt: timestamp('submitted_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('review_items_attempt').on(t.tenantId, t.earnerId, t.versionId, t.attempt),
    // The queue: open items of a tenant, oldest first (filters by course and credential use the next two).
    index('review_items_queue').on(t.tenantId, t.status, t.submittedAt, t.id),
    index('review_items_course_queue').on(t.tenantId, t.courseId, t.status, t.submittedAt),
    index('review_items_credential_queue').on(t.tenantId, t.credentialId, t.status, t.submittedAt),
    index('review_items_earner').on(t.tenantId, t.earnerId, t.credentialId),
    index('review_items_claimed').on(t.tenantId, t.claimedBy).where(sql`${t.claimedBy} IS NOT NULL`),
  ],
);

export type Scores = Record<string, string>;
export type CriterionComments = Record<string, string>;

export const reviews = pgTable(
  'reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id').notNull().references(() => reviewItems.id, { onDelete: 'cascade' }),
    reviewerId: uuid('reviewer_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    round: integer('round').notNull(),
    state: text('state', { enum: ['draft', 'submitted'] }).notNull().default('draft'),
    scores: jsonb('scores').$type<Scores>().notNull().default({}),
    criterionComments: jsonb('criterion_comments').$type<CriterionComments>().notNull().default({}),
    feedback: text('feedback').notNull().default(''),
    /** What the passing rule says for these scores, when submitted. */
    computedPassed: boolean('computed_passed'),
    total: real('total'),
    decision: text('decision', { enum: ['award', 'not_yet'] }),
    /** The decision differs from the computed result; `overrideComment` says why. */
    override: boolean('override').notNull().default(false),
    overrideComment: text('override_comment'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('reviews_item_reviewer').on(t.itemId, t.reviewerId), index('reviews_tenant_reviewer').on(t.tenantId, t.reviewerId, t.state)],
);

/** Per micro-credential review settings (the catalog has none of these). */
export const reviewSettings = pgTable('review_settings', {
  credentialId: uuid('credential_id').primaryKey().references(() => microCredentials.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  /** null: unlimited. */
  maxAttempts: integer('max_attempts'),
  blind: boolean('blind').notNull().default(false),
  secondReview: text('second_review', { enum: ['none', 'all', 'random', 'borderline'] }).notNull().default('none'),
  /** For `random`: the share of items (0–1) that get a second review. */
  secondReviewShare: real('second_review_share').notNull().default(0.2),
  /** Conflict of interest: a reviewer never reviews someone of their own Canvas section (or school). */
  excludeSameSection: boolean('exclude_same_section').notNull().default(false),
  /** Exemplars a reviewer must score before reviewing, at this exact agreement (0–1) or better. */
  exemplarThreshold: real('exemplar_threshold').notNull().default(0.8),
  updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Where a person sits in a course (from Canvas enrollments): sections, and a school when known. */
export const reviewAffiliations = pgTable(
  'review_affiliations',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    sectionIds: text('section_ids').array().notNull().default(sql`'{}'::text[]`),
    school: text('school'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] }), index('review_affiliations_tenant').on(t.tenantId)],
);

/** A submission with agreed (“true”) scores that new reviewers score first. */
export const reviewExemplars = pgTable(
  'review_exemplars',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    /** The item whose evidence is the exemplar (its earner's name is never shown). */
    itemId: uuid('item_id').notNull().references(() => reviewItems.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    trueScores: jsonb('true_scores').$type<Scores>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('review_exemplars_credential').on(t.tenantId, t.credentialId)],
);

export const exemplarAttempts = pgTable(
  'review_exemplar_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    exemplarId: uuid('exemplar_id').notNull().references(() => reviewExemplars.id, { onDelete: 'cascade' }),
    reviewerId: uuid('reviewer_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    scores: jsonb('scores').$type<Scores>().notNull(),
    agreement: real('agreement').notNull(),
    passed: boolean('passed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('review_exemplar_attempts_reviewer').on(t.tenantId, t.reviewerId, t.exemplarId)],
);

export const AUDIT_ACTIONS = ['view_evidence', 'view_attachment', 'claim', 'release', 'assign', 'score', 'draft', 'decision', 'override', 'submit', 'passback', 'exemplar', 'settings'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did what, when: append-only. */
export const reviewAudit = pgTable(
  'review_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id').references(() => reviewItems.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('review_audit_item').on(t.tenantId, t.itemId, t.at)],
);

export type ReviewItemRow = typeof reviewItems.$inferSelect;
export type ReviewRow = typeof reviews.$inferSelect;
export type ReviewSettingsRow = typeof reviewSettings.$inferSelect;
export type ReviewExemplarRow = typeof reviewExemplars.$inferSelect;
export type ReviewAuditRow = typeof reviewAudit.$inferSelect;
