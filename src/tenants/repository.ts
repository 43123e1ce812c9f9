import { and, eq, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { tenants, users, courses, memberships, roleGrants, type Tenant, type User, type Course } from './schema';
import type { AppRole } from '../lti/roles';

/** What a launch records, in one statement (`recordLaunch`). */
export interface LaunchRecord {
  user: { ltiSub: string; canvasUserId?: string | null; name?: string | null; email?: string | null };
  course: { ltiContextId: string; canvasCourseId?: string | null; title: string; label?: string | null } | null;
  ltiRoles: string[];
  /** The Canvas API origin the launch named; stored on the tenant when it changed. */
  canvasBaseUrl?: string;
}

/** How long a launch trusts a tenant it looked up (the same window as the platform cache in lti/platforms.ts). */
const LAUNCH_TENANT_TTL_MS = 5000;

/** SQL for tenants, users, courses and memberships. Everything below a tenant is looked up by tenant id. */
export class TenantRepository {
  private readonly launchTenants = new Map<string, { at: number; tenant: Tenant }>();

  constructor(private readonly orm: Orm) {}

  /**
   * `findByLtiKey` for launches: a deployment found is remembered for 5 s (launches read the same few rows over
   * and over). Removing a platform here forgets at once; another instance's removal is seen within 5 s.
   */
  async findForLaunch(issuer: string, clientId: string, deploymentId: string): Promise<Tenant | undefined> {
    const key = `${issuer}\u0000${clientId}\u0000${deploymentId}`;
    const hit = this.launchTenants.get(key);
    if (hit && Date.now() - hit.at < LAUNCH_TENANT_TTL_MS) return hit.tenant;
    const tenant = await this.findByLtiKey(issuer, clientId, deploymentId);
    if (tenant) this.launchTenants.set(key, { at: Date.now(), tenant });
    else this.launchTenants.delete(key);
    return tenant;
  }

  /**
   * A launch's writes and reads in one statement: the user, the course and the membership upserted, the tenant's
   * Canvas URL updated when it changed, and microcred's grants for this user that apply in this course.
   */
  async recordLaunch(tenantId: string, l: LaunchRecord): Promise<{ userId: string; courseId: string | null; grants: AppRole[] }> {
    const c = l.course;
    const res = await this.orm.execute(sql`
      WITH t AS (
        UPDATE tenants SET canvas_base_url = ${l.canvasBaseUrl ?? null}
         WHERE id = ${tenantId} AND ${l.canvasBaseUrl ?? null}::text IS NOT NULL AND canvas_base_url IS DISTINCT FROM ${l.canvasBaseUrl ?? null}::text
      ), u AS (
        INSERT INTO users (tenant_id, lti_sub, canvas_user_id, name, email)
        VALUES (${tenantId}, ${l.user.ltiSub}, ${l.user.canvasUserId ?? null}, ${l.user.name ?? null}, ${l.user.email ?? null})
        ON CONFLICT (tenant_id, lti_sub) DO UPDATE SET
          -- Keep what we knew when a later launch (another privacy level, a placement without custom fields) says less.
          canvas_user_id = coalesce(excluded.canvas_user_id, users.canvas_user_id),
          name = coalesce(excluded.name, users.name),
          email = coalesce(excluded.email, users.email),
          updated_at = now()
        RETURNING id
      ), c AS (
        INSERT INTO courses (tenant_id, lti_context_id, canvas_course_id, title, label)
        SELECT ${tenantId}, ${c?.ltiContextId ?? null}, ${c?.canvasCourseId ?? null}, ${c?.title ?? null}, ${c?.label ?? null}
         WHERE ${c?.ltiContextId ?? null}::text IS NOT NULL
        ON CONFLICT (tenant_id, lti_context_id) DO UPDATE SET
          canvas_course_id = coalesce(excluded.canvas_course_id, courses.canvas_course_id),
          title = excluded.title,
          label = excluded.label,
          updated_at = now()
        RETURNING id
      ), m AS (
        INSERT INTO memberships (tenant_id, course_id, user_id, lti_roles)
        SELECT ${tenantId}, c.id, u.id, ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(l.ltiRoles)}::jsonb)) FROM u, c
        ON CONFLICT (course_id, user_id) DO UPDATE SET lti_roles = excluded.lti_roles, updated_at = now()
      )
      SELECT u.id AS "userId", (SELECT id FROM c) AS "courseId",
             to_json(ARRAY(SELECT g.role FROM role_grants g
                    WHERE g.tenant_id = ${tenantId} AND g.user_id = u.id AND (g.course_id IS NULL OR g.course_id = (SELECT id FROM c)))) AS grants
        FROM u`);
    const row = rowsOf<{ userId: string; courseId: string | null; grants: AppRole[] }>(res)[0]!;
    return { userId: row.userId, courseId: row.courseId, grants: row.grants };
  }

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
    this.launchTenants.clear();
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

function rowsOf<T>(res: unknown): T[] {
  const r = res as { rows?: T[] } | T[];
  return Array.isArray(r) ? r : (r.rows ?? []);
}

