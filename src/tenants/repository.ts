import { and, eq, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { tenants, users, courses, memberships, roleGrants, type Tenant, type User, type Course } from './schema';
import type { AppRole } from '../lti/roles';

/** SQL for tenants, users, courses and memberships. Everything below a tenant is looked up by tenant id. */
export class TenantRepository {
  constructor(private readonly orm: Orm) {}

  async findByLtiKey(issuer: string, clientId: string, deploymentId: string): Promise<Tenant | undefined> {
    const [row] = await this.orm
      .select()
      .from(tenants)
      .where(and(eq(tenants.issuer, issuer), eq(tenants.clientId, clientId), eq(tenants.deploymentId, deploymentId)))
      .limit(1);
    return row;
  }

  async findById(id: string): Promise<Tenant | undefined> {
    const [row] = await this.orm.select().from(tenants).where(eq(tenants.id, id)).limit(1);
    return row;
  }

  async list(): Promise<Tenant[]> {
    return this.orm.select().from(tenants).orderBy(tenants.issuer, tenants.clientId, tenants.deploymentId);
  }

  async listForPlatform(issuer: string, clientId: string): Promise<Tenant[]> {
    return this.orm.select().from(tenants).where(and(eq(tenants.issuer, issuer), eq(tenants.clientId, clientId)));
  }

  /** Registers a deployment; registering it again only renames it. */
  async addDeployment(t: { issuer: string; clientId: string; deploymentId: string; platformKid: string; name: string }): Promise<Tenant> {
    const [row] = await this.orm
      .insert(tenants)
      .values(t)
      .onConflictDoUpdate({ target: [tenants.issuer, tenants.clientId, tenants.deploymentId], set: { name: t.name, platformKid: t.platformKid } })
      .returning();
    return row!;
  }

  async removePlatform(issuer: string, clientId: string): Promise<number> {
    const rows = await this.orm.delete(tenants).where(and(eq(tenants.issuer, issuer), eq(tenants.clientId, clientId))).returning({ id: tenants.id });
    return rows.length;
  }

  async setCanvasBaseUrl(tenantId: string, baseUrl: string): Promise<void> {
    await this.orm
      .update(tenants)
      .set({ canvasBaseUrl: baseUrl })
      .where(and(eq(tenants.id, tenantId), sql`${tenants.canvasBaseUrl} IS DISTINCT FROM ${baseUrl}`));
  }

  async upsertUser(tenantId: string, u: { ltiSub: string; canvasUserId?: string | null; name?: string | null; email?: string | null }): Promise<User> {
    const [row] = await this.orm
      .insert(users)
      .values({ tenantId, ltiSub: u.ltiSub, canvasUserId: u.canvasUserId ?? null, name: u.name ?? null, email: u.email ?? null })
      .onConflictDoUpdate({
        target: [users.tenantId, users.ltiSub],
        // Keep what we knew when a later launch (another privacy level, a placement without custom fields) says less.
        set: {
          canvasUserId: sql`coalesce(excluded.canvas_user_id, ${users.canvasUserId})`,
          name: sql`coalesce(excluded.name, ${users.name})`,
          email: sql`coalesce(excluded.email, ${users.email})`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  }

  async upsertCourse(tenantId: string, c: { ltiContextId: string; canvasCourseId?: string | null; title: string; label?: string | null }): Promise<Course> {
    const [row] = await this.orm
      .insert(courses)
      .values({ tenantId, ltiContextId: c.ltiContextId, canvasCourseId: c.canvasCourseId ?? null, title: c.title, label: c.label ?? null })
      .onConflictDoUpdate({
        target: [courses.tenantId, courses.ltiContextId],
        set: {
          canvasCourseId: sql`coalesce(excluded.canvas_course_id, ${courses.canvasCourseId})`,
          title: sql`excluded.title`,
          label: sql`excluded.label`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  }

  async upsertMembership(tenantId: string, courseId: string, userId: string, ltiRoles: string[]): Promise<void> {
    await this.orm
      .insert(memberships)
      .values({ tenantId, courseId, userId, ltiRoles })
      .onConflictDoUpdate({ target: [memberships.courseId, memberships.userId], set: { ltiRoles, updatedAt: sql`now()` } });
  }

  /** microcred's own grants for this user that apply in this course (course-wide or district-wide). */
  async grantsFor(tenantId: string, userId: string, courseId: string | null): Promise<AppRole[]> {
    const rows = await this.orm
      .select({ role: roleGrants.role, courseId: roleGrants.courseId })
      .from(roleGrants)
      .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId)));
    return rows.filter((r) => r.courseId === null || r.courseId === courseId).map((r) => r.role);
  }

  async grant(tenantId: string, userId: string, role: 'reviewer' | 'recognizer' | 'admin', courseId: string | null, grantedBy: string | null): Promise<void> {
    await this.orm.insert(roleGrants).values({ tenantId, userId, role, courseId, grantedBy });
  }
}
