import type { SandboxContext } from '../context';
import { AGS_SCOPES, NRPS_SCOPE } from '../context';
import type { Course, ModuleItem, SandboxData, Tool, User, Assignment, ResourceLink, LineItem } from '../store';
import { nowIso } from '../store';

/** LIS v2 role URIs Canvas sends (lib/lti/... role map), per enrollment type. */
const LIS = 'http://purl.imsglobal.org/vocab/lis/v2';
export const ROLE_MAP: Record<string, string[]> = {
  StudentEnrollment: [`${LIS}/membership#Learner`, `${LIS}/institution/person#Student`],
  TeacherEnrollment: [`${LIS}/membership#Instructor`],
  TaEnrollment: [`${LIS}/membership#Instructor`, `${LIS}/membership/Instructor#TeachingAssistant`],
  DesignerEnrollment: [`${LIS}/membership#ContentDeveloper`],
  ObserverEnrollment: [`${LIS}/membership#Mentor`],
};
export const ADMIN_ROLE = `${LIS}/institution/person#Administrator`;
export const USER_ROLE = `${LIS}/system/person#User`;

/** Launch roles (Canvas's `$com.instructure.User.allRoles`): context roles, institution roles, the system role. */
export function launchRoles(data: SandboxData, courseId: number, userId: number): string[] {
  const roles = new Set<string>();
  for (const e of data.activeEnrollments(courseId, userId)) for (const r of ROLE_MAP[e.type] ?? []) roles.add(r);
  if (data.isAdmin(userId, courseId)) roles.add(ADMIN_ROLE);
  roles.add(USER_ROLE);
  return [...roles];
}

/** Context (membership) roles only, as NRPS reports them. */
export function membershipRoles(data: SandboxData, courseId: number, userId: number): string[] {
  const roles = new Set<string>();
  for (const e of data.activeEnrollments(courseId, userId)) for (const r of ROLE_MAP[e.type] ?? []) if (r.includes('/membership')) roles.add(r);
  return [...roles];
}

export interface LaunchContext {
  user: User; course: Course; tool: Tool; placement: string | null; messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  assignment?: Assignment; moduleItem?: ModuleItem; moduleId?: number; resourceLink?: ResourceLink;
}

/**
 * Expand Canvas variable substitutions. A variable Canvas cannot resolve for this launch (for example
 * `$Canvas.assignment.id` outside an assignment) is sent unexpanded, as Canvas does.
 */
export function expandCustom(ctx: SandboxContext, lc: LaunchContext, fields: Record<string, string>): Record<string, string> {
  const { user, course, assignment, moduleItem } = lc;
  const roles = ctx.data.activeEnrollments(course.id, user.id).map((e) => e.type.replace('Enrollment', ''));
  const vars: Record<string, string | number | null | undefined> = {
    '$Canvas.api.baseUrl': ctx.cfg.baseUrl,
    '$Canvas.api.domain': new URL(ctx.cfg.baseUrl).host,
    '$Canvas.user.id': user.id,
    '$Canvas.user.loginId': user.loginId,
    '$Canvas.user.sisSourceId': user.sisUserId,
    '$Canvas.user.globalId': user.id,
    '$Canvas.course.id': course.id,
    '$Canvas.course.name': course.name,
    '$Canvas.course.sisSourceId': course.sisCourseId,
    '$Canvas.course.workflowState': course.workflowState,
    '$Canvas.module.id': lc.moduleId ?? moduleItem?.moduleId,
    '$Canvas.moduleItem.id': moduleItem?.id,
    '$Canvas.assignment.id': assignment?.id,
    '$Canvas.assignment.title': assignment?.name,
    '$Canvas.assignment.pointsPossible': assignment?.pointsPossible,
    '$Canvas.account.id': course.accountId,
    '$Canvas.rootAccount.id': course.accountId,
    '$Canvas.membership.roles': roles.length ? roles.join(',') : undefined,
    '$Canvas.enrollment.enrollmentState': ctx.data.activeEnrollments(course.id, user.id).length ? 'active' : undefined,
    '$Person.name.full': user.name,
    '$Person.name.given': user.name.split(' ')[0],
    '$Person.name.family': user.name.split(' ').slice(1).join(' ') || undefined,
    '$Person.email.primary': user.email,
    '$Person.address.timezone': user.timeZone,
    '$Context.id': course.ltiContextId,
    '$ToolConsumerInstance.guid': ctx.data.accounts.find((a) => a.id === course.accountId)?.ltiGuid,
    '$com.instructure.Assignment.lti.id': assignment?.externalTool?.resourceLinkId,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    const val = v.startsWith('$') ? vars[v] : v;
    out[k] = val === undefined || val === null ? v : String(val);
  }
  return out;
}

export function lineItemUrl(ctx: SandboxContext, li: LineItem): string {
  return ctx.url(`/api/lti/courses/${li.courseId}/line_items/${li.id}`);
}

/** The line item Canvas gives an external-tool assignment when it is linked to an LTI 1.3 tool. */
export function ensurePrimaryLineItem(ctx: SandboxContext, a: Assignment, tool: Tool, extra: Partial<LineItem> = {}): LineItem {
  const existing = ctx.data.lineItems.find((l) => l.assignmentId === a.id && l.primary);
  if (existing) return existing;
  const li: LineItem = {
    id: ctx.data.nextId('lineItem'), courseId: a.courseId, clientId: tool.clientId, assignmentId: a.id, primary: true, label: a.name, scoreMaximum: a.pointsPossible,
    resourceId: null, tag: null, resourceLinkId: a.externalTool?.resourceLinkId ?? null, startDateTime: a.unlockAt, endDateTime: a.dueAt, submissionType: null, createdAt: nowIso(),
    ...extra,
  };
  ctx.data.lineItems.push(li);
  return li;
}

/** Build the id_token claims for a launch (canvas-lti.md §2.5, §4.7). */
export function idTokenClaims(ctx: SandboxContext, lc: LaunchContext, nonce: string, dlData?: string): Record<string, unknown> {
  const { user, course, tool } = lc;
  const data = ctx.data;
  const now = Math.floor(Date.now() / 1000);
  const pc = tool.placements.find((p) => p.placement === lc.placement);
  const rl = lc.resourceLink;
  const targetLinkUri = (lc.messageType === 'LtiResourceLinkRequest' ? rl?.url : undefined) ?? pc?.target_link_uri ?? tool.targetLinkUri;
  const custom = expandCustom(ctx, lc, { ...tool.customFields, ...(pc?.custom_fields ?? {}), ...(rl?.custom ?? {}) });
  const account = data.accounts.find((a) => a.id === course.accountId);
  const claims: Record<string, unknown> = {
    iss: ctx.cfg.issuer,
    aud: tool.clientId,
    azp: tool.clientId,
    sub: user.ltiId,
    iat: now,
    exp: now + 3600,
    nonce,
    'https://purl.imsglobal.org/spec/lti/claim/deployment_id': tool.deploymentId,
    'https://purl.imsglobal.org/spec/lti/claim/message_type': lc.messageType,
    'https://purl.imsglobal.org/spec/lti/claim/version': '1.3.0',
    'https://purl.imsglobal.org/spec/lti/claim/target_link_uri': targetLinkUri,
    'https://purl.imsglobal.org/spec/lti/claim/context': {
      id: course.ltiContextId, label: course.courseCode, title: course.name, type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
    },
    'https://purl.imsglobal.org/spec/lti/claim/tool_platform': {
      guid: account?.ltiGuid ?? 'sandbox:canvas-lms', name: account?.name ?? 'Canvas Sandbox', version: 'cloud', product_family_code: 'canvas',
    },
    'https://purl.imsglobal.org/spec/lti/claim/launch_presentation': {
      document_target: 'iframe', return_url: ctx.url(`/courses/${course.id}/external_content/success/external_tool_redirect`), locale: 'en', height: 800, width: 1000,
    },
    locale: 'en',
    'https://purl.imsglobal.org/spec/lti/claim/roles': launchRoles(data, course.id, user.id),
    'https://purl.imsglobal.org/spec/lti/claim/custom': custom,
    'https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id': user.lti11Id,
    'https://purl.imsglobal.org/spec/lti/claim/lti1p1': { user_id: user.lti11Id },
    'https://www.instructure.com/placement': lc.placement,
  };
  if (lc.messageType === 'LtiResourceLinkRequest') {
    claims['https://purl.imsglobal.org/spec/lti/claim/resource_link'] = rl
      ? { id: rl.id, title: rl.title, description: lc.assignment?.description ?? null }
      : { id: course.ltiContextId, title: course.name, description: null };
  }
  const showName = tool.privacyLevel === 'public' || tool.privacyLevel === 'name_only';
  const showEmail = tool.privacyLevel === 'public' || tool.privacyLevel === 'email_only';
  if (showName) {
    const parts = user.name.split(' ');
    Object.assign(claims, { name: user.name, given_name: parts[0], family_name: parts.slice(1).join(' ') });
    claims['https://purl.imsglobal.org/spec/lti/claim/lis'] = { person_sourcedid: user.sisUserId, course_offering_sourcedid: course.sisCourseId };
  }
  if (showEmail) claims.email = user.email;
  if (tool.privacyLevel === 'public') claims.picture = user.avatarUrl;
  const agsScopes = tool.scopes.filter((s) => (Object.values(AGS_SCOPES) as string[]).includes(s));
  if (agsScopes.length) {
    const endpoint: Record<string, unknown> = { scope: agsScopes, lineitems: ctx.url(`/api/lti/courses/${course.id}/line_items`) };
    if (lc.assignment && lc.messageType === 'LtiResourceLinkRequest') {
      const items = data.lineItems.filter((l) => l.assignmentId === lc.assignment?.id);
      if (items.length === 1 && items[0]) endpoint.lineitem = lineItemUrl(ctx, items[0]);
    }
    claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'] = endpoint;
  }
  if (tool.scopes.includes(NRPS_SCOPE)) {
    claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'] = {
      context_memberships_url: ctx.url(`/api/lti/courses/${course.id}/names_and_roles`), service_versions: ['2.0'],
    };
  }
  if (lc.messageType === 'LtiDeepLinkingRequest') {
    const p = lc.placement ?? '';
    const settings: Record<string, unknown> = {
      deep_link_return_url: ctx.url(`/courses/${course.id}/deep_linking_response`),
      accept_types: p === 'link_selection' ? ['ltiResourceLink', 'link'] : p === 'editor_button' ? ['link', 'file', 'html', 'ltiResourceLink', 'image'] : ['ltiResourceLink'],
      accept_presentation_document_targets: ['embed', 'iframe', 'window'],
      accept_media_types: 'image/*,text/html,application/vnd.ims.lti.v1.ltilink,*/*',
      accept_multiple: p !== 'assignment_selection',
      auto_create: p === 'module_index_menu_modal' || p === 'link_selection' || p === 'assignment_selection',
    };
    if (dlData) settings.data = dlData;
    claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] = settings;
  }
  return claims;
}
