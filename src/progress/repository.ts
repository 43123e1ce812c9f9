import { and, asc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { courses, tenants, users, type User } from '../tenants/schema';
import { TenantRepository } from '../tenants/repository';
import { credentialAttachments, microCredentials, microCredentialVersions } from '../catalog/schema';
import {
  canvasIdentities, courseSyncStates, credentialProgress, evidenceFiles, evidenceSnapshots, liveEventReceipts, progressRoster, progressSettings,
  type CourseSyncStateRow, type CredentialProgressRow, type EvidenceFileRow, type EvidenceSnapshotRow, type IdentitySource, type ProgressRosterRow, type SyncIssue,
} from './schema';
import type { Evaluation } from './engine';

/** An attached micro-credential as the sync needs it. */
export interface AttachedCredential {
  credentialId: string;
  name: string;
  state: 'draft' | 'published' | 'retired';
  moduleIds: string[];
  assignmentId: string;
  attachedBy: string | null;
  updatedAt: Date;
}

export interface CourseInfo { tenantId: string; courseId: string; canvasCourseId: string | null; canvasBaseUrl: string | null; title: string }

/** All SQL of progress: identities, roster, progress rows, sync state, snapshots, event receipts. Every query filters by tenant. */
export class ProgressRepository {
  constructor(readonly orm: Orm) {}

  with(tx: Orm): ProgressRepository {
    return new ProgressRepository(tx);
  }

  transaction<T>(fn: (repo: ProgressRepository, tx: Orm) => Promise<T>): Promise<T> {
    return this.orm.transaction((tx) => fn(this.with(tx as unknown as Orm), tx as unknown as Orm));
  }

  // ---------------------------------------------------------------- courses and attachments

  async course(tenantId: string, courseId: string): Promise<CourseInfo | undefined> {
    const [row] = await this.orm
      .select({ tenantId: courses.tenantId, courseId: courses.id, canvasCourseId: courses.canvasCourseId, canvasBaseUrl: tenants.canvasBaseUrl, title: courses.title })
      .from(courses)
      .innerJoin(tenants, eq(tenants.id, courses.tenantId))
      .where(and(eq(courses.tenantId, tenantId), eq(courses.id, courseId)))
      .limit(1);
    return row;
  }

  async courseByCanvasId(tenantId: string, canvasCourseId: string): Promise<CourseInfo | undefined> {
    const [row] = await this.orm
      .select({ tenantId: courses.tenantId, courseId: courses.id, canvasCourseId: courses.canvasCourseId, canvasBaseUrl: tenants.canvasBaseUrl, title: courses.title })
      .from(courses)
      .innerJoin(tenants, eq(tenants.id, courses.tenantId))
      .where(and(eq(courses.tenantId, tenantId), eq(courses.canvasCourseId, canvasCourseId)))
      .limit(1);
    return row;
  }

  /** Courses whose evidence assignment is this Canvas assignment (submission events carry no course id). */
  async coursesByAssignment(tenantId: string, canvasAssignmentId: string): Promise<string[]> {
    const rows = await this.orm
      .selectDistinct({ courseId: credentialAttachments.courseId })
      .from(credentialAttachments)
      .where(and(eq(credentialAttachments.tenantId, tenantId), eq(credentialAttachments.assignmentId, canvasAssignmentId)));
    return rows.map((r) => r.courseId);
  }

  /** Micro-credentials attached to this course that are not retired, with their current name. */
  async attached(tenantId: string, courseId: string): Promise<AttachedCredential[]> {
    const rows = await this.orm
      .select({
        credentialId: credentialAttachments.credentialId, name: microCredentialVersions.name, state: microCredentials.state, moduleIds: credentialAttachments.moduleIds,
        assignmentId: credentialAttachments.assignmentId, attachedBy: credentialAttachments.attachedBy, updatedAt: credentialAttachments.updatedAt,
      })
      .from(credentialAttachments)
      .innerJoin(microCredentials, and(eq(microCredentials.id, credentialAttachments.credentialId), eq(microCredentials.tenantId, credentialAttachments.tenantId)))
      .innerJoin(microCredentialVersions, eq(microCredentialVersions.id, microCredentials.currentVersionId))
      .where(and(eq(credentialAttachments.tenantId, tenantId), eq(credentialAttachments.courseId, courseId), ne(microCredentials.state, 'retired')))
      .orderBy(asc(microCredentialVersions.name));
    return rows;
  }

  /** Every course with an attached micro-credential, across tenants (the schedule). */
  async coursesToSync(): Promise<{ tenantId: string; courseId: string }[]> {
    return this.orm
      .selectDistinct({ tenantId: credentialAttachments.tenantId, courseId: credentialAttachments.courseId })
      .from(credentialAttachments)
      .innerJoin(microCredentials, eq(microCredentials.id, credentialAttachments.credentialId))
      .where(ne(microCredentials.state, 'retired'));
  }

  // ---------------------------------------------------------------- identities

  /** Records who a Canvas user is; a source adds to what other sources said, never removes. */
  async recordIdentities(tenantId: string, source: IdentitySource, list: { canvasUserId: string; ltiSub?: string | null; userId?: string | null; name?: string | null; sortableName?: string | null }[]): Promise<void> {
    for (let i = 0; i < list.length; i += 500) {
      const chunk = list.slice(i, i + 500);
      if (!chunk.length) continue;
      await this.orm
        .insert(canvasIdentities)
        .values(chunk.map((x) => ({ tenantId, canvasUserId: x.canvasUserId, ltiSub: x.ltiSub ?? null, userId: x.userId ?? null, name: x.name ?? null, sortableName: x.sortableName ?? null, sources: [source] })))
        .onConflictDoUpdate({
          target: [canvasIdentities.tenantId, canvasIdentities.canvasUserId],
          set: {
            ltiSub: sql`coalesce(excluded.lti_sub, ${canvasIdentities.ltiSub})`,
            userId: sql`coalesce(excluded.user_id, ${canvasIdentities.userId})`,
            name: sql`coalesce(excluded.name, ${canvasIdentities.name})`,
            sortableName: sql`coalesce(excluded.sortable_name, ${canvasIdentities.sortableName})`,
            sources: sql`(SELECT array_agg(DISTINCT s ORDER BY s) FROM unnest(${canvasIdentities.sources} || excluded.sources) AS s)`,
            updatedAt: sql`now()`,
          },
        });
    }
  }

  async identity(tenantId: string, canvasUserId: string) {
    const [row] = await this.orm.select().from(canvasIdentities).where(and(eq(canvasIdentities.tenantId, tenantId), eq(canvasIdentities.canvasUserId, canvasUserId))).limit(1);
    return row;
  }

  /**
   * The microcred user behind a Canvas user id: known from a launch, or made now from the identity map when NRPS gave
   * their LTI `sub` (a later launch finds the same row). Undefined when only the REST API knows them.
   */
  async earnerFor(tenantId: string, canvasUserId: string): Promise<User | undefined> {
    const [known] = await this.orm.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.canvasUserId, canvasUserId))).orderBy(asc(users.createdAt)).limit(1);
    if (known) return known;
    const identity = await this.identity(tenantId, canvasUserId);
    if (!identity?.ltiSub) return undefined;
    const user = await new TenantRepository(this.orm).upsertUser(tenantId, { ltiSub: identity.ltiSub, canvasUserId, name: identity.name });
    await this.orm.update(canvasIdentities).set({ userId: user.id }).where(and(eq(canvasIdentities.tenantId, tenantId), eq(canvasIdentities.canvasUserId, canvasUserId)));
    return user;
  }

  async identityBySub(tenantId: string, ltiSub: string) {
    const [row] = await this.orm.select().from(canvasIdentities).where(and(eq(canvasIdentities.tenantId, tenantId), eq(canvasIdentities.ltiSub, ltiSub))).limit(1);
    return row;
  }

  // ---------------------------------------------------------------- roster

  async roster(tenantId: string, courseId: string): Promise<ProgressRosterRow[]> {
    return this.orm.select().from(progressRoster).where(and(eq(progressRoster.tenantId, tenantId), eq(progressRoster.courseId, courseId)));
  }

  /** The students Canvas listed now, with their course-wide progress counts. */
  async upsertRoster(tenantId: string, courseId: string, list: { canvasUserId: string; name: string; requirementCount: number; requirementCompletedCount: number; completedAt: string | null }[]): Promise<void> {
    for (let i = 0; i < list.length; i += 500) {
      const chunk = list.slice(i, i + 500);
      if (!chunk.length) continue;
      await this.orm
        .insert(progressRoster)
        .values(chunk.map((x) => ({ tenantId, courseId, canvasUserId: x.canvasUserId, name: x.name, enrolled: true, requirementCount: x.requirementCount, requirementCompletedCount: x.requirementCompletedCount, progressCompletedAt: x.completedAt })))
        .onConflictDoUpdate({
          target: [progressRoster.courseId, progressRoster.canvasUserId],
          set: {
            name: sql`excluded.name`, enrolled: true, requirementCount: sql`excluded.requirement_count`, requirementCompletedCount: sql`excluded.requirement_completed_count`,
            progressCompletedAt: sql`excluded.progress_completed_at`, updatedAt: sql`now()`,
          },
        });
    }
  }

  /** Students no longer listed by Canvas: kept (their progress and evidence stay), marked as not enrolled. */
  async markUnenrolled(tenantId: string, courseId: string, canvasUserIds: string[]): Promise<void> {
    if (!canvasUserIds.length) return;
    await this.orm.update(progressRoster).set({ enrolled: false, updatedAt: sql`now()` }).where(and(eq(progressRoster.tenantId, tenantId), eq(progressRoster.courseId, courseId), inArray(progressRoster.canvasUserId, canvasUserIds)));
    await this.orm.update(credentialProgress).set({ enrolled: false }).where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.courseId, courseId), inArray(credentialProgress.canvasUserId, canvasUserIds)));
  }

  async markModulesRead(tenantId: string, courseId: string, canvasUserId: string, o: { fingerprint: string | null; runId: string | null }): Promise<void> {
    await this.orm
      .update(progressRoster)
      .set({ modulesFingerprint: o.fingerprint, modulesReadRun: o.runId, modulesReadAt: sql`now()` })
      .where(and(eq(progressRoster.tenantId, tenantId), eq(progressRoster.courseId, courseId), eq(progressRoster.canvasUserId, canvasUserId)));
  }

  // ---------------------------------------------------------------- progress

  async progressForCourse(tenantId: string, courseId: string): Promise<CredentialProgressRow[]> {
    return this.orm.select().from(credentialProgress).where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.courseId, courseId)));
  }

  async progressFor(tenantId: string, courseId: string, canvasUserId: string): Promise<CredentialProgressRow[]> {
    return this.orm
      .select()
      .from(credentialProgress)
      .where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.courseId, courseId), eq(credentialProgress.canvasUserId, canvasUserId)));
  }

  async progressOne(tenantId: string, credentialId: string, canvasUserId: string): Promise<CredentialProgressRow | undefined> {
    const [row] = await this.orm
      .select()
      .from(credentialProgress)
      .where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.credentialId, credentialId), eq(credentialProgress.canvasUserId, canvasUserId)))
      .limit(1);
    return row;
  }

  /** Writes one earner's evaluation; `ready_at` is set the first time they become ready. */
  async saveProgress(tenantId: string, courseId: string, credentialId: string, canvasUserId: string, e: Evaluation, enrolled = true): Promise<CredentialProgressRow> {
    const values = {
      state: e.state, modulesDone: e.modulesDone, modulesTotal: e.modulesTotal, doneModuleIds: e.doneModuleIds, missingModuleIds: e.missingModuleIds,
      evidenceState: e.evidence.state, evidenceSubmissionId: e.evidence.submissionId, evidenceAttempt: e.evidence.attempt,
      evidenceSubmittedAt: e.evidence.submittedAt ? new Date(e.evidence.submittedAt) : null, summary: e.summary, enrolled,
    };
    const [row] = await this.orm
      .insert(credentialProgress)
      .values({ tenantId, courseId, credentialId, canvasUserId, ...values, readyAt: e.state === 'ready_for_review' ? sql`now()` : null })
      .onConflictDoUpdate({
        target: [credentialProgress.courseId, credentialProgress.credentialId, credentialProgress.canvasUserId],
        set: { ...values, readyAt: e.state === 'ready_for_review' ? sql`coalesce(${credentialProgress.readyAt}, now())` : credentialProgress.readyAt, updatedAt: sql`now()` },
      })
      .returning();
    return row!;
  }

  async setSnapshotAttempt(tenantId: string, credentialId: string, canvasUserId: string, attempt: number): Promise<void> {
    await this.orm
      .update(credentialProgress)
      .set({ snapshotAttempt: sql`greatest(coalesce(${credentialProgress.snapshotAttempt}, 0), ${attempt})` })
      .where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.credentialId, credentialId), eq(credentialProgress.canvasUserId, canvasUserId)));
  }

  // ---------------------------------------------------------------- sync state

  async syncState(tenantId: string, courseId: string): Promise<CourseSyncStateRow | undefined> {
    const [row] = await this.orm.select().from(courseSyncStates).where(and(eq(courseSyncStates.tenantId, tenantId), eq(courseSyncStates.courseId, courseId))).limit(1);
    return row;
  }

  async updateSyncState(tenantId: string, courseId: string, set: Partial<Omit<CourseSyncStateRow, 'courseId' | 'tenantId'>>): Promise<void> {
    await this.orm
      .insert(courseSyncStates)
      .values({ tenantId, courseId, ...set })
      .onConflictDoUpdate({ target: courseSyncStates.courseId, set: { ...set, updatedAt: sql`now()` }, setWhere: eq(courseSyncStates.tenantId, tenantId) });
  }

  /** Marks a course queued unless a run is already going (the page shows it at once). */
  async markQueued(tenantId: string, courseId: string): Promise<void> {
    await this.orm
      .insert(courseSyncStates)
      .values({ tenantId, courseId, status: 'queued' })
      .onConflictDoUpdate({ target: courseSyncStates.courseId, set: { status: sql`CASE WHEN ${courseSyncStates.status} = 'running' THEN 'running' ELSE 'queued' END`, updatedAt: sql`now()` }, setWhere: eq(courseSyncStates.tenantId, tenantId) });
  }

  /** Merges module names learnt from Canvas into the course's map. */
  async rememberModuleNames(tenantId: string, courseId: string, names: Record<string, string>): Promise<void> {
    if (!Object.keys(names).length) return;
    await this.orm
      .insert(courseSyncStates)
      .values({ tenantId, courseId, moduleNames: names })
      .onConflictDoUpdate({ target: courseSyncStates.courseId, set: { moduleNames: sql`${courseSyncStates.moduleNames} || excluded.module_names` }, setWhere: eq(courseSyncStates.tenantId, tenantId) });
  }

  async advanceSync(tenantId: string, courseId: string, by: number): Promise<void> {
    await this.orm
      .update(courseSyncStates)
      .set({ done: sql`${courseSyncStates.done} + ${by}`, updatedAt: sql`now()` })
      .where(and(eq(courseSyncStates.tenantId, tenantId), eq(courseSyncStates.courseId, courseId)));
  }

  // ---------------------------------------------------------------- snapshots

  async snapshotExists(tenantId: string, credentialId: string, canvasUserId: string, attempt: number): Promise<boolean> {
    const [row] = await this.orm
      .select({ id: evidenceSnapshots.id })
      .from(evidenceSnapshots)
      .where(and(eq(evidenceSnapshots.tenantId, tenantId), eq(evidenceSnapshots.credentialId, credentialId), eq(evidenceSnapshots.canvasUserId, canvasUserId), eq(evidenceSnapshots.attempt, attempt)))
      .limit(1);
    return !!row;
  }

  async insertSnapshot(s: typeof evidenceSnapshots.$inferInsert, files: Omit<typeof evidenceFiles.$inferInsert, 'snapshotId' | 'tenantId'>[]): Promise<EvidenceSnapshotRow | undefined> {
    const [row] = await this.orm.insert(evidenceSnapshots).values(s).onConflictDoNothing().returning();
    if (!row) return undefined;
    if (files.length) await this.orm.insert(evidenceFiles).values(files.map((f) => ({ ...f, tenantId: s.tenantId, snapshotId: row.id })));
    return row;
  }

  async snapshots(tenantId: string, credentialId: string, canvasUserId: string): Promise<(EvidenceSnapshotRow & { files: EvidenceFileRow[] })[]> {
    const snaps = await this.orm
      .select()
      .from(evidenceSnapshots)
      .where(and(eq(evidenceSnapshots.tenantId, tenantId), eq(evidenceSnapshots.credentialId, credentialId), eq(evidenceSnapshots.canvasUserId, canvasUserId)))
      .orderBy(asc(evidenceSnapshots.attempt));
    if (!snaps.length) return [];
    const files = await this.orm.select().from(evidenceFiles).where(and(eq(evidenceFiles.tenantId, tenantId), inArray(evidenceFiles.snapshotId, snaps.map((s) => s.id))));
    return snaps.map((s) => ({ ...s, files: files.filter((f) => f.snapshotId === s.id) }));
  }

  // ---------------------------------------------------------------- Live Events

  /** True the first time this event is seen for the tenant; false for a duplicate delivery. */
  async firstReceipt(tenantId: string, eventKey: string, eventName: string): Promise<boolean> {
    const rows = await this.orm.insert(liveEventReceipts).values({ tenantId, eventKey, eventName }).onConflictDoNothing().returning({ k: liveEventReceipts.eventKey });
    return rows.length === 1;
  }

  async sweepReceipts(olderThanDays = 7): Promise<void> {
    await this.orm.delete(liveEventReceipts).where(sql`${liveEventReceipts.receivedAt} < now() - make_interval(days => ${olderThanDays})`);
  }

  async settings(tenantId: string): Promise<{ liveEventsJwksUrl: string | null }> {
    const [row] = await this.orm.select({ liveEventsJwksUrl: progressSettings.liveEventsJwksUrl }).from(progressSettings).where(eq(progressSettings.tenantId, tenantId)).limit(1);
    return row ?? { liveEventsJwksUrl: null };
  }

  async setSettings(tenantId: string, s: { liveEventsJwksUrl: string | null }): Promise<void> {
    await this.orm
      .insert(progressSettings)
      .values({ tenantId, liveEventsJwksUrl: s.liveEventsJwksUrl })
      .onConflictDoUpdate({ target: progressSettings.tenantId, set: { liveEventsJwksUrl: s.liveEventsJwksUrl, updatedAt: sql`now()` } });
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    const [row] = await this.orm.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
    return !!row;
  }

  /** Identities known for the earners of a course (names for the designer's table). */
  async namesFor(tenantId: string, canvasUserIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < canvasUserIds.length; i += 1000) {
      const chunk = canvasUserIds.slice(i, i + 1000);
      if (!chunk.length) continue;
      const rows = await this.orm
        .select({ id: canvasIdentities.canvasUserId, name: canvasIdentities.name })
        .from(canvasIdentities)
        .where(and(eq(canvasIdentities.tenantId, tenantId), inArray(canvasIdentities.canvasUserId, chunk), isNotNull(canvasIdentities.name)));
      for (const r of rows) if (r.name) out.set(r.id, r.name);
    }
    return out;
  }

  async issues(tenantId: string, courseId: string): Promise<SyncIssue[]> {
    return (await this.syncState(tenantId, courseId))?.issues ?? [];
  }
}
