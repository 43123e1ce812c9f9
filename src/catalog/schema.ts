import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, jsonb, numeric, boolean, customType, uniqueIndex, index } from 'drizzle-orm/pg-core';
import { tenants, courses, users } from '../tenants/schema';
import type { Alignment, BadgeDesign, EvidencePrompt, PassingRule, Rubric } from './model';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  // PGlite returns Uint8Array, pg returns Buffer: hand out Buffers either way.
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

/** The issuer named in every badge a tenant awards (one per tenant, set by an admin). */
export const issuerProfiles = pgTable('issuer_profiles', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  url: text('url').notNull(),
  email: text('email').notNull(),
  description: text('description'),
  imageId: uuid('image_id').references(() => badgeImages.id, { onDelete: 'set null' }),
  updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Uploaded badge art, already checked (PNG structure) or sanitized (SVG) before it is stored. */
export const badgeImages = pgTable(
  'badge_images',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    contentType: text('content_type', { enum: ['image/png', 'image/svg+xml'] }).notNull(),
    bytes: bytea('bytes').notNull(),
    sha256: text('sha256').notNull(),
    width: integer('width'),
    height: integer('height'),
    uploadedBy: uuid('uploaded_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('badge_images_tenant_sha').on(t.tenantId, t.sha256)],
);

/**
 * A micro-credential's stable identity. What it asks of an earner lives in its versions: `current_version_id`
 * is what earners see (the latest published one, or the first draft), `draft_version_id` an edit of a published
 * credential that is not yet published.
 */
export const microCredentials = pgTable(
  'micro_credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    /** The course whose designers may change it. */
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'no action' }),
    key: text('key').notNull(),
    state: text('state', { enum: ['draft', 'published', 'retired'] }).notNull().default('draft'),
    currentVersionId: uuid('current_version_id'),
    draftVersionId: uuid('draft_version_id'),
    copiedFromId: uuid('copied_from_id'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('micro_credentials_tenant_key').on(t.tenantId, t.key), index('micro_credentials_tenant_course').on(t.tenantId, t.courseId)],
);

/** One version of a micro-credential's definition. Immutable once `published_at` is set (a trigger enforces it). */
export const microCredentialVersions = pgTable(
  'micro_credential_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    competency: text('competency').notNull(),
    description: text('description').notNull(),
    keyMethod: text('key_method').notNull(),
    criteriaNarrative: text('criteria_narrative').notNull(),
    evidencePrompts: jsonb('evidence_prompts').$type<EvidencePrompt[]>().notNull(),
    rubric: jsonb('rubric').$type<Rubric>().notNull(),
    passingRule: jsonb('passing_rule').$type<PassingRule>().notNull(),
    hours: numeric('hours', { precision: 7, scale: 2, mode: 'number' }).notNull(),
    alignments: jsonb('alignments').$type<Alignment[]>().notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    achievementType: text('achievement_type').notNull().default('MicroCredential'),
    expiryMonths: integer('expiry_months'),
    image: jsonb('image').$type<BadgeDesign>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('micro_credential_versions_number').on(t.credentialId, t.version), index('micro_credential_versions_tenant').on(t.tenantId)],
);

/** An ordered or N-of-M set of micro-credentials with a badge of its own. */
export const stacks = pgTable(
  'stacks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'no action' }),
    key: text('key').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    kind: text('kind', { enum: ['ordered', 'n_of_m'] }).notNull(),
    requiredCount: integer('required_count'),
    image: jsonb('image').$type<BadgeDesign>().notNull(),
    state: text('state', { enum: ['draft', 'published', 'retired'] }).notNull().default('draft'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('stacks_tenant_key').on(t.tenantId, t.key)],
);

export const stackMembers = pgTable(
  'stack_members',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    stackId: uuid('stack_id').notNull().references(() => stacks.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'no action' }),
    position: integer('position').notNull(),
    /** Other members of the same stack (their micro-credential ids) an earner must hold first. */
    prerequisiteIds: uuid('prerequisite_ids').array().notNull().default(sql`'{}'::uuid[]`),
  },
  (t) => [uniqueIndex('stack_members_unique').on(t.stackId, t.credentialId), index('stack_members_tenant').on(t.tenantId)],
);

/** Where a micro-credential lives in one Canvas course: the modules to complete and the evidence assignment. */
export const credentialAttachments = pgTable(
  'credential_attachments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    canvasCourseId: text('canvas_course_id').notNull(),
    moduleIds: text('module_ids').array().notNull(),
    assignmentId: text('assignment_id').notNull(),
    rubricImported: boolean('rubric_imported').notNull().default(false),
    attachedBy: uuid('attached_by').references(() => users.id, { onDelete: 'set null' }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('credential_attachments_course_credential').on(t.courseId, t.credentialId), index('credential_attachments_tenant').on(t.tenantId)],
);

export type MicroCredentialRow = typeof microCredentials.$inferSelect;
export type MicroCredentialVersionRow = typeof microCredentialVersions.$inferSelect;
export type StackRow = typeof stacks.$inferSelect;
export type StackMemberRow = typeof stackMembers.$inferSelect;
export type BadgeImageRow = typeof badgeImages.$inferSelect;
export type IssuerProfileRow = typeof issuerProfiles.$inferSelect;
export type CredentialAttachmentRow = typeof credentialAttachments.$inferSelect;
