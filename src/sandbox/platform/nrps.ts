import express from 'express';
import { NRPS_SCOPE, type SandboxContext } from '../context';
import { SandboxError, paginate, str } from '../http';
import type { Tool } from '../store';
import { expandCustom, membershipRoles } from './claims';

/** Names and Role Provisioning Services 2.0 as Canvas serves it (canvas-lti.md §2.7, §4.6). */
const MIME = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

export function nrpsRoutes(ctx: SandboxContext, guard: (scopes: string[]) => express.RequestHandler): express.Router {
  const r = express.Router();
  const d = ctx.data;
  r.get('/api/lti/courses/:course_id/names_and_roles', guard([NRPS_SCOPE]), (req, res) => {
    const course = d.course(str(req.params.course_id) ?? '');
    if (!course) throw new SandboxError(404, { errors: { type: 'not_found', message: 'Course not found' } });
    const tool = res.locals.tool as Tool;
    const q = req.query as Record<string, unknown>;
    const rlid = str(q.rlid);
    const rl = rlid ? d.resourceLinks.find((x) => x.id === rlid && x.courseId === course.id) : undefined;
    if (rlid && !rl && rlid !== course.ltiContextId) throw new SandboxError(400, { errors: { type: 'bad_request', message: 'Invalid rlid' } });
    const role = str(q.role);
    const userIds = [...new Set(d.activeEnrollments(course.id).map((e) => e.userId))].sort((a, b) => a - b);
    const showName = tool.privacyLevel === 'public' || tool.privacyLevel === 'name_only';
    const showEmail = tool.privacyLevel === 'public' || tool.privacyLevel === 'email_only';
    let members = userIds.map((uid) => {
      const u = d.user(uid);
      if (!u) return undefined;
      const roles = membershipRoles(d, course.id, uid);
      const m: Record<string, unknown> = { status: 'Active', user_id: u.ltiId, lti11_legacy_user_id: u.lti11Id, roles };
      if (showName) {
        const parts = u.name.split(' ');
        Object.assign(m, { name: u.name, given_name: parts[0], family_name: parts.slice(1).join(' '), lis_person_sourcedid: u.sisUserId });
      }
      if (showEmail) m.email = u.email;
      if (tool.privacyLevel === 'public') m.picture = u.avatarUrl;
      if (rlid) {
        const assignment = rl?.assignmentId ? d.assignment(rl.assignmentId) : undefined;
        const custom = expandCustom(ctx, { user: u, course, tool, placement: null, messageType: 'LtiResourceLinkRequest', assignment, resourceLink: rl }, { ...tool.customFields, ...(rl?.custom ?? {}) });
        m.message = [{
          'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiResourceLinkRequest',
          locale: 'en',
          'https://www.instructure.com/canvas_user_id': u.id,
          'https://www.instructure.com/canvas_user_login_id': u.loginId,
          'https://purl.imsglobal.org/spec/lti/claim/custom': custom,
        }];
      }
      return m;
    }).filter((m): m is Record<string, unknown> => m !== undefined);
    if (role) {
      // Accept a full LIS URI or its short name ("Learner", "Instructor").
      members = members.filter((m) => (m.roles as string[]).some((x) => x === role || x.endsWith(`#${role}`)));
    }
    const page = paginate(req, res, ctx.cfg.baseUrl, members, { sizeParam: 'limit', defaultSize: 10, maxSize: 100 });
    res.type(MIME).send(JSON.stringify({
      id: ctx.url(req.originalUrl),
      context: { id: course.ltiContextId, label: course.courseCode, title: course.name },
      members: page,
    }));
  });
  return r;
}
