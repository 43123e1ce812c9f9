import { and, asc, desc, eq, ilike, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { courses } from '../tenants/schema';
import {
  badgeImages, credentialAttachments, issuerProfiles, microCredentials, microCredentialVersions, stackMembers, stacks,
  type BadgeImageRow, type CredentialAttachmentRow, type IssuerProfileRow, type MicroCredentialRow, type MicroCredentialVersionRow, type StackMemberRow, type StackRow,
} from './schema';
import type { CredentialDefinition, IssuerProfileInput } from './model';

/** Who is looking decides which credentials exist for them (see policies: credential.view). */
export interface Visibility {
  /** Sees everything in the tenant. */
  all: boolean;
  /** Sees drafts of this course (its designers). */
  draftsOfCourseId: string | null;
  /** Sees published and retired ones, not only published (designers browsing the shared catalog). */
  retired: boolean;
}

export interface CredentialListFilter { q?: string; tag?: string; state?: 'draft' | 'published' | 'retired'; courseId?: string }

export type CredentialWithVersion = { credential: MicroCredentialRow; version: MicroCredentialVersionRow; courseTitle: string };

/** SQL for the catalog. Every method takes the tenant id first and filters by it. */
export class CatalogRepository {
  constructor(private readonly orm: Orm) {}

  // ---- micro-credentials ----------------------------------------------------------------------------------

  async insertCredential(tenantId: string, c: { courseId: string; key: string; createdBy: string; copiedFromId?: string | null }): Promise<MicroCredentialRow> {
    const [row] = await this.orm.insert(microCredentials).values({ tenantId, courseId: c.courseId, key: c.key, createdBy: c.createdBy, copiedFromId: c.copiedFromId ?? null }).returning();
    return row!;
  }

  async findCredential(tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<MicroCredentialRow | undefined> {
    if (!isUuid(id)) return undefined;
    const q = this.orm.select().from(microCredentials).where(and(eq(microCredentials.tenantId, tenantId), eq(microCredentials.id, id))).limit(1);
    const [row] = opts.forUpdate ? await q.for('update') : await q;
    return row;
  }

  async updateCredential(tenantId: string, id: string, set: Partial<Pick<MicroCredentialRow, 'state' | 'currentVersionId' | 'draftVersionId' | 'publishedAt' | 'retiredAt'>>): Promise<void> {
    await this.orm.update(microCredentials).set({ ...set, updatedAt: sql`now()` }).where(and(eq(microCredentials.tenantId, tenantId), eq(microCredentials.id, id)));
  }

  async keyTaken(tenantId: string, key: string, table: 'credentials' | 'stacks'): Promise<boolean> {
    const t = table === 'credentials' ? microCredentials : stacks;
    const rows = await this.orm.select({ id: t.id }).from(t).where(and(eq(t.tenantId, tenantId), eq(t.key, key))).limit(1);
    return rows.length > 0;
  }

  /** A key no other credential (or stack) of the tenant uses: the slug, then slug-2, slug-3… */
  async uniqueKey(tenantId: string, base: string, table: 'credentials' | 'stacks'): Promise<string> {
    for (let n = 1; ; n++) {
      const key = n === 1 ? base : `${base}-${n}`;
      if (!(await this.keyTaken(tenantId, key, table))) return key;
    }
  }

  async findByKey(tenantId: string, key: string): Promise<MicroCredentialRow | undefined> {
    const [row] = await this.orm.select().from(microCredentials).where(and(eq(microCredentials.tenantId, tenantId), eq(microCredentials.key, key))).limit(1);
    return row;
  }

  async listCredentials(tenantId: string, vis: Visibility, f: CredentialListFilter): Promise<CredentialWithVersion[]> {
    const where: (SQL | undefined)[] = [eq(microCredentials.tenantId, tenantId)];
    if (!vis.all) {
      const seen: SQL[] = [eq(microCredentials.state, 'published')];
      if (vis.retired) seen.push(eq(microCredentials.state, 'retired'));
      if (vis.draftsOfCourseId) seen.push(eq(microCredentials.courseId, vis.draftsOfCourseId));
      where.push(or(...seen));
    }
    if (f.state) where.push(eq(microCredentials.state, f.state));
    if (f.courseId) where.push(eq(microCredentials.courseId, f.courseId));
    if (f.tag) where.push(sql`lower(${f.tag}) = ANY (SELECT lower(t) FROM unnest(${microCredentialVersions.tags}) AS t)`);
    if (f.q) {
      const like = `%${f.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push(
        or(
          ilike(microCredentialVersions.name, like),
          ilike(microCredentialVersions.competency, like),
          ilike(microCredentialVersions.description, like),
          sql`EXISTS (SELECT 1 FROM unnest(${microCredentialVersions.tags}) AS t WHERE t ILIKE ${like})`,
        ),
      );
    }
    const rows = await this.orm
      .select({ credential: microCredentials, version: microCredentialVersions, courseTitle: courses.title })
      .from(microCredentials)
      .innerJoin(microCredentialVersions, and(eq(microCredentialVersions.id, microCredentials.currentVersionId), eq(microCredentialVersions.tenantId, microCredentials.tenantId)))
      .innerJoin(courses, eq(courses.id, microCredentials.courseId))
      .where(and(...where))
      .orderBy(asc(microCredentialVersions.name), asc(microCredentials.key));
    return rows;
  }

  async courseTitle(tenantId: string, courseId: string): Promise<string> {
    const [row] = await this.orm.select({ title: courses.title }).from(courses).where(and(eq(courses.tenantId, tenantId), eq(courses.id, courseId))).limit(1);
    return row?.title ?? '';
  }

  // ---- versions -------------------------------------------------------------------------------------------

  async insertVersion(tenantId: string, credentialId: string, version: number, def: CredentialDefinition, createdBy: string): Promise<MicroCredentialVersionRow> {
    const [row] = await this.orm.insert(microCredentialVersions).values({ tenantId, credentialId, version, createdBy, ...def }).returning();
    return row!;
  }

  /** Only an unpublished version can change; the WHERE and the database trigger both say so. */
  async updateDraftVersion(tenantId: string, versionId: string, def: CredentialDefinition): Promise<void> {
    const rows = await this.orm
      .update(microCredentialVersions)
      .set({ ...def })
      .where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.id, versionId), isNull(microCredentialVersions.publishedAt)))
      .returning({ id: microCredentialVersions.id });
    if (rows.length !== 1) throw new Error(`version ${versionId} is published or missing; it cannot be edited`);
  }

  async markVersionPublished(tenantId: string, versionId: string): Promise<void> {
    await this.orm.update(microCredentialVersions).set({ publishedAt: sql`now()` }).where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.id, versionId), isNull(microCredentialVersions.publishedAt)));
  }

  async findVersion(tenantId: string, versionId: string): Promise<MicroCredentialVersionRow | undefined> {
    const [row] = await this.orm.select().from(microCredentialVersions).where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.id, versionId))).limit(1);
    return row;
  }

  async listVersions(tenantId: string, credentialId: string): Promise<MicroCredentialVersionRow[]> {
    return this.orm.select().from(microCredentialVersions).where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.credentialId, credentialId))).orderBy(asc(microCredentialVersions.version));
  }

  async latestVersionNumber(tenantId: string, credentialId: string): Promise<number> {
    const [row] = await this.orm
      .select({ v: microCredentialVersions.version })
      .from(microCredentialVersions)
      .where(and(eq(microCredentialVersions.tenantId, tenantId), eq(microCredentialVersions.credentialId, credentialId)))
      .orderBy(desc(microCredentialVersions.version))
      .limit(1);
    return row?.v ?? 0;
  }

  // ---- attachments ----------------------------------------------------------------------------------------

  async upsertAttachment(tenantId: string, a: { courseId: string; credentialId: string; canvasCourseId: string; moduleIds: string[]; assignmentId: string; rubricImported: boolean; attachedBy: string }): Promise<CredentialAttachmentRow> {
    const [row] = await this.orm
      .insert(credentialAttachments)
      .values({ tenantId, ...a })
      .onConflictDoUpdate({
        target: [credentialAttachments.courseId, credentialAttachments.credentialId],
        set: { moduleIds: a.moduleIds, assignmentId: a.assignmentId, rubricImported: a.rubricImported, canvasCourseId: a.canvasCourseId, attachedBy: a.attachedBy, updatedAt: sql`now()` },
      })
      .returning();
    return row!;
  }

  async findAttachment(tenantId: string, courseId: string, credentialId: string): Promise<CredentialAttachmentRow | undefined> {
    const [row] = await this.orm
      .select()
      .from(credentialAttachments)
      .where(and(eq(credentialAttachments.tenantId, tenantId), eq(credentialAttachments.courseId, courseId), eq(credentialAttachments.credentialId, credentialId)))
      .limit(1);
    return row;
  }

  // ---- images ---------------------------------------------------------------------------------------------

  /** The same bytes uploaded twice are one image. */
  async insertImage(tenantId: string, img: Pick<BadgeImageRow, 'contentType' | 'bytes' | 'sha256' | 'width' | 'height'> & { uploadedBy: string | null }): Promise<BadgeImageRow> {
    const [row] = await this.orm.insert(badgeImages).values({ tenantId, ...img }).onConflictDoNothing({ target: [badgeImages.tenantId, badgeImages.sha256] }).returning();
    if (row) return row;
    const [existing] = await this.orm.select().from(badgeImages).where(and(eq(badgeImages.tenantId, tenantId), eq(badgeImages.sha256, img.sha256))).limit(1);
    return existing!;
  }

  async findImage(tenantId: string, id: string): Promise<BadgeImageRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.orm.select().from(badgeImages).where(and(eq(badgeImages.tenantId, tenantId), eq(badgeImages.id, id))).limit(1);
    return row;
  }

  // ---- issuer ---------------------------------------------------------------------------------------------

  async findIssuer(tenantId: string): Promise<IssuerProfileRow | undefined> {
    const [row] = await this.orm.select().from(issuerProfiles).where(eq(issuerProfiles.tenantId, tenantId)).limit(1);
    return row;
  }

  async upsertIssuer(tenantId: string, p: IssuerProfileInput, updatedBy: string): Promise<IssuerProfileRow> {
    const values = { name: p.name, url: p.url, email: p.email, description: p.description || null, imageId: p.imageId, updatedBy };
    const [row] = await this.orm
      .insert(issuerProfiles)
      .values({ tenantId, ...values })
      .onConflictDoUpdate({ target: issuerProfiles.tenantId, set: { ...values, updatedAt: sql`now()` } })
      .returning();
    return row!;
  }

  // ---- stacks ---------------------------------------------------------------------------------------------

  async insertStack(tenantId: string, s: Omit<typeof stacks.$inferInsert, 'tenantId' | 'id'>): Promise<StackRow> {
    const [row] = await this.orm.insert(stacks).values({ tenantId, ...s }).returning();
    return row!;
  }

  async updateStack(tenantId: string, id: string, set: Partial<Omit<StackRow, 'id' | 'tenantId'>>): Promise<void> {
    await this.orm.update(stacks).set({ ...set, updatedAt: sql`now()` }).where(and(eq(stacks.tenantId, tenantId), eq(stacks.id, id)));
  }

  async findStack(tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<StackRow | undefined> {
    if (!isUuid(id)) return undefined;
    const q = this.orm.select().from(stacks).where(and(eq(stacks.tenantId, tenantId), eq(stacks.id, id))).limit(1);
    const [row] = opts.forUpdate ? await q.for('update') : await q;
    return row;
  }

  async listStacks(tenantId: string, vis: Visibility): Promise<StackRow[]> {
    const where: (SQL | undefined)[] = [eq(stacks.tenantId, tenantId)];
    if (!vis.all) {
      const seen: SQL[] = [eq(stacks.state, 'published')];
      if (vis.retired) seen.push(eq(stacks.state, 'retired'));
      if (vis.draftsOfCourseId) seen.push(eq(stacks.courseId, vis.draftsOfCourseId));
      where.push(or(...seen));
    }
    return this.orm.select().from(stacks).where(and(...where)).orderBy(asc(stacks.name));
  }

  async replaceMembers(tenantId: string, stackId: string, members: { credentialId: string; prerequisiteIds: string[] }[]): Promise<void> {
    await this.orm.delete(stackMembers).where(and(eq(stackMembers.tenantId, tenantId), eq(stackMembers.stackId, stackId)));
    if (members.length) await this.orm.insert(stackMembers).values(members.map((m, i) => ({ tenantId, stackId, credentialId: m.credentialId, position: i + 1, prerequisiteIds: m.prerequisiteIds })));
  }

  async membersOf(tenantId: string, stackId: string): Promise<StackMemberRow[]> {
    return this.orm.select().from(stackMembers).where(and(eq(stackMembers.tenantId, tenantId), eq(stackMembers.stackId, stackId))).orderBy(asc(stackMembers.position));
  }

  /** The named credentials of this tenant (ids from another tenant simply are not found). */
  async credentialsByIds(tenantId: string, ids: string[]): Promise<CredentialWithVersion[]> {
    const valid = ids.filter(isUuid);
    if (!valid.length) return [];
    return this.orm
      .select({ credential: microCredentials, version: microCredentialVersions, courseTitle: courses.title })
      .from(microCredentials)
      .innerJoin(microCredentialVersions, eq(microCredentialVersions.id, microCredentials.currentVersionId))
      .innerJoin(courses, eq(courses.id, microCredentials.courseId))
      .where(and(eq(microCredentials.tenantId, tenantId), inArray(microCredentials.id, valid)));
  }
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
