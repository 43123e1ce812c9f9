import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { courses, tenants, users } from '../tenants/schema';
import { credentialAttachments, microCredentials, microCredentialVersions, stackMembers, stacks } from '../catalog/schema';
import { credentialProgress } from '../progress/schema';
import { ProgressRepository } from '../progress/repository';
import { CatalogRepository } from '../catalog/repository';
import { sessions } from '../lti/schema';
import {
  awardPassbacks, awards, awardSettings, ceuLedger, courseAgsEndpoints, earnerPreferences, notYetNotices, stackNextLevels,
  type AwardPassbackRow, type AwardRow, type PassbackKind, type PassbackState,
} from './schema';

/** All SQL of awards. Every query filters by tenant; the award command passes its transaction with `with(tx)`. */
export class AwardRepository {
  constructor(readonly orm: Orm) {}

  with(tx: Orm): AwardRepository {
    return new AwardRepository(tx);
  }

  /**
   * Serialises the awards of one earner (in the caller's transaction): a duplicate waits for the first to commit,
   * and two member awards committing at once cannot both miss that together they complete a stack.
   */
  async lockEarner(tenantId: string, earnerId: string): Promise<void> {
    await this.orm.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`award:${tenantId}:${earnerId}`}, 0))`);
  }

  // ---------------------------------------------------------------- awards

  /** Inserts the award unless the earner already holds this version (or stack); undefined when they do. */
  async insertAward(row: typeof awards.$inferInsert): Promise<AwardRow | undefined> {
    const [created] = await this.orm.insert(awards).values(row).onConflictDoNothing().returning();
    return created;
  }

  async existingAward(tenantId: string, earnerId: string, a: { versionId: string } | { stackId: string }): Promise<AwardRow | undefined> {
    const match = 'versionId' in a ? eq(awards.versionId, a.versionId) : eq(awards.stackId, a.stackId);
    const [row] = await this.orm.select().from(awards).where(and(eq(awards.tenantId, tenantId), eq(awards.earnerId, earnerId), match)).limit(1);
    return row;
  }

  async award(tenantId: string, id: string): Promise<AwardRow | undefined> {
    const [row] = await this.orm.select().from(awards).where(and(eq(awards.tenantId, tenantId), eq(awards.id, id))).limit(1);
    return row;
  }

  async setIssuedCredential(tenantId: string, awardId: string, issuedCredentialId: string): Promise<void> {
    await this.orm.update(awards).set({ issuedCredentialId }).where(and(eq(awards.tenantId, tenantId), eq(awards.id, awardId)));
  }

  /** Micro-credentials (ids) the earner holds, not revoked. */
  async earnedCredentialIds(tenantId: string, earnerId: string): Promise<string[]> {
    const rows = await this.orm
      .selectDistinct({ id: awards.credentialId })
      .from(awards)
      .where(and(eq(awards.tenantId, tenantId), eq(awards.earnerId, earnerId), isNotNull(awards.credentialId), isNull(awards.revokedAt)));
    return rows.map((r) => r.id!);
  }

  async awardsOfEarner(tenantId: string, earnerId: string): Promise<AwardRow[]> {
    return this.orm.select().from(awards).where(and(eq(awards.tenantId, tenantId), eq(awards.earnerId, earnerId))).orderBy(asc(awards.awardedAt));
  }

  /** Marks an award revoked; undefined when it already was. */
  async markRevoked(tenantId: string, awardId: string, reason: string) {
    const [row] = await this.orm
      .update(awards)
      .set({ revokedAt: new Date(), revocationReason: reason.slice(0, 1000) })
      .where(and(eq(awards.tenantId, tenantId), eq(awards.id, awardId), isNull(awards.revokedAt)))
      .returning();
    return row;
  }

  /** The reversing entry of an award's hours (negative), once. */
  async reverseLedger(tenantId: string, awardId: string): Promise<void> {
    const [earned] = await this.orm.select().from(ceuLedger).where(and(eq(ceuLedger.tenantId, tenantId), eq(ceuLedger.awardId, awardId), eq(ceuLedger.kind, 'earned'))).limit(1);
    if (!earned) return;
    await this.orm
      .insert(ceuLedger)
      .values({ tenantId, earnerId: earned.earnerId, awardId, kind: 'reversed', title: earned.title, hours: -earned.hours, ceus: -earned.ceus, earnedOn: new Date().toISOString().slice(0, 10) })
      .onConflictDoNothing();
  }

  async insertLedger(row: typeof ceuLedger.$inferInsert): Promise<void> {
    await this.orm.insert(ceuLedger).values(row).onConflictDoNothing();
  }

  // ---------------------------------------------------------------- catalog reads

  /** A published version of a micro-credential of this tenant. */
  async publishedVersion(tenantId: string, versionId: string) {
    const [row] = await this.orm
      .select({ version: microCredentialVersions, state: microCredentials.state })
      .from(microCredentialVersions)
      .innerJoin(microCredentials, eq(microCredentials.id, microCredentialVersions.credentialId))
      .where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.id, versionId), isNotNull(microCredentialVersions.publishedAt)))
      .limit(1);
    return row;
  }

  /** The credential and its current (published) version. */
  async credential(tenantId: string, credentialId: string) {
    const [row] = await this.orm
      .select({ credential: microCredentials, version: microCredentialVersions })
      .from(microCredentials)
      .leftJoin(microCredentialVersions, eq(microCredentialVersions.id, microCredentials.currentVersionId))
      .where(and(eq(microCredentials.tenantId, tenantId), eq(microCredentials.id, credentialId)))
      .limit(1);
    return row;
  }

  async stack(tenantId: string, stackId: string) {
    const [row] = await this.orm.select().from(stacks).where(and(eq(stacks.tenantId, tenantId), eq(stacks.id, stackId))).limit(1);
    return row;
  }

  /** Published stacks that contain this micro-credential, with all their members. */
  async publishedStacksWith(tenantId: string, credentialId: string) {
    const holding = await this.orm
      .selectDistinct({ id: stackMembers.stackId })
      .from(stackMembers)
      .innerJoin(stacks, eq(stacks.id, stackMembers.stackId))
      .where(and(eq(stackMembers.tenantId, tenantId), eq(stackMembers.credentialId, credentialId), eq(stacks.state, 'published')));
    if (!holding.length) return [];
    const ids = holding.map((h) => h.id);
    const [rows, members] = await Promise.all([
      this.orm.select().from(stacks).where(and(eq(stacks.tenantId, tenantId), inArray(stacks.id, ids))),
      this.orm.select().from(stackMembers).where(and(eq(stackMembers.tenantId, tenantId), inArray(stackMembers.stackId, ids))).orderBy(asc(stackMembers.position)),
    ]);
    return rows.map((s) => ({ stack: s, members: members.filter((m) => m.stackId === s.id) }));
  }

  attachment(tenantId: string, courseId: string, credentialId: string) {
    return new CatalogRepository(this.orm).findAttachment(tenantId, courseId, credentialId);
  }

  async attachmentsOf(tenantId: string, credentialId: string) {
    return this.orm.select().from(credentialAttachments).where(and(eq(credentialAttachments.tenantId, tenantId), eq(credentialAttachments.credentialId, credentialId))).orderBy(desc(credentialAttachments.updatedAt));
  }

  // ---------------------------------------------------------------- people, courses, tenants

  async tenant(tenantId: string) {
    const [row] = await this.orm.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
    return row;
  }

  async user(tenantId: string, userId: string) {
    const [row] = await this.orm.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId))).limit(1);
    return row;
  }

  async usersByIds(tenantId: string, ids: string[]) {
    if (!ids.length) return [];
    return this.orm.select().from(users).where(and(eq(users.tenantId, tenantId), inArray(users.id, ids)));
  }

  /** The earner behind a Canvas user id (the progress engine's identity map, which owns that resolution). */
  earnerByCanvasId(tenantId: string, canvasUserId: string) {
    return new ProgressRepository(this.orm).earnerFor(tenantId, canvasUserId);
  }

  async course(tenantId: string, courseId: string) {
    const [row] = await this.orm.select().from(courses).where(and(eq(courses.tenantId, tenantId), eq(courses.id, courseId))).limit(1);
    return row;
  }

  // ---------------------------------------------------------------- progress

  /** The earner's progress rows on this credential become `awarded` (every course it is attached to). */
  async markProgressAwarded(tenantId: string, credentialId: string, canvasUserId: string): Promise<number> {
    const rows = await this.orm
      .update(credentialProgress)
      .set({ state: 'awarded', summary: 'Awarded', updatedAt: sql`now()` })
      .where(and(eq(credentialProgress.tenantId, tenantId), eq(credentialProgress.credentialId, credentialId), eq(credentialProgress.canvasUserId, canvasUserId)))
      .returning({ id: credentialProgress.id });
    return rows.length;
  }

  // ---------------------------------------------------------------- outbox

  async insertPassback(row: { tenantId: string; awardId: string; kind: PassbackKind; payload?: Record<string, unknown> }): Promise<AwardPassbackRow | undefined> {
    const [created] = await this.orm.insert(awardPassbacks).values(row).onConflictDoNothing().returning();
    return created;
  }

  async passback(tenantId: string, id: string): Promise<AwardPassbackRow | undefined> {
    const [row] = await this.orm.select().from(awardPassbacks).where(and(eq(awardPassbacks.tenantId, tenantId), eq(awardPassbacks.id, id))).limit(1);
    return row;
  }

  async passbacksOf(tenantId: string, awardId: string): Promise<AwardPassbackRow[]> {
    return this.orm.select().from(awardPassbacks).where(and(eq(awardPassbacks.tenantId, tenantId), eq(awardPassbacks.awardId, awardId))).orderBy(asc(awardPassbacks.kind));
  }

  async updatePassback(tenantId: string, id: string, set: { state: PassbackState; lastError?: string | null; attempts?: number; payload?: Record<string, unknown>; sentAt?: Date | null }): Promise<void> {
    await this.orm.update(awardPassbacks).set({ ...set, updatedAt: sql`now()` }).where(and(eq(awardPassbacks.tenantId, tenantId), eq(awardPassbacks.id, id)));
  }

  /** Counts one more try; answers the new count. */
  async countAttempt(tenantId: string, id: string): Promise<number> {
    const [row] = await this.orm
      .update(awardPassbacks)
      .set({ attempts: sql`${awardPassbacks.attempts} + 1`, updatedAt: sql`now()` })
      .where(and(eq(awardPassbacks.tenantId, tenantId), eq(awardPassbacks.id, id)))
      .returning({ attempts: awardPassbacks.attempts });
    return row?.attempts ?? 0;
  }

  /** A course's awards with their passbacks, newest first (the designers' page). */
  async courseAwards(tenantId: string, courseId: string, limit = 200) {
    const rows = await this.orm
      .select({ award: awards, earnerName: users.name, credentialName: microCredentialVersions.name, stackName: stacks.name })
      .from(awards)
      .innerJoin(users, eq(users.id, awards.earnerId))
      .leftJoin(microCredentialVersions, eq(microCredentialVersions.id, awards.versionId))
      .leftJoin(stacks, eq(stacks.id, awards.stackId))
      .where(and(eq(awards.tenantId, tenantId), eq(awards.courseId, courseId)))
      .orderBy(desc(awards.awardedAt))
      .limit(limit);
    const ids = rows.map((r) => r.award.id);
    const passbacks = ids.length ? await this.orm.select().from(awardPassbacks).where(and(eq(awardPassbacks.tenantId, tenantId), inArray(awardPassbacks.awardId, ids))) : [];
    return rows.map((r) => ({ ...r, passbacks: passbacks.filter((p) => p.awardId === r.award.id).sort((a, b) => a.kind.localeCompare(b.kind)) }));
  }

  // ---------------------------------------------------------------- settings, next levels, preferences

  async awardMode(tenantId: string, credentialId: string): Promise<'review' | 'automatic'> {
    const [row] = await this.orm.select({ mode: awardSettings.mode }).from(awardSettings).where(and(eq(awardSettings.tenantId, tenantId), eq(awardSettings.credentialId, credentialId))).limit(1);
    return row?.mode ?? 'review';
  }

  async setAwardMode(tenantId: string, credentialId: string, mode: 'review' | 'automatic', updatedBy: string): Promise<void> {
    await this.orm
      .insert(awardSettings)
      .values({ tenantId, credentialId, mode, updatedBy })
      .onConflictDoUpdate({ target: awardSettings.credentialId, set: { mode, updatedBy, updatedAt: sql`now()` }, setWhere: eq(awardSettings.tenantId, tenantId) });
  }

  async automaticCredentialIds(tenantId: string, credentialIds: string[]): Promise<Set<string>> {
    if (!credentialIds.length) return new Set();
    const rows = await this.orm
      .select({ id: awardSettings.credentialId })
      .from(awardSettings)
      .where(and(eq(awardSettings.tenantId, tenantId), inArray(awardSettings.credentialId, credentialIds), eq(awardSettings.mode, 'automatic')));
    return new Set(rows.map((r) => r.id));
  }

  async nextLevel(tenantId: string, stackId: string) {
    const [row] = await this.orm.select().from(stackNextLevels).where(and(eq(stackNextLevels.tenantId, tenantId), eq(stackNextLevels.stackId, stackId))).limit(1);
    return row;
  }

  async setNextLevel(tenantId: string, stackId: string, v: { action: 'enroll' | 'unlock_module'; canvasCourseId: string; canvasModuleId: string | null } | null): Promise<void> {
    if (!v) {
      await this.orm.delete(stackNextLevels).where(and(eq(stackNextLevels.tenantId, tenantId), eq(stackNextLevels.stackId, stackId)));
      return;
    }
    await this.orm
      .insert(stackNextLevels)
      .values({ tenantId, stackId, ...v })
      .onConflictDoUpdate({ target: stackNextLevels.stackId, set: { ...v, updatedAt: sql`now()` }, setWhere: eq(stackNextLevels.tenantId, tenantId) });
  }

  async preferences(tenantId: string, userId: string): Promise<{ notifyAward: boolean; notifyNotYet: boolean }> {
    const [row] = await this.orm
      .select({ notifyAward: earnerPreferences.notifyAward, notifyNotYet: earnerPreferences.notifyNotYet })
      .from(earnerPreferences)
      .where(and(eq(earnerPreferences.tenantId, tenantId), eq(earnerPreferences.userId, userId)))
      .limit(1);
    return row ?? { notifyAward: true, notifyNotYet: true };
  }

  async setPreferences(tenantId: string, userId: string, set: { notifyAward?: boolean; notifyNotYet?: boolean }): Promise<void> {
    await this.orm
      .insert(earnerPreferences)
      .values({ tenantId, userId, ...set })
      .onConflictDoUpdate({ target: [earnerPreferences.tenantId, earnerPreferences.userId], set: { ...set, updatedAt: sql`now()` } });
  }

  // ---------------------------------------------------------------- AGS endpoints

  async rememberLineitems(tenantId: string, courseId: string, lineitemsUrl: string, scopes: string[]): Promise<void> {
    await this.orm
      .insert(courseAgsEndpoints)
      .values({ tenantId, courseId, lineitemsUrl, scopes })
      .onConflictDoUpdate({
        target: courseAgsEndpoints.courseId,
        set: { lineitemsUrl, scopes, updatedAt: sql`now()` },
        setWhere: and(eq(courseAgsEndpoints.tenantId, tenantId), sql`(${courseAgsEndpoints.lineitemsUrl} <> ${lineitemsUrl} OR ${courseAgsEndpoints.scopes} <> ${sql.param(scopes)}::text[])`),
      });
  }

  /** The course's line-item container: as stored at launch, else from a session still open in the course. */
  async lineitemsUrl(tenantId: string, courseId: string): Promise<string | undefined> {
    const [row] = await this.orm.select({ url: courseAgsEndpoints.lineitemsUrl }).from(courseAgsEndpoints).where(and(eq(courseAgsEndpoints.tenantId, tenantId), eq(courseAgsEndpoints.courseId, courseId))).limit(1);
    if (row) return row.url;
    const [s] = await this.orm
      .select({ url: sql<string | null>`${sessions.launch} -> 'ags' ->> 'lineitems'` })
      .from(sessions)
      .where(and(eq(sessions.tenantId, tenantId), eq(sessions.courseId, courseId), sql`${sessions.launch} -> 'ags' ->> 'lineitems' IS NOT NULL`))
      .orderBy(desc(sessions.expiresAt))
      .limit(1);
    return s?.url ?? undefined;
  }

  // ---------------------------------------------------------------- not-yet notices

  async insertNotYetNotice(tenantId: string, reviewItemId: string, earnerId: string): Promise<void> {
    await this.orm.insert(notYetNotices).values({ tenantId, reviewItemId, earnerId }).onConflictDoNothing();
  }

  async notYetNotice(tenantId: string, reviewItemId: string) {
    const [row] = await this.orm.select().from(notYetNotices).where(and(eq(notYetNotices.tenantId, tenantId), eq(notYetNotices.reviewItemId, reviewItemId))).limit(1);
    return row;
  }

  async updateNotYetNotice(tenantId: string, reviewItemId: string, set: { state: PassbackState; lastError?: string | null; sentAt?: Date | null; attempts?: number }): Promise<void> {
    await this.orm.update(notYetNotices).set({ ...set, updatedAt: sql`now()` }).where(and(eq(notYetNotices.tenantId, tenantId), eq(notYetNotices.reviewItemId, reviewItemId)));
  }
}
