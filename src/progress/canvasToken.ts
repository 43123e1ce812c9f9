import type { CanvasAccess } from '../canvas/access';
import type { CanvasClient } from '../canvas/client';
import { CanvasAuthorizationRequired } from '../canvas/errors';
import type { AttachedCredential, CourseInfo } from './repository';

/**
 * The Canvas token a background read of a course uses (sync, fast refresh, snapshots): nobody is at the
 * keyboard, so it cannot be the session's. In order:
 * 1. the tenant's service token, set by an admin (acts for the district; reads every course);
 * 2. else the stored, sealed OAuth token of a designer who attached a micro-credential to this course (most
 *    recent attachment first): they chose these modules and this assignment, and can read them in Canvas.
 * Neither → `CanvasAuthorizationRequired`, shown to the designer as the sync's error.
 */
export async function backgroundClient(canvas: CanvasAccess, course: CourseInfo, attached: AttachedCredential[]): Promise<CanvasClient> {
  const tenant = { id: course.tenantId, canvasBaseUrl: course.canvasBaseUrl };
  try {
    return await canvas.forService(tenant);
  } catch (err) {
    if (!(err instanceof CanvasAuthorizationRequired)) throw err;
  }
  const designers = [...attached].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime()).map((a) => a.attachedBy).filter((x): x is string => !!x);
  for (const userId of new Set(designers)) {
    try {
      return await canvas.forUser(tenant, userId, { serviceFallback: false });
    } catch (err) {
      if (!(err instanceof CanvasAuthorizationRequired)) throw err;
    }
  }
  throw new CanvasAuthorizationRequired(
    'not_configured',
    'microcred has no Canvas access to read this course in the background. Ask your district administrator to set a Canvas service token, or connect microcred to Canvas as the designer who attached the micro-credentials.',
  );
}
