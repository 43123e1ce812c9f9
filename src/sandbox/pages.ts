import express, { type Request, type Response } from 'express';
import type { SandboxContext } from './context';
import { SandboxError, str } from './http';
import { loginInitiation, type LaunchOptions } from './platform/oidc';
import { tinyPng } from './scenario';
import type { Course, ModuleItem, Tool, User } from './store';
import { ROLE_LABELS } from './roles';

/**
 * Canvas-like browser pages: home, course, the tool launch page (global nav, course nav, breadcrumb, the tool
 * iframe and the hidden post_message_forwarding frame), the return URL, and file downloads.
 */

/** `?as=<userId>` logs a user in (a cookie), as a stand-in for Canvas's own login. */
function actingUser(ctx: SandboxContext, req: Request, res: Response): User | undefined {
  const as = str((req.query as Record<string, unknown>).as);
  if (as !== undefined) {
    const u = ctx.data.user(as);
    if (!u) throw new SandboxError(404, `No user ${as}`, true);
    res.cookie('sandbox_user', String(u.id), { httpOnly: true, sameSite: 'lax', path: '/' });
    return u;
  }
  const id = ctx.browserUser(req);
  return id === undefined ? undefined : ctx.data.user(id);
}

export function launchUrl(ctx: SandboxContext, o: LaunchOptions): string {
  loginInitiation(ctx, o); // validates the launch (throws a clear Error for an impossible one)
  const u = new URL(ctx.url(`/courses/${o.courseId}/external_tools/${o.toolId}`));
  u.searchParams.set('as', String(o.userId));
  if (o.placement) u.searchParams.set('placement', o.placement);
  if (o.messageType) u.searchParams.set('message_type', o.messageType);
  if (o.assignmentId !== undefined) u.searchParams.set('assignment_id', String(o.assignmentId));
  if (o.moduleItemId !== undefined) u.searchParams.set('module_item_id', String(o.moduleItemId));
  if (o.moduleId !== undefined) u.searchParams.set('module_id', String(o.moduleId));
  return u.toString();
}

function roleLabel(ctx: SandboxContext, course: Course, u: User): string {
  const types = ctx.data.activeEnrollments(course.id, u.id).map((e) => ROLE_LABELS[e.type] ?? e.type);
  if (ctx.data.isAdmin(u.id, course.id)) types.push('Admin');
  return [...new Set(types)].join(', ');
}

/** The launch links for one course: each tool placement, for each person. */
function launchLinks(ctx: SandboxContext, course: Course): { tool: Tool; placement: string; messageType: string; people: { user: User; role: string; href: string }[] }[] {
  const people = [...new Set(ctx.data.activeEnrollments(course.id).map((e) => e.userId))].map((id) => ctx.data.user(id)).filter((u): u is User => !!u);
  for (const admin of ctx.data.users.filter((u) => u.adminOf.includes(course.accountId))) if (!people.includes(admin)) people.push(admin);
  const out: ReturnType<typeof launchLinks> = [];
  for (const tool of ctx.data.tools.filter((t) => !t.deleted)) {
    const placements = tool.placements.length ? tool.placements.filter((p) => p.enabled !== false && ['course_navigation', 'link_selection', 'assignment_selection', 'module_index_menu_modal', 'account_navigation', 'user_navigation'].includes(p.placement)) : [{ placement: 'course_navigation', message_type: 'LtiResourceLinkRequest' as const }];
    for (const p of placements) {
      out.push({
        tool, placement: p.placement, messageType: p.message_type ?? 'LtiResourceLinkRequest',
        people: people.map((u) => ({ user: u, role: roleLabel(ctx, course, u), href: `/courses/${course.id}/external_tools/${tool.id}?as=${u.id}&placement=${p.placement}` })),
      });
    }
  }
  return out;
}

export function pageRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();
  const d = ctx.data;

  r.get('/', (req, res) => {
    const user = actingUser(ctx, req, res);
    const courses = d.courses.filter((c) => c.workflowState !== 'deleted').map((c) => ({
      course: c, links: launchLinks(ctx, c),
      people: [...new Set(d.activeEnrollments(c.id).map((e) => e.userId))].map((id) => d.user(id)).filter((u): u is User => !!u).map((u) => ({ user: u, role: roleLabel(ctx, c, u) })),
    }));
    res.render('home', { user, courses, tools: d.tools.filter((t) => !t.deleted), accounts: d.accounts, base: ctx.cfg.baseUrl, title: 'Dashboard' });
  });

  r.get('/courses/:course_id', (req, res) => {
    const user = actingUser(ctx, req, res);
    const course = d.course(str(req.params.course_id) ?? '');
    if (!course) throw new SandboxError(404, 'Course not found', true);
    const modules = d.courseModules(course.id).map((m) => ({
      module: m, state: user && d.isStudent(course.id, user.id) ? d.moduleState(m, user.id).state : null,
      items: d.itemsOf(m.id).map((i) => ({ item: i, completed: user ? d.itemCompletion(i, user.id).completed : false, href: itemHref(ctx, course, i, user) })),
    }));
    const navTools = d.tools.filter((t) => !t.deleted && t.placements.some((p) => p.placement === 'course_navigation'));
    res.render('course', { user, course, modules, navTools, links: launchLinks(ctx, course), title: course.name });
  });

  r.get('/courses/:course_id/external_tools/:tool_id', (req, res) => {
    const user = actingUser(ctx, req, res);
    const course = d.course(str(req.params.course_id) ?? '');
    const tool = d.tool(str(req.params.tool_id) ?? '');
    if (!course || !tool) throw new SandboxError(404, 'Course or tool not found', true);
    if (!user) throw new SandboxError(401, 'Choose who you are first: add ?as=<user id> to the URL or pick a person on the sandbox home page.', true);
    const q = req.query as Record<string, unknown>;
    const messageType = str(q.message_type);
    let login: { url: string };
    try {
      login = loginInitiation(ctx, {
        userId: user.id, courseId: course.id, toolId: tool.id, placement: str(q.placement),
        messageType: messageType === 'LtiDeepLinkingRequest' || messageType === 'LtiResourceLinkRequest' ? messageType : undefined,
        assignmentId: str(q.assignment_id), moduleItemId: str(q.module_item_id), moduleId: str(q.module_id),
      });
    } catch (e) {
      throw new SandboxError(400, (e as Error).message, true);
    }
    const navTools = d.tools.filter((t) => !t.deleted && t.placements.some((p) => p.placement === 'course_navigation'));
    res.render('launch', { user, course, tool, navTools, iframeSrc: login.url, placement: str(q.placement) ?? '', title: `${tool.name} - ${course.name}` });
  });

  r.get('/courses/:course_id/modules/items/:id', (req, res) => {
    const user = actingUser(ctx, req, res);
    const item = d.moduleItem(str(req.params.id) ?? '');
    const course = d.course(str(req.params.course_id) ?? '');
    if (!item || !course || item.courseId !== course.id) throw new SandboxError(404, 'Module item not found', true);
    if (user && item.completionRequirement?.type === 'must_view' && d.isStudent(course.id, user.id) && item.type !== 'ExternalTool') d.completeItem(item.id, user.id, 'viewed');
    const href = itemHref(ctx, course, item, user);
    if (href && href !== req.path) {
      res.redirect(302, href);
      return;
    }
    res.render('item', { user, course, item, title: item.title });
  });

  r.get('/courses/:course_id/external_content/success/:kind', (req, res) => {
    const user = actingUser(ctx, req, res);
    const course = d.course(str(req.params.course_id) ?? '');
    if (!course) throw new SandboxError(404, 'Course not found', true);
    const q = req.query as Record<string, unknown>;
    res.render('returned', { user, course, msg: str(q.lti_msg), errormsg: str(q.lti_errormsg), title: course.name });
  });

  r.get('/post_message_forwarding', (_req, res) => {
    res.render('post_message_forwarding', {});
  });

  r.get('/images/messages/avatar-50.png', (_req, res) => {
    res.type('image/png').send(tinyPng());
  });

  // The URL in a submission attachment: the verifier grants access without a token, as Canvas's does.
  r.get('/files/:id/download', (req, res) => {
    const f = d.attachment(str(req.params.id) ?? '');
    const q = req.query as Record<string, unknown>;
    if (!f) throw new SandboxError(404, { errors: [{ message: 'The specified resource does not exist.' }] });
    const token = ctx.tokenOf(req);
    const tokenOk = token && !token.revoked && token.kind === 'oauth' && token.expiresAt > Date.now();
    if (str(q.verifier) !== f.verifier && !tokenOk) throw new SandboxError(401, { status: 'unauthenticated', errors: [{ message: 'user authorization required' }] });
    res.set('Content-Type', f.contentType).set('Content-Disposition', `attachment; filename="${f.filename.replace(/"/g, '')}"`).send(f.bytes);
  });
  return r;
}

function itemHref(ctx: SandboxContext, course: Course, i: ModuleItem, user: User | undefined): string | null {
  if (i.type === 'ExternalTool' && i.toolId !== null) return `/courses/${course.id}/external_tools/${i.toolId}?module_item_id=${i.id}${user ? `&as=${user.id}` : ''}`;
  if (i.type === 'Assignment' && i.contentId !== null) {
    const a = ctx.data.assignment(i.contentId);
    if (a?.externalTool) return `/courses/${course.id}/external_tools/${a.externalTool.toolId}?module_item_id=${i.id}${user ? `&as=${user.id}` : ''}`;
  }
  if (i.type === 'ExternalUrl' && i.externalUrl) return i.externalUrl;
  return null;
}
