import type { Request, Response } from 'express';
import type { JwtPayload } from 'jsonwebtoken';
import type { TenantRepository } from '../tenants/repository';
import { ForbiddenError } from '../web/errors';
import { CLAIM, type VerifiedLaunch } from './launchGuard';
import { appRolesFromLti } from './roles';
import { homePath } from '../homes/paths';
import type { LaunchInfo, SessionRepository } from './sessions';
import type { LtiServiceToken } from './ltijsTypes';
import { logger } from '../log';

/**
 * After the guard and ltijs accepted a launch: remember who and where (tenant, user, course, membership),
 * open a microcred session, and send the browser to its home. Canvas ids come from the custom fields the
 * tool asks Canvas for ($Canvas.user.id, $Canvas.course.id…); a variable Canvas could not fill arrives
 * unexpanded ("$Canvas.user.id") and is ignored.
 */
/** What a launch tells features that follow it (progress: identity map, fast refresh, NRPS import). */
export interface LaunchedInfo {
  tenantId: string;
  userId: string;
  ltiSub: string;
  canvasUserId?: string;
  name: string | null;
  courseId: string | null;
  earner: boolean;
  staff: boolean;
  nrps: boolean;
  /** ltijs's id token object (JSON), for LTI services called later. */
  idtoken?: LtiServiceToken;
}

export function completeLaunch(deps: { tenants: TenantRepository; sessions: SessionRepository; afterLaunch?: (l: LaunchedInfo) => Promise<void> }) {
  return async (req: Request, res: Response): Promise<string> => {
    const verified = res.locals.verifiedLaunch as VerifiedLaunch | undefined;
    if (!verified) throw new Error('launch reached the session step without the guard');
    const { claims, tenantId } = verified;
    const custom = (claims[CLAIM.custom] ?? {}) as Record<string, unknown>;
    const context = claims[CLAIM.context] as { id?: string; title?: string; label?: string } | undefined;
    const ltiRoles = (claims[CLAIM.roles] as unknown[]).filter((r): r is string => typeof r === 'string');

    const apiBaseUrl = safeUrl(str(custom.canvas_api_base_url))?.origin;
    // One statement: user, course, membership, the tenant's Canvas URL, and the grants that apply here.
    const recorded = await deps.tenants.recordLaunch(tenantId, {
      user: { ltiSub: claims.sub!, canvasUserId: canvasId(custom.canvas_user_id), name: str(claims.name) ?? null, email: str(claims.email) ?? null },
      course: context?.id
        ? { ltiContextId: context.id, canvasCourseId: canvasId(custom.canvas_course_id), title: str(context.title) ?? str(context.label) ?? 'Untitled course', label: str(context.label) ?? null }
        : null,
      ltiRoles,
      canvasBaseUrl: apiBaseUrl,
    });
    const { userId, courseId } = recorded;
    const roles = appRolesFromLti(ltiRoles, recorded.grants);
    if (roles.length === 0)
      throw new ForbiddenError('microcred is for educators, course designers, reviewers and administrators; your Canvas role in this course is none of these.');

    const launch = launchInfo(claims, roles, apiBaseUrl);
    const token = await deps.sessions.create({ tenantId, userId, courseId, ltiRoles, launch });
    if (deps.afterLaunch) {
      // Follow-ups must never break a launch: they are retried by the next launch or sync.
      await deps
        .afterLaunch({
          tenantId, userId, ltiSub: claims.sub!, canvasUserId: launch.canvas.userId, name: str(claims.name) ?? null, courseId,
          earner: roles.includes('earner'), staff: roles.includes('designer') || roles.includes('admin'), nrps: !!launch.nrps, idtoken: res.locals.token as LtiServiceToken | undefined,
        })
        .catch((err: unknown) => logger.warn({ err, tenant: tenantId }, 'after-launch step failed'));
    }
    // Straight to the page the person will see: one redirect, not two.
    return `/s/${token}` + (launch.messageType === 'LtiDeepLinkingRequest' ? '/deep-linking' : homePath(roles));
  };
}

function launchInfo(claims: JwtPayload, roles: LaunchInfo['roles'], apiBaseUrl: string | undefined): LaunchInfo {
  const custom = (claims[CLAIM.custom] ?? {}) as Record<string, unknown>;
  const link = claims[CLAIM.resourceLink] as { id: string; title?: string } | undefined;
  const pres = claims[CLAIM.launchPresentation] as { return_url?: string; locale?: string } | undefined;
  const ags = claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'] as { lineitems?: string; lineitem?: string; scope?: string[] } | undefined;
  const nrps = claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'] as { context_memberships_url?: string } | undefined;
  const dl = claims[CLAIM.deepLinkingSettings] as
    | { deep_link_return_url: string; accept_types: string[]; accept_multiple?: boolean; accept_presentation_document_targets?: string[]; data?: string }
    | undefined;
  return {
    messageType: claims[CLAIM.messageType] as LaunchInfo['messageType'],
    placement: str(claims['https://www.instructure.com/placement']),
    resourceLink: link ? { id: link.id, title: str(link.title) } : undefined,
    returnUrl: safeUrl(str(pres?.return_url))?.toString(),
    locale: str(pres?.locale) ?? str(claims.locale),
    canvas: {
      userId: canvasId(custom.canvas_user_id),
      courseId: canvasId(custom.canvas_course_id),
      moduleId: canvasId(custom.canvas_module_id),
      moduleItemId: canvasId(custom.canvas_module_item_id),
      assignmentId: canvasId(custom.canvas_assignment_id),
      apiBaseUrl,
    },
    ags: ags ? { lineitems: str(ags.lineitems), lineitem: str(ags.lineitem), scope: Array.isArray(ags.scope) ? ags.scope.filter((s) => typeof s === 'string') : [] } : undefined,
    nrps: nrps?.context_memberships_url ? { contextMembershipsUrl: nrps.context_memberships_url } : undefined,
    deepLinking: dl
      ? {
          returnUrl: dl.deep_link_return_url,
          acceptTypes: dl.accept_types,
          acceptMultiple: dl.accept_multiple !== false,
          acceptPresentationTargets: dl.accept_presentation_document_targets ?? [],
          data: str(dl.data),
        }
      : undefined,
    roles,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Canvas ids are digits (local) or `shard~id`; anything else (such as an unexpanded `$Canvas.user.id`) is not an id. */
function canvasId(v: unknown): string | undefined {
  const s = typeof v === 'number' ? String(v) : str(v);
  return s && /^\d+(~\d+)?$/.test(s) ? s : undefined;
}

/** https URLs only (http on loopback, for the sandbox): a launch must not point pages at anything else. */
function safeUrl(v: string | undefined): URL | undefined {
  if (!v) return undefined;
  try {
    const u = new URL(v);
    const local = u.hostname === 'localhost' || u.hostname === '127.0.0.1';
    return u.protocol === 'https:' || (local && u.protocol === 'http:') ? u : undefined;
  } catch {
    return undefined;
  }
}
