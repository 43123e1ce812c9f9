import { and, eq } from 'drizzle-orm';
import { CatalogRepository } from '../../src/catalog/repository';
import { courses, users } from '../../src/tenants/schema';
import type { Sandbox } from '../../src/sandbox';
import type { Stack } from '../support/stack';
import { techLeaderI } from '../catalog/support';

export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, every = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The tenant and the microcred course of a sandbox course, after someone launched in it. */
export async function courseOf(stack: Stack, canvasCourseId: string): Promise<{ tenantId: string; courseId: string }> {
  const tenant = await stack.tool.app.repos.tenants.findByLtiKey(stack.sandbox.issuer, stack.clientId, stack.deploymentId);
  const [c] = await stack.tool.db.orm.select().from(courses).where(and(eq(courses.tenantId, tenant!.id), eq(courses.canvasCourseId, canvasCourseId)));
  return { tenantId: tenant!.id, courseId: c!.id };
}

export async function userByCanvasId(stack: Stack, tenantId: string, canvasUserId: string) {
  const [u] = await stack.tool.db.orm.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.canvasUserId, canvasUserId)));
  return u;
}

/** A published micro-credential attached to Canvas modules and an evidence assignment (through the catalog's repository). */
export async function attachCredential(stack: Stack, o: { tenantId: string; courseId: string; designerId: string; name: string; moduleIds: string[]; assignmentId: string; canvasCourseId: string }): Promise<string> {
  const repo = new CatalogRepository(stack.tool.db.orm);
  const key = await repo.uniqueKey(o.tenantId, o.name.toLowerCase().replace(/\W+/g, '-'), 'credentials');
  const c = await repo.insertCredential(o.tenantId, { courseId: o.courseId, key, createdBy: o.designerId });
  const v = await repo.insertVersion(o.tenantId, c.id, 1, techLeaderI({ name: o.name }), o.designerId);
  await repo.markVersionPublished(o.tenantId, v.id);
  await repo.updateCredential(o.tenantId, c.id, { state: 'published', currentVersionId: v.id, publishedAt: new Date() });
  await repo.upsertAttachment(o.tenantId, { courseId: o.courseId, credentialId: c.id, canvasCourseId: o.canvasCourseId, moduleIds: o.moduleIds, assignmentId: o.assignmentId, rubricImported: false, attachedBy: o.designerId });
  return c.id;
}

/** What Canvas (the sandbox) says an educator has done, to compare with what microcred stored. */
export function truth(sb: Sandbox, userId: number, moduleIds: string[], assignmentId: string): { done: string[]; submitted: boolean; attempt: number | null } {
  const done = moduleIds.filter((id) => {
    const m = sb.data.module(id);
    return !!m && sb.data.moduleState(m, userId).state === 'completed';
  });
  const s = sb.data.submission(Number(assignmentId), userId);
  return { done, submitted: !!s?.submittedAt && !s.excused, attempt: s?.submittedAt ? s.attempt : null };
}

/** Completes every required item of these modules for a student, as they would in Canvas. */
export function completeModules(sb: Sandbox, courseId: number, userId: number, moduleIds: string[]): void {
  for (const id of moduleIds) {
    for (const item of sb.data.itemsOf(Number(id))) {
      if (!item.completionRequirement) continue;
      if (item.type === 'Assignment' && item.contentId !== null) {
        if (!sb.data.submission(item.contentId, userId)?.submittedAt) sb.actions.submit(courseId, item.contentId, userId, { body: `<p>Work for ${item.title}</p>` });
      } else sb.actions.completeItem(courseId, item.id, userId);
    }
  }
}
