import express from 'express';
import type { SandboxContext } from '../context';
import { badRequest, list, notFound, paginate, str, unauthorized } from '../http';
import { nowIso, type Conversation, type EnrollmentType } from '../store';
import { callerId, courseAccess, requireStaff } from './access';
import { conversationJson, courseJson, enrollmentJson, sectionJson, userJson } from './serializers';

const TYPE_PARAM: Record<string, EnrollmentType> = {
  student: 'StudentEnrollment', teacher: 'TeacherEnrollment', ta: 'TaEnrollment', designer: 'DesignerEnrollment', observer: 'ObserverEnrollment',
  StudentEnrollment: 'StudentEnrollment', TeacherEnrollment: 'TeacherEnrollment', TaEnrollment: 'TaEnrollment', DesignerEnrollment: 'DesignerEnrollment', ObserverEnrollment: 'ObserverEnrollment',
};

export function courseRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();
  const d = ctx.data;

  r.get('/api/v1/users/self', (_req, res) => {
    const u = d.user(callerId(res));
    if (!u) throw notFound();
    res.json({ ...userJson(u), permissions: { can_update_name: true, can_update_avatar: true } });
  });

  r.get('/api/v1/users/:user_id/profile', (req, res) => {
    const me = callerId(res);
    const u = d.resolveUser(str(req.params.user_id) ?? '', me);
    if (!u) throw notFound();
    // Canvas shows a profile to the user, an admin, or staff of a course the user is in.
    const shared = d.enrollments.some((e) => e.userId === u.id && e.state === 'active' && d.isStaff(e.courseId, me));
    if (u.id !== me && !d.isAdmin(me) && !shared) throw unauthorized();
    res.json({
      id: u.id, name: u.name, short_name: u.shortName, sortable_name: u.sortableName, title: null, bio: null, pronunciation: null, primary_email: u.email,
      login_id: u.loginId, sis_user_id: u.sisUserId, lti_user_id: u.lti11Id, avatar_url: u.avatarUrl, calendar: null, time_zone: u.timeZone, locale: null, k5_user: false,
    });
  });

  r.get('/api/v1/courses', (req, res) => {
    const me = callerId(res);
    const courseIds = [...new Set(d.enrollments.filter((e) => e.userId === me && e.state === 'active').map((e) => e.courseId))];
    const courses = courseIds.map((id) => d.course(id)).filter((c) => c !== undefined);
    res.json(paginate(req, res, ctx.cfg.baseUrl, courses, {}).map((c) => courseJson(ctx, c, d.activeEnrollments(c.id, me))));
  });

  r.get('/api/v1/courses/:course_id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    res.json(courseJson(ctx, a.course, d.activeEnrollments(a.course.id, a.userId)));
  });

  r.get('/api/v1/courses/:course_id/users', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const types = list(q, 'enrollment_type').map((t) => TYPE_PARAM[t]).filter((t) => t !== undefined);
    const include = list(q, 'include');
    let enrollments = d.activeEnrollments(a.course.id);
    if (types.length) enrollments = enrollments.filter((e) => types.includes(e.type));
    const userIds = list(q, 'user_ids').map(Number);
    const ids = [...new Set(enrollments.map((e) => e.userId))].filter((id) => !userIds.length || userIds.includes(id));
    const search = str(q.search_term)?.toLowerCase();
    let users = ids.map((id) => d.user(id)).filter((u) => u !== undefined).sort((x, y) => x.sortableName.localeCompare(y.sortableName));
    if (search) users = users.filter((u) => u.name.toLowerCase().includes(search) || u.loginId.toLowerCase().includes(search));
    res.json(paginate(req, res, ctx.cfg.baseUrl, users).map((u) => userJson(u, {
      email: include.includes('email') && a.staff, ctx,
      enrollments: include.includes('enrollments') ? enrollments.filter((e) => e.userId === u.id) : undefined,
    })));
  });

  r.get('/api/v1/courses/:course_id/enrollments', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const types = list(q, 'type').map((t) => TYPE_PARAM[t]).filter((t) => t !== undefined);
    const states = list(q, 'state');
    let enrollments = d.enrollments.filter((e) => e.courseId === a.course.id && (states.length ? states.includes(e.state) : e.state === 'active' || e.state === 'invited'));
    if (types.length) enrollments = enrollments.filter((e) => types.includes(e.type));
    const userId = str(q.user_id);
    if (userId) enrollments = enrollments.filter((e) => e.userId === d.resolveUser(userId, a.userId)?.id);
    if (!a.staff) enrollments = enrollments.filter((e) => e.userId === a.userId);
    res.json(paginate(req, res, ctx.cfg.baseUrl, enrollments).map((e) => enrollmentJson(ctx, e)));
  });

  r.post('/api/v1/courses/:course_id/enrollments', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const b = ((req.body ?? {}) as Record<string, unknown>).enrollment as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object') throw badRequest('enrollment is required');
    const type = TYPE_PARAM[str(b.type) ?? ''];
    if (!type) throw badRequest('enrollment[type] must be StudentEnrollment, TeacherEnrollment, TaEnrollment, ObserverEnrollment or DesignerEnrollment');
    // Teachers may add students and TAs; other roles need an admin (Canvas's manage_* permissions).
    const teacher = d.activeEnrollments(a.course.id, a.userId).some((e) => e.type === 'TeacherEnrollment');
    if (!a.admin && !(teacher && (type === 'StudentEnrollment' || type === 'TaEnrollment' || type === 'ObserverEnrollment'))) throw unauthorized();
    const user = d.resolveUser(str(b.user_id) ?? '', a.userId);
    if (!user) throw badRequest("enrollment[user_id] can't be blank or is not a user");
    const state = str(b.enrollment_state) === 'active' ? 'active' : str(b.enrollment_state) === 'inactive' ? 'inactive' : 'invited';
    const sectionId = str(b.course_section_id);
    if (sectionId && !d.sections.some((s) => String(s.id) === sectionId && s.courseId === a.course.id)) throw badRequest('course_section_id is not a section of the course');
    const e = d.enroll(a.course.id, user.id, type, { state, sectionId: sectionId ? Number(sectionId) : undefined });
    res.json(enrollmentJson(ctx, e));
  });

  r.delete('/api/v1/courses/:course_id/enrollments/:id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const e = d.enrollments.find((x) => String(x.id) === req.params.id && x.courseId === a.course.id);
    if (!e) throw notFound();
    const teacher = d.activeEnrollments(a.course.id, a.userId).some((x) => x.type === 'TeacherEnrollment');
    if (!a.admin && !(teacher && e.type === 'StudentEnrollment')) throw unauthorized();
    const task = str((req.query as Record<string, unknown>).task) ?? 'conclude';
    if (!['conclude', 'delete', 'inactivate', 'deactivate'].includes(task)) throw badRequest('task must be conclude, delete, inactivate or deactivate');
    e.state = task === 'delete' ? 'deleted' : task === 'conclude' ? 'completed' : 'inactive';
    e.updatedAt = nowIso();
    d.events.emit('enrollment_updated', { ...e });
    res.json(enrollmentJson(ctx, e));
  });

  r.get('/api/v1/courses/:course_id/sections', (req, res) => {
    const a = courseAccess(ctx, req, res);
    res.json(paginate(req, res, ctx.cfg.baseUrl, d.sections.filter((s) => s.courseId === a.course.id)).map((s) => sectionJson(ctx, s)));
  });

  r.get('/api/v1/courses/:course_id/bulk_user_progress', (req, res) => {
    const a = courseAccess(ctx, req, res);
    requireStaff(a);
    const students = d.students(a.course.id);
    res.json(paginate(req, res, ctx.cfg.baseUrl, students).map((u) => ({
      id: u.id, display_name: u.name, avatar_image_url: u.avatarUrl, html_url: ctx.url(`/courses/${a.course.id}/users/${u.id}`), pronouns: null,
      progress: d.courseProgress(a.course.id, u.id),
    })));
  });

  r.post('/api/v1/conversations', (req, res) => {
    const me = callerId(res);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const recipients = list(b, 'recipients');
    const body = str(b.body);
    if (!recipients.length) throw badRequest('recipients is required');
    if (!body || !body.trim()) throw badRequest('body is required');
    const ids = new Set<number>();
    for (const r0 of recipients) {
      const m = /^course_(\d+)(?:_(students|teachers|tas))?$/.exec(r0);
      if (m) {
        const cid = Number(m[1]);
        if (!d.isStaff(cid, me)) throw unauthorized();
        const want = m[2] === 'students' ? ['StudentEnrollment'] : m[2] === 'teachers' ? ['TeacherEnrollment'] : m[2] === 'tas' ? ['TaEnrollment'] : undefined;
        for (const e of d.activeEnrollments(cid)) if (!want || want.includes(e.type)) ids.add(e.userId);
        continue;
      }
      const u = d.resolveUser(r0, me);
      if (!u) throw badRequest(`Invalid recipient: ${r0}`);
      // Canvas only lets you message people you share a course with (or anyone, if you are an admin).
      const shares = d.enrollments.some((e) => e.userId === u.id && e.state === 'active' && d.activeEnrollments(e.courseId, me).length > 0);
      if (!shares && !d.isAdmin(me)) throw badRequest(`Invalid recipient: ${r0}`);
      ids.add(u.id);
    }
    ids.delete(me);
    const contextCode = str(b.context_code) ?? null;
    const subject = str(b.subject) ?? '';
    const make = (participants: number[]): Conversation => {
      const c: Conversation = { id: d.nextId('conversation'), subject, participantIds: [me, ...participants], contextCode, messages: [{ id: d.nextId('message'), authorId: me, body, createdAt: nowIso() }] };
      d.conversations.push(c);
      return c;
    };
    const group = str(b.group_conversation) === 'true' || b.group_conversation === true;
    const created = group || ids.size <= 1 ? [make([...ids])] : [...ids].map((id) => make([id]));
    res.status(201).json(created.map((c) => conversationJson(ctx, c, me)));
  });

  r.get('/api/v1/conversations', (req, res) => {
    const me = callerId(res);
    const mine = d.conversations.filter((c) => c.participantIds.includes(me)).reverse();
    res.json(paginate(req, res, ctx.cfg.baseUrl, mine).map((c) => conversationJson(ctx, c, me)));
  });
  r.get('/api/v1/conversations/:id', (req, res) => {
    const me = callerId(res);
    const c = d.conversations.find((x) => String(x.id) === req.params.id);
    if (!c) throw notFound();
    if (!c.participantIds.includes(me)) throw unauthorized();
    res.json(conversationJson(ctx, c, me));
  });
  return r;
}
