import crypto from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { UNNAMED, type Orm } from '../db/database';
import { sessions } from './schema';
import { tenants, users, courses } from '../tenants/schema';
import type { AppRole } from './roles';

/** What a launch said that later pages need. Stored with the session; features read this, never raw claims. */
export interface LaunchInfo {
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  placement?: string;
  resourceLink?: { id: string; title?: string };
  returnUrl?: string;
  locale?: string;
  canvas: { userId?: string; courseId?: string; moduleId?: string; moduleItemId?: string; assignmentId?: string; apiBaseUrl?: string };
  ags?: { lineitems?: string; lineitem?: string; scope: string[] };
  nrps?: { contextMembershipsUrl: string };
  deepLinking?: { returnUrl: string; acceptTypes: string[]; acceptMultiple: boolean; acceptPresentationTargets: string[]; data?: string };
  roles: AppRole[];
}

export interface SessionContext {
  token: string;
  /** URL prefix that carries the session: every link and form action starts with it. */
  base: string;
  tenant: { id: string; name: string; canvasBaseUrl: string | null; issuer: string; clientId: string; deploymentId: string };
  user: { id: string; name: string | null; email: string | null; canvasUserId: string | null; ltiSub: string };
  course: { id: string; title: string; canvasCourseId: string | null } | null;
  roles: AppRole[];
  ltiRoles: string[];
  launch: LaunchInfo;
  csrfToken: string;
  expiresAt: Date;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function csrfTokenFor(secret: string): string {
  return crypto.createHmac('sha256', secret).update('csrf').digest('base64url');
}

export class SessionRepository {
  /** Every session request runs this query: built once (see UNNAMED). */
  private readonly loadQuery;

  constructor(private readonly orm: Orm, private readonly ttlMinutes: number) {
    this.loadQuery = orm
      .select({ s: sessions, t: tenants, u: users, c: courses })
      .from(sessions)
      .innerJoin(tenants, eq(tenants.id, sessions.tenantId))
      .innerJoin(users, and(eq(users.id, sessions.userId), eq(users.tenantId, sessions.tenantId)))
      .leftJoin(courses, and(eq(courses.id, sessions.courseId), eq(courses.tenantId, sessions.tenantId)))
      .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), gt(sessions.expiresAt, sql`now()`)))
      .limit(1)
      .prepare(UNNAMED);
  }

  /** Creates a session and returns its token; only the token's hash is stored. */
  async create(s: { tenantId: string; userId: string; courseId: string | null; ltiRoles: string[]; launch: LaunchInfo }): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.orm.insert(sessions).values({
      tokenHash: hashToken(token),
      tenantId: s.tenantId,
      userId: s.userId,
      courseId: s.courseId,
      ltiRoles: s.ltiRoles,
      launch: s.launch,
      csrfSecret: crypto.randomBytes(32).toString('base64url'),
      expiresAt: sql`now() + make_interval(mins => ${this.ttlMinutes})`,
    });
    return token;
  }

  async load(token: string): Promise<SessionContext | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const [row] = await this.loadQuery.execute({ tokenHash: hashToken(token) });
    if (!row) return undefined;
    const launch = row.s.launch as LaunchInfo;
    return {
      token,
      base: `/s/${token}`,
      tenant: { id: row.t.id, name: row.t.name, canvasBaseUrl: row.t.canvasBaseUrl, issuer: row.t.issuer, clientId: row.t.clientId, deploymentId: row.t.deploymentId },
      user: { id: row.u.id, name: row.u.name, email: row.u.email, canvasUserId: row.u.canvasUserId, ltiSub: row.u.ltiSub },
      course: row.c ? { id: row.c.id, title: row.c.title, canvasCourseId: row.c.canvasCourseId } : null,
      roles: launch.roles,
      ltiRoles: row.s.ltiRoles,
      launch,
      csrfToken: csrfTokenFor(row.s.csrfSecret),
      expiresAt: row.s.expiresAt,
    };
  }

  async sweep(): Promise<number> {
    const rows = await this.orm.delete(sessions).where(lt(sessions.expiresAt, sql`now()`)).returning({ t: sessions.tokenHash });
    return rows.length;
  }
}
