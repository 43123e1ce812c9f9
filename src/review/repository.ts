import { CatalogRepository, isUuid } from '../catalog/repository';
import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { courses, roleGrants, users } from '../tenants/schema';
import { microCredentialVersions } from '../catalog/schema';
import {
  exemplarAttempts, reviewAffiliations, reviewAudit, reviewExemplars, reviewItems, reviews, reviewSettings,
  type AuditAction, type ItemStatus, type ReviewExemplarRow, type ReviewItemRow, type ReviewRow, type ReviewSettingsRow,
} from './schema';

/** Which courses' items a person may review: all of the tenant's (admins, district reviewers) or some. */
export interface ReviewScope {
  userId: string;
  all: boolean;
  courseIds: string[];
}

export type QueueStatus = 'open' | 'pending' | 'in_review' | 'mine' | 'decided' | 'all';

export interface QueueFilter {
  credentialId?: string;
  courseId?: string;
  status: QueueStatus;
  /** Only items submitted at least this many days ago. */
  olderThanDays?: number;
  limit: number;
  offset: number;
}

export interface QueueRow {
  id: string;
  status: ItemStatus;
  round: number;
  calibration: string | null;
  attempt: number;
  submittedAt: Date;
  claimedBy: string | null;
  claimedByName: string | null;
  credentialId: string;
  credentialName: string;
  courseId: string;
  courseTitle: string;
  earnerId: string;
  earnerName: string | null;
  blind: boolean;
  previousItemId: string | null;
}

export const DEFAULT_SETTINGS: Omit<ReviewSettingsRow, 'credentialId' | 'tenantId' | 'updatedAt' | 'updatedBy'> = {
  maxAttempts: null,
  blind: false,
  secondReview: 'none',
  secondReviewShare: 0.2,
  excludeSameSection: false,
  exemplarThreshold: 0.8,
};

/** SQL for the review. Every method takes the tenant id and filters by it. */
export class ReviewRepository {
  constructor(readonly orm: Orm) {}

  // ---- scope --------------------------------------------------------------------------------------------

  /** Reviewer grants: district-wide (course null) or per course. */
  async reviewerGrants(tenantId: string, userId: string): Promise<{ district: boolean; courseIds: string[] }> {
    const rows = await this.orm.select({ courseId: roleGrants.courseId }).from(roleGrants).where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId), eq(roleGrants.role, 'reviewer')));
    return { district: rows.some((r) => r.courseId === null), courseIds: rows.map((r) => r.courseId).filter((c): c is string => c !== null) };
  }

  // ---- items --------------------------------------------------------------------------------------------

  async insertItem(tenantId: string, v: Omit<typeof reviewItems.$inferInsert, 'tenantId' | 'id'>): Promise<ReviewItemRow | undefined> {
    const [row] = await this.orm.insert(reviewItems).values({ tenantId, ...v }).onConflictDoNothing({ target: [reviewItems.tenantId, reviewItems.earnerId, reviewItems.versionId, reviewItems.attempt] }).returning();
    return row;
  }

  async findItem(tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<ReviewItemRow | undefined> {
    if (!isUuid(id)) return undefined;
    const q = this.orm.select().from(reviewItems).where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.id, id))).limit(1);
    const [row] = opts.forUpdate ? await q.for('update') : await q;
    return row;
  }

  async findAttempt(tenantId: string, earnerId: string, versionId: string, attempt: number): Promise<ReviewItemRow | undefined> {
    const [row] = await this.orm
      .select()
      .from(reviewItems)
      .where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.earnerId, earnerId), eq(reviewItems.versionId, versionId), eq(reviewItems.attempt, attempt)))
      .limit(1);
    return row;
  }

  /** The earner's items for one micro-credential (every version), newest first. */
  async itemsOfEarner(tenantId: string, earnerId: string, credentialId?: string): Promise<ReviewItemRow[]> {
    const where = [eq(reviewItems.tenantId, tenantId), eq(reviewItems.earnerId, earnerId)];
    if (credentialId) where.push(eq(reviewItems.credentialId, credentialId));
    return this.orm.select().from(reviewItems).where(and(...where)).orderBy(desc(reviewItems.submittedAt), desc(reviewItems.attempt));
  }

  async updateItem(tenantId: string, id: string, set: Partial<Omit<ReviewItemRow, 'id' | 'tenantId'>>): Promise<void> {
    await this.orm.update(reviewItems).set({ ...set, updatedAt: sql`now()` }).where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.id, id)));
  }

  /**
   * Claims an item for a reviewer if nobody has: one UPDATE with the condition in its WHERE, so of two
   * reviewers claiming at once exactly one row is updated and the other gets nothing back.
   */
  async claim(tenantId: string, id: string, reviewerId: string): Promise<ReviewItemRow | undefined> {
    const [row] = await this.orm
      .update(reviewItems)
      .set({ status: 'in_review', claimedBy: reviewerId, claimedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.id, id), eq(reviewItems.status, 'pending'), isNull(reviewItems.claimedBy)))
      .returning();
    return row;
  }

  async release(tenantId: string, id: string, byReviewer: string | null): Promise<ReviewItemRow | undefined> {
    const where = [eq(reviewItems.tenantId, tenantId), eq(reviewItems.id, id), eq(reviewItems.status, 'in_review')];
    if (byReviewer) where.push(eq(reviewItems.claimedBy, byReviewer));
    const [row] = await this.orm.update(reviewItems).set({ status: 'pending', claimedBy: null, claimedAt: null, updatedAt: sql`now()` }).where(and(...where)).returning();
    return row;
  }

  /** Open claims per reviewer: the load automatic assignment balances. */
  async loads(tenantId: string): Promise<Map<string, number>> {
    const rows = await this.orm
      .select({ userId: reviewItems.claimedBy, n: sql<number>`count(*)::int` })
      .from(reviewItems)
      .where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.status, 'in_review')))
      .groupBy(reviewItems.claimedBy);
    return new Map(rows.filter((r) => r.userId).map((r) => [r.userId!, Number(r.n)]));
  }

  // ---- the queue ----------------------------------------------------------------------------------------

  /** Conditions every listed item meets for this viewer: in scope, not their own, no conflict of interest. */
  private visible(scope: ReviewScope, opts: { eligibleOnly: boolean }): SQL {
    const parts: SQL[] = [sql`i.earner_id <> ${scope.userId}`];
    if (!scope.all) parts.push(scope.courseIds.length ? sql`i.course_id IN (${sql.join(scope.courseIds.map((c) => sql`${c}::uuid`), sql`, `)})` : sql`false`);
    if (opts.eligibleOnly) {
      // A second or third review is independent: nobody reviews the same item twice.
      parts.push(sql`NOT EXISTS (SELECT 1 FROM reviews r WHERE r.item_id = i.id AND r.reviewer_id = ${scope.userId} AND r.state = 'submitted')`);
      parts.push(sql`NOT (coalesce(s.exclude_same_section, false) AND ${sameGroupSql(scope.userId)})`);
    }
    return sql.join(parts, sql` AND `);
  }

  private filters(tenantId: string, f: Omit<QueueFilter, 'limit' | 'offset' | 'status'>): SQL {
    const parts: SQL[] = [sql`i.tenant_id = ${tenantId}`];
    if (f.credentialId) parts.push(sql`i.credential_id = ${f.credentialId}`);
    if (f.courseId) parts.push(sql`i.course_id = ${f.courseId}`);
    if (f.olderThanDays !== undefined) parts.push(sql`i.submitted_at <= now() - make_interval(days => ${f.olderThanDays})`);
    return sql.join(parts, sql` AND `);
  }

  private statusSql(status: QueueStatus, userId: string): SQL {
    switch (status) {
      case 'open':
        return sql`(i.status = 'pending' OR (i.status = 'in_review' AND i.claimed_by = ${userId}))`;
      case 'pending':
        return sql`i.status = 'pending'`;
      case 'in_review':
        return sql`i.status = 'in_review'`;
      case 'mine':
        return sql`i.status = 'in_review' AND i.claimed_by = ${userId}`;
      case 'decided':
        return sql`i.status IN ('awarded', 'not_yet')`;
      case 'all':
        return sql`true`;
    }
  }

  /** The status conditions of a tab, one per index range (an OR of statuses would make PostgreSQL sort the queue). */
  private statusParts(status: QueueStatus, userId: string): SQL[] {
    switch (status) {
      case 'open':
        return [sql`i.status = 'pending'`, sql`i.status = 'in_review' AND i.claimed_by = ${userId}`];
      case 'decided':
        return [sql`i.status = 'awarded'`, sql`i.status = 'not_yet'`];
      default:
        return [this.statusSql(status, userId)];
    }
  }

  /**
   * One page of a tab, oldest first (decided: newest first). Each status range is read in index order up to the
   * page's end and the ranges are merged, so the first page costs about as much with 10,000 waiting as with ten.
   */
  async queue(tenantId: string, scope: ReviewScope, f: QueueFilter): Promise<QueueRow[]> {
    const eligibleOnly = f.status === 'open' || f.status === 'pending';
    const dir = f.status === 'decided' ? sql`DESC` : sql`ASC`;
    const where = sql`${this.filters(tenantId, f)} AND ${this.visible(scope, { eligibleOnly })}`;
    const ranges = this.statusParts(f.status, scope.userId).map(
      (st) => sql`(SELECT i.id, i.submitted_at FROM review_items i LEFT JOIN review_settings s ON s.credential_id = i.credential_id
                    WHERE ${where} AND ${st} ORDER BY i.submitted_at ${dir}, i.id LIMIT ${f.offset + f.limit})`,
    );
    const res = await this.orm.execute(sql`
      WITH picked AS (${sql.join(ranges, sql` UNION ALL `)})
      SELECT i.id, i.status, i.round, i.calibration, i.attempt, i.submitted_at AS "submittedAt", i.claimed_by AS "claimedBy", cu.name AS "claimedByName",
             i.credential_id AS "credentialId", v.name AS "credentialName", i.course_id AS "courseId", c.title AS "courseTitle",
             i.earner_id AS "earnerId", e.name AS "earnerName", coalesce(s.blind, false) AS blind, i.previous_item_id AS "previousItemId"
        FROM picked p
        JOIN review_items i ON i.id = p.id
        JOIN micro_credential_versions v ON v.id = i.version_id
        JOIN courses c ON c.id = i.course_id
        JOIN users e ON e.id = i.earner_id
        LEFT JOIN users cu ON cu.id = i.claimed_by
        LEFT JOIN review_settings s ON s.credential_id = i.credential_id
       ORDER BY p.submitted_at ${dir}, p.id
       LIMIT ${f.limit} OFFSET ${f.offset}`);
    return rowsOf<QueueRow>(res).map((r) => ({ ...r, submittedAt: new Date(r.submittedAt), round: Number(r.round), attempt: Number(r.attempt) }));
  }

  /** How many items each tab holds, under the same filters. */
  async counts(tenantId: string, scope: ReviewScope, f: Omit<QueueFilter, 'limit' | 'offset' | 'status'>): Promise<Record<'pending' | 'in_review' | 'mine' | 'decided', number>> {
    const res = await this.orm.execute(sql`
      SELECT count(*) FILTER (WHERE i.status = 'pending' AND ${this.visible(scope, { eligibleOnly: true })})::int AS pending,
             count(*) FILTER (WHERE i.status = 'in_review')::int AS in_review,
             count(*) FILTER (WHERE i.status = 'in_review' AND i.claimed_by = ${scope.userId})::int AS mine,
             count(*) FILTER (WHERE i.status IN ('awarded', 'not_yet'))::int AS decided
        FROM review_items i
        LEFT JOIN review_settings s ON s.credential_id = i.credential_id
       WHERE ${this.filters(tenantId, f)} AND ${this.visible(scope, { eligibleOnly: false })}`);
    const r = rowsOf<Record<string, number>>(res)[0] ?? {};
    return { pending: Number(r.pending ?? 0), in_review: Number(r.in_review ?? 0), mine: Number(r.mine ?? 0), decided: Number(r.decided ?? 0) };
  }

  /**
   * The items before and after this one in the viewer's open queue (oldest first), in one round trip. Each side
   * is the nearer of two index range scans (waiting items; items the viewer claimed), so it stays fast with
   * thousands waiting: an OR over the two statuses would scan the queue.
   */
  async neighbours(tenantId: string, scope: ReviewScope, item: ReviewItemRow): Promise<{ previous: string | null; next: string | null }> {
    const me = sql`(${item.submittedAt.toISOString()}::timestamptz, ${item.id}::uuid)`;
    const visible = this.visible(scope, { eligibleOnly: true });
    const side = (dir: 'prev' | 'next') => {
      const cmp = dir === 'next' ? sql`(i.submitted_at, i.id) > ${me}` : sql`(i.submitted_at, i.id) < ${me}`;
      const order = dir === 'next' ? sql`i.submitted_at ASC, i.id ASC` : sql`i.submitted_at DESC, i.id DESC`;
      const outer = dir === 'next' ? sql`x.submitted_at ASC, x.id ASC` : sql`x.submitted_at DESC, x.id DESC`;
      const one = (status: SQL) => sql`(SELECT i.id, i.submitted_at FROM review_items i LEFT JOIN review_settings s ON s.credential_id = i.credential_id
                                          WHERE i.tenant_id = ${tenantId} AND ${status} AND ${cmp} AND ${visible} ORDER BY ${order} LIMIT 1)`;
      return sql`(SELECT x.id FROM (${one(sql`i.status = 'pending'`)} UNION ALL ${one(sql`i.status = 'in_review' AND i.claimed_by = ${scope.userId}`)}) x ORDER BY ${outer} LIMIT 1)`;
    };
    const res = await this.orm.execute(sql`SELECT ${side('prev')} AS previous, ${side('next')} AS next`);
    const row = rowsOf<{ previous: string | null; next: string | null }>(res)[0];
    return { previous: row?.previous ?? null, next: row?.next ?? null };
  }

  /** Whether the reviewer and the earner share a Canvas section of the item's course, or a school. */
  async sameGroup(tenantId: string, reviewerId: string, item: ReviewItemRow): Promise<boolean> {
    const res = await this.orm.execute(sql`SELECT ${sameGroupSql(reviewerId)} AS hit FROM review_items i WHERE i.tenant_id = ${tenantId} AND i.id = ${item.id}`);
    return rowsOf<{ hit: boolean }>(res)[0]?.hit === true;
  }

  // ---- reviews ------------------------------------------------------------------------------------------

  async findReview(tenantId: string, itemId: string, reviewerId: string): Promise<ReviewRow | undefined> {
    const [row] = await this.orm.select().from(reviews).where(and(eq(reviews.tenantId, tenantId), eq(reviews.itemId, itemId), eq(reviews.reviewerId, reviewerId))).limit(1);
    return row;
  }

  async reviewById(tenantId: string, id: string): Promise<ReviewRow | undefined> {
    const [row] = await this.orm.select().from(reviews).where(and(eq(reviews.tenantId, tenantId), eq(reviews.id, id))).limit(1);
    return row;
  }

  async submittedReviews(tenantId: string, itemId: string): Promise<ReviewRow[]> {
    return this.orm.select().from(reviews).where(and(eq(reviews.tenantId, tenantId), eq(reviews.itemId, itemId), eq(reviews.state, 'submitted'))).orderBy(asc(reviews.round));
  }

  async upsertReview(tenantId: string, v: Omit<typeof reviews.$inferInsert, 'tenantId' | 'id'> & { itemId: string; reviewerId: string }): Promise<ReviewRow> {
    // On conflict everything but the key changes (a draft saved again, or submitted).
    const set = Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'itemId' && k !== 'reviewerId'));
    const [row] = await this.orm
      .insert(reviews)
      .values({ tenantId, ...v })
      .onConflictDoUpdate({ target: [reviews.itemId, reviews.reviewerId], set: { ...set, updatedAt: sql`now()` } })
      .returning();
    return row!;
  }

  /** Every pair of submitted reviews of the same item (rounds 1–3), with the item's credential. */
  async reviewPairs(tenantId: string, credentialId?: string): Promise<{ itemId: string; credentialId: string; versionId: string; a: ReviewRow; b: ReviewRow }[]> {
    const where = [eq(reviews.tenantId, tenantId), eq(reviews.state, 'submitted')];
    if (credentialId) where.push(eq(reviewItems.credentialId, credentialId));
    const rows = await this.orm.select({ r: reviews, credentialId: reviewItems.credentialId, versionId: reviewItems.versionId }).from(reviews).innerJoin(reviewItems, eq(reviewItems.id, reviews.itemId)).where(and(...where)).orderBy(asc(reviews.itemId), asc(reviews.round));
    const byItem = new Map<string, typeof rows>();
    for (const r of rows) byItem.set(r.r.itemId, [...(byItem.get(r.r.itemId) ?? []), r]);
    const out: { itemId: string; credentialId: string; versionId: string; a: ReviewRow; b: ReviewRow }[] = [];
    for (const [itemId, list] of byItem) {
      for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) out.push({ itemId, credentialId: list[i]!.credentialId, versionId: list[i]!.versionId, a: list[i]!.r, b: list[j]!.r });
    }
    return out;
  }

  // ---- settings -----------------------------------------------------------------------------------------

  async settings(tenantId: string, credentialId: string): Promise<typeof DEFAULT_SETTINGS & { credentialId: string }> {
    const [row] = await this.orm.select().from(reviewSettings).where(and(eq(reviewSettings.tenantId, tenantId), eq(reviewSettings.credentialId, credentialId))).limit(1);
    return row ? { ...row } : { ...DEFAULT_SETTINGS, credentialId };
  }

  async saveSettings(tenantId: string, credentialId: string, s: typeof DEFAULT_SETTINGS, updatedBy: string): Promise<void> {
    await this.orm
      .insert(reviewSettings)
      .values({ tenantId, credentialId, ...s, updatedBy })
      .onConflictDoUpdate({ target: reviewSettings.credentialId, set: { ...s, updatedBy, updatedAt: sql`now()` } });
  }

  // ---- affiliations -------------------------------------------------------------------------------------

  async setAffiliation(tenantId: string, courseId: string, userId: string, a: { sectionIds: string[]; school?: string | null }): Promise<void> {
    const set = { sectionIds: a.sectionIds, ...(a.school !== undefined ? { school: a.school } : {}), updatedAt: sql`now()` };
    await this.orm.insert(reviewAffiliations).values({ tenantId, courseId, userId, sectionIds: a.sectionIds, school: a.school ?? null }).onConflictDoUpdate({ target: [reviewAffiliations.courseId, reviewAffiliations.userId], set });
  }

  async usersByCanvasIds(tenantId: string, canvasIds: string[]): Promise<Map<string, string>> {
    if (!canvasIds.length) return new Map();
    const rows = await this.orm.select({ id: users.id, canvasUserId: users.canvasUserId }).from(users).where(and(eq(users.tenantId, tenantId), inArray(users.canvasUserId, canvasIds)));
    return new Map(rows.map((r) => [r.canvasUserId!, r.id]));
  }

  /** People who may be assigned items of a course: reviewer grants (course or district) and Canvas TAs of it. */
  async reviewersOf(tenantId: string, courseId: string): Promise<{ id: string; name: string | null }[]> {
    const res = await this.orm.execute(sql`
      SELECT DISTINCT u.id, u.name FROM users u
       WHERE u.tenant_id = ${tenantId} AND (
         EXISTS (SELECT 1 FROM role_grants g WHERE g.tenant_id = u.tenant_id AND g.user_id = u.id AND g.role = 'reviewer' AND (g.course_id IS NULL OR g.course_id = ${courseId}))
         OR EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.course_id = ${courseId}
                    AND EXISTS (SELECT 1 FROM unnest(m.lti_roles) AS r WHERE r LIKE '%TeachingAssistant')))
       ORDER BY u.id`);
    return rowsOf<{ id: string; name: string | null }>(res);
  }

  // ---- exemplars ----------------------------------------------------------------------------------------

  async insertExemplar(tenantId: string, v: Omit<typeof reviewExemplars.$inferInsert, 'tenantId' | 'id'>): Promise<ReviewExemplarRow> {
    const [row] = await this.orm.insert(reviewExemplars).values({ tenantId, ...v }).returning();
    return row!;
  }

  async exemplars(tenantId: string, credentialId?: string): Promise<ReviewExemplarRow[]> {
    const where = [eq(reviewExemplars.tenantId, tenantId)];
    if (credentialId) where.push(eq(reviewExemplars.credentialId, credentialId));
    return this.orm.select().from(reviewExemplars).where(and(...where)).orderBy(asc(reviewExemplars.createdAt));
  }

  async findExemplar(tenantId: string, id: string): Promise<ReviewExemplarRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.orm.select().from(reviewExemplars).where(and(eq(reviewExemplars.tenantId, tenantId), eq(reviewExemplars.id, id))).limit(1);
    return row;
  }

  async isExemplarItem(tenantId: string, itemId: string): Promise<boolean> {
    const rows = await this.orm.select({ id: reviewExemplars.id }).from(reviewExemplars).where(and(eq(reviewExemplars.tenantId, tenantId), eq(reviewExemplars.itemId, itemId))).limit(1);
    return rows.length > 0;
  }

  async addExemplarAttempt(tenantId: string, v: { exemplarId: string; reviewerId: string; scores: Record<string, string>; agreement: number; passed: boolean }): Promise<void> {
    await this.orm.insert(exemplarAttempts).values({ tenantId, ...v });
  }

  /** The reviewer's latest attempt at each exemplar. */
  async latestAttempts(tenantId: string, reviewerId: string): Promise<Map<string, { agreement: number; passed: boolean; scores: Record<string, string> }>> {
    const rows = await this.orm.select().from(exemplarAttempts).where(and(eq(exemplarAttempts.tenantId, tenantId), eq(exemplarAttempts.reviewerId, reviewerId))).orderBy(asc(exemplarAttempts.createdAt));
    return new Map(rows.map((r) => [r.exemplarId, { agreement: r.agreement, passed: r.passed, scores: r.scores }]));
  }

  async allAttempts(tenantId: string): Promise<(typeof exemplarAttempts.$inferSelect)[]> {
    return this.orm.select().from(exemplarAttempts).where(eq(exemplarAttempts.tenantId, tenantId)).orderBy(asc(exemplarAttempts.createdAt));
  }

  // ---- audit --------------------------------------------------------------------------------------------

  async audit(tenantId: string, e: { itemId: string | null; actorId: string | null; action: AuditAction; detail?: Record<string, unknown> }): Promise<void> {
    await this.orm.insert(reviewAudit).values({ tenantId, itemId: e.itemId, actorId: e.actorId, action: e.action, detail: e.detail ?? {} });
  }

  async auditOf(tenantId: string, itemId: string): Promise<{ id: number; action: AuditAction; detail: Record<string, unknown>; at: Date; actorId: string | null; actorName: string | null }[]> {
    return this.orm
      .select({ id: reviewAudit.id, action: reviewAudit.action, detail: reviewAudit.detail, at: reviewAudit.at, actorId: reviewAudit.actorId, actorName: users.name })
      .from(reviewAudit)
      .leftJoin(users, eq(users.id, reviewAudit.actorId))
      .where(and(eq(reviewAudit.tenantId, tenantId), eq(reviewAudit.itemId, itemId)))
      .orderBy(asc(reviewAudit.id));
  }

  async hasAudit(tenantId: string, itemId: string, action: AuditAction): Promise<boolean> {
    const rows = await this.orm.select({ id: reviewAudit.id }).from(reviewAudit).where(and(eq(reviewAudit.tenantId, tenantId), eq(reviewAudit.itemId, itemId), eq(reviewAudit.action, action))).limit(1);
    return rows.length > 0;
  }

  // ---- what the pages show around an item ---------------------------------------------------------------

  async version(tenantId: string, versionId: string) {
    const [row] = await this.orm.select().from(microCredentialVersions).where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.id, versionId))).limit(1);
    return row;
  }

  async user(tenantId: string, userId: string) {
    const [row] = await this.orm.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId))).limit(1);
    return row;
  }

  async course(tenantId: string, courseId: string) {
    const [row] = await this.orm.select().from(courses).where(and(eq(courses.tenantId, tenantId), eq(courses.id, courseId))).limit(1);
    return row;
  }

  attachment(tenantId: string, courseId: string, credentialId: string) {
    return new CatalogRepository(this.orm).findAttachment(tenantId, courseId, credentialId);
  }
}

/** The reviewer shares a Canvas section of the item's course with the earner, or both have the same school. */
function sameGroupSql(reviewerId: string): SQL {
  return sql`(EXISTS (SELECT 1 FROM review_affiliations ra JOIN review_affiliations ea ON ea.course_id = ra.course_id
                      WHERE ra.course_id = i.course_id AND ra.user_id = ${reviewerId} AND ea.user_id = i.earner_id AND ra.section_ids && ea.section_ids)
           OR EXISTS (SELECT 1 FROM review_affiliations ra JOIN review_affiliations ea ON ea.school = ra.school
                      WHERE ra.tenant_id = i.tenant_id AND ea.tenant_id = i.tenant_id AND ra.user_id = ${reviewerId} AND ea.user_id = i.earner_id AND ra.school IS NOT NULL))`;
}

/** pg answers `{rows}`, PGlite answers `{rows}` too; drizzle's execute types differ per driver. */
function rowsOf<T>(res: unknown): T[] {
  const r = res as { rows?: T[] } | T[];
  return Array.isArray(r) ? r : (r.rows ?? []);
}

export { isUuid };
