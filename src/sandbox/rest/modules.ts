import express from 'express';
import type { SandboxContext } from '../context';
import { badRequest, list, notFound, paginate, str, unauthorized } from '../http';
import type { Module, ModuleItem } from '../store';
import { courseAccess, requireStaff, studentParam, type CourseAccess } from './access';
import { itemJson, moduleJson } from './serializers';

/** Modules and module items with per-student completion (canvas-lti.md §3.2, §4.1). */
export function moduleRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();
  const d = ctx.data;
  // Students see only published modules and items.
  const visibleModules = (a: CourseAccess): Module[] => d.courseModules(a.course.id).filter((m) => a.staff || m.published);
  const visibleItems = (a: CourseAccess, m: Module): ModuleItem[] => d.itemsOf(m.id).filter((i) => a.staff || i.published);
  const moduleOf = (a: CourseAccess, id: unknown): Module => {
    const m = d.module(str(id) ?? '', a.course.id);
    if (!m || (!a.staff && !m.published)) throw notFound();
    return m;
  };
  const itemOf = (a: CourseAccess, m: Module, id: unknown): ModuleItem => {
    const i = d.itemsOf(m.id).find((x) => String(x.id) === str(id));
    if (!i || (!a.staff && !i.published)) throw notFound();
    return i;
  };

  r.get('/api/v1/courses/:course_id/modules', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const include = list(q, 'include');
    const studentId = studentParam(ctx, a, q.student_id);
    const search = str(q.search_term)?.toLowerCase();
    let mods = visibleModules(a);
    if (search) mods = mods.filter((m) => m.name.toLowerCase().includes(search));
    const page = paginate(req, res, ctx.cfg.baseUrl, mods);
    res.json(page.map((m) => moduleJson(ctx, m, { items: include.includes('items') ? visibleItems(a, m) : undefined, studentId, contentDetails: include.includes('content_details') })));
  });

  r.get('/api/v1/courses/:course_id/modules/:module_id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const m = moduleOf(a, req.params.module_id);
    const include = list(q, 'include');
    res.json(moduleJson(ctx, m, { items: include.includes('items') ? visibleItems(a, m) : undefined, studentId: studentParam(ctx, a, q.student_id), contentDetails: include.includes('content_details') }));
  });

  r.put('/api/v1/courses/:course_id/modules/:module_id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    requireStaff(a);
    if (!a.admin && !d.activeEnrollments(a.course.id, a.userId).some((e) => e.type === 'TeacherEnrollment' || e.type === 'DesignerEnrollment')) throw unauthorized();
    const m = moduleOf(a, req.params.module_id);
    const b = ((req.body ?? {}) as Record<string, unknown>).module as Record<string, unknown> | undefined;
    if (!b) throw badRequest('module is required');
    if (b.published !== undefined) {
      m.published = b.published === true || b.published === 'true' || b.published === '1';
      // Publishing a module publishes its items too, as in the Canvas UI.
      if (m.published) for (const i of d.itemsOf(m.id)) i.published = true;
    }
    if (str(b.name)) m.name = str(b.name) as string;
    res.json(moduleJson(ctx, m, {}));
  });

  r.get('/api/v1/courses/:course_id/modules/:module_id/items', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const m = moduleOf(a, req.params.module_id);
    const studentId = studentParam(ctx, a, q.student_id);
    const page = paginate(req, res, ctx.cfg.baseUrl, visibleItems(a, m));
    res.json(page.map((i) => itemJson(ctx, i, { studentId, contentDetails: list(q, 'include').includes('content_details') })));
  });

  r.get('/api/v1/courses/:course_id/modules/:module_id/items/:id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const m = moduleOf(a, req.params.module_id);
    res.json(itemJson(ctx, itemOf(a, m, req.params.id), { studentId: studentParam(ctx, a, q.student_id), contentDetails: list(q, 'include').includes('content_details') }));
  });

  r.put('/api/v1/courses/:course_id/modules/:module_id/items/:id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    requireStaff(a);
    const m = moduleOf(a, req.params.module_id);
    const i = itemOf(a, m, req.params.id);
    const b = ((req.body ?? {}) as Record<string, unknown>).module_item as Record<string, unknown> | undefined;
    if (!b) throw badRequest('module_item is required');
    if (b.published !== undefined) i.published = b.published === true || b.published === 'true' || b.published === '1';
    if (str(b.title)) i.title = str(b.title) as string;
    res.json(itemJson(ctx, i, {}));
  });

  const markDone = (done: boolean) => (req: express.Request, res: express.Response): void => {
    const a = courseAccess(ctx, req, res);
    const m = moduleOf(a, req.params.module_id);
    const i = itemOf(a, m, req.params.id);
    if (i.completionRequirement?.type !== 'must_mark_done') throw badRequest('this module item does not have a must_mark_done requirement');
    if (!a.student) throw unauthorized();
    if (done) d.completeItem(i.id, a.userId, 'marked_done');
    else d.uncompleteItem(i.id, a.userId);
    res.status(204).end();
  };
  r.put('/api/v1/courses/:course_id/modules/:module_id/items/:id/done', markDone(true));
  r.delete('/api/v1/courses/:course_id/modules/:module_id/items/:id/done', markDone(false));

  r.post('/api/v1/courses/:course_id/modules/:module_id/items/:id/mark_read', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const i = itemOf(a, moduleOf(a, req.params.module_id), req.params.id);
    if (a.student && i.completionRequirement?.type === 'must_view') d.completeItem(i.id, a.userId, 'viewed');
    res.status(204).end();
  });
  return r;
}
