import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, integer, jsonb, boolean, customType, uniqueIndex, index, primaryKey, real } from 'drizzle-orm/pg-core';
import { tenants, courses, users } from '../tenants/schema';
import { microCredentials } from '../catalog/schema';

/**
 * Progress of earners towards micro-credentials, read from Canvas (docs/progress.md). Earners are keyed by their
 * Canvas user id within the tenant: most educators are known from the course roster long before they launch
 * microcred, so `users` (launch-created) cannot be the key.
 */

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  // PGlite returns Uint8Array, pg returns Buffer: hand out Buffers either way.
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

export type ProgressState = 'not_started' | 'in_progress' | 'ready_for_review' | 'in_review' | 'returned' | 'awarded';
export type EvidenceState = 'missing' | 'submitted' | 'excused';
export type IdentitySource = 'launch' | 'nrps' | 'roster';

/**
 * Who a Canvas user is, from three sources: launches (sub + `$Canvas.user.id`), NRPS with `rlid` (user_id = sub,
 * message[].canvas_user_id) and the REST roster (id, name). Never joined on email.
 */
export const canvasIdentities = pgTable(
  'canvas_identities',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    canvasUserId: text('canvas_user_id').notNull(),
    ltiSub: text('lti_sub'),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    name: text('name'),
    sortableName: text('sortable_name'),
    sources: text('sources').array().$type<IdentitySource[]>().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.canvasUserId] }), index('canvas_identities_sub').on(t.tenantId, t.ltiSub)],
);

/**
 * One row per student of a course as the last sync saw them: whether still enrolled, Canvas's course-wide
 * progress counts (`bulk_user_progress`, the fingerprint that says whose module progress changed) and which
 * sync run last read their modules (a resumed run skips them).
 */
export const progressRoster = pgTable(
  'progress_roster',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    canvasUserId: text('canvas_user_id').notNull(),
    name: text('name'),
    enrolled: boolean('enrolled').notNull().default(true),
    requirementCount: integer('requirement_count'),
    requirementCompletedCount: integer('requirement_completed_count'),
    progressCompletedAt: text('progress_completed_at'),
    /** The bulk fingerprint at the time modules were last read: differs from the one above → read again. */
    modulesFingerprint: text('modules_fingerprint'),
    modulesReadAt: timestamp('modules_read_at', { withTimezone: true }),
    modulesReadRun: uuid('modules_read_run'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.canvasUserId] }), index('progress_roster_tenant').on(t.tenantId)],
);

/** An earner's progress on one attached micro-credential in one course. */
export const credentialProgress = pgTable(
  'credential_progress',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    canvasUserId: text('canvas_user_id').notNull(),
    state: text('state').$type<ProgressState>().notNull().default('not_started'),
    modulesDone: integer('modules_done').notNull().default(0),
    modulesTotal: integer('modules_total').notNull().default(0),
    doneModuleIds: text('done_module_ids').array().notNull().default(sql`'{}'::text[]`),
    /** Required modules Canvas no longer has (deleted): they block readiness until the designer re-attaches. */
    missingModuleIds: text('missing_module_ids').array().notNull().default(sql`'{}'::text[]`),
    evidenceState: text('evidence_state').$type<EvidenceState>().notNull().default('missing'),
    evidenceSubmissionId: text('evidence_submission_id'),
    evidenceAttempt: integer('evidence_attempt'),
    evidenceSubmittedAt: timestamp('evidence_submitted_at', { withTimezone: true }),
    summary: text('summary').notNull().default(''),
    enrolled: boolean('enrolled').notNull().default(true),
    readyAt: timestamp('ready_at', { withTimezone: true }),
    /** The attempt of the last evidence snapshot taken (null: none yet). */
    snapshotAttempt: integer('snapshot_attempt'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('credential_progress_unique').on(t.courseId, t.credentialId, t.canvasUserId),
    index('credential_progress_tenant_user').on(t.tenantId, t.canvasUserId),
  ],
);

export interface SyncIssue {
  kind: 'module_deleted' | 'assignment_deleted' | 'educator_failed' | 'unenrolled' | 'canvas_unavailable' | 'authorization' | 'bad_answer' | 'snapshot_failed';
  message: string;
  canvasUserId?: string;
  at: string;
}

/** Per course: the current or last sync, its cursor, and what the designer should know about it. */
export const courseSyncStates = pgTable('course_sync_states', {
  courseId: uuid('course_id').primaryKey().references(() => courses.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  status: text('status', { enum: ['idle', 'queued', 'running', 'failed'] }).notNull().default('idle'),
  /** The run in progress (or interrupted): a retried job with the same run continues where it stopped. */
  runId: uuid('run_id'),
  runMode: text('run_mode', { enum: ['full', 'incremental'] }),
  runStartedAt: timestamp('run_started_at', { withTimezone: true }),
  /** When the run began reading Canvas: the next `submitted_since` cursor once it finishes. */
  runCursor: timestamp('run_cursor', { withTimezone: true }),
  total: integer('total').notNull().default(0),
  done: integer('done').notNull().default(0),
  requests: integer('requests').notNull().default(0),
  throttled: integer('throttled').notNull().default(0),
  lastFullSyncAt: timestamp('last_full_sync_at', { withTimezone: true }),
  lastSyncAt: timestamp('last_sync_at', { withTimezone: true }),
  /** `submitted_since` for the next incremental sync. */
  submittedSince: timestamp('submitted_since', { withTimezone: true }),
  lastDurationMs: integer('last_duration_ms'),
  lastRequests: integer('last_requests'),
  lastError: text('last_error'),
  lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
  issues: jsonb('issues').$type<SyncIssue[]>().notNull().default(sql`'[]'::jsonb`),
  /** Canvas module names by id, as last read (for links and labels on the earner's home). */
  moduleNames: jsonb('module_names').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export interface SnapshotRubricEntry { points: number | null; ratingId: string | null; comments: string | null }

/**
 * The evidence as Canvas showed it for one attempt, kept so a review stays possible after the submission
 * changes or its files disappear in Canvas. One per (credential, earner, attempt).
 */
export const evidenceSnapshots = pgTable(
  'evidence_snapshots',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    courseId: uuid('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id').notNull().references(() => microCredentials.id, { onDelete: 'cascade' }),
    canvasUserId: text('canvas_user_id').notNull(),
    canvasAssignmentId: text('canvas_assignment_id').notNull(),
    canvasSubmissionId: text('canvas_submission_id').notNull(),
    attempt: integer('attempt').notNull(),
    submissionType: text('submission_type'),
    body: text('body'),
    url: text('url'),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    workflowState: text('workflow_state'),
    score: real('score'),
    grade: text('grade'),
    rubricAssessment: jsonb('rubric_assessment').$type<Record<string, SnapshotRubricEntry>>(),
    /** complete: every file stored; partial: some files could not be kept (see evidence_files.status). */
    status: text('status', { enum: ['complete', 'partial'] }).notNull().default('complete'),
    capturedAt: timestamp('captured_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('evidence_snapshots_attempt').on(t.credentialId, t.canvasUserId, t.attempt), index('evidence_snapshots_tenant').on(t.tenantId, t.canvasUserId)],
);

/** A submission attachment as downloaded: bytes (capped), SHA-256, declared and detected content type. */
export const evidenceFiles = pgTable(
  'evidence_files',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    snapshotId: uuid('snapshot_id').notNull().references(() => evidenceSnapshots.id, { onDelete: 'cascade' }),
    canvasFileId: text('canvas_file_id').notNull(),
    filename: text('filename').notNull(),
    declaredContentType: text('declared_content_type').notNull(),
    /** What the bytes are (magic numbers), null when unrecognised. */
    detectedContentType: text('detected_content_type'),
    size: integer('size').notNull(),
    sha256: text('sha256'),
    bytes: bytea('bytes'),
    status: text('status', { enum: ['stored', 'too_large', 'type_mismatch', 'unavailable'] }).notNull(),
    note: text('note'),
  },
  (t) => [uniqueIndex('evidence_files_unique').on(t.snapshotId, t.canvasFileId), index('evidence_files_tenant').on(t.tenantId)],
);

/** Live Events already accepted (idempotency): Canvas may deliver an event more than once. */
export const liveEventReceipts = pgTable(
  'live_event_receipts',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    eventKey: text('event_key').notNull(),
    eventName: text('event_name').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.eventKey] }), index('live_event_receipts_received').on(t.receivedAt)],
);

/** Per tenant: where Canvas's Live Events signing keys are published (else the env default). */
export const progressSettings = pgTable('progress_settings', {
  tenantId: uuid('tenant_id').primaryKey().references(() => tenants.id, { onDelete: 'cascade' }),
  liveEventsJwksUrl: text('live_events_jwks_url'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type CanvasIdentityRow = typeof canvasIdentities.$inferSelect;
export type ProgressRosterRow = typeof progressRoster.$inferSelect;
export type CredentialProgressRow = typeof credentialProgress.$inferSelect;
export type CourseSyncStateRow = typeof courseSyncStates.$inferSelect;
export type EvidenceSnapshotRow = typeof evidenceSnapshots.$inferSelect;
export type EvidenceFileRow = typeof evidenceFiles.$inferSelect;
