import type { SessionContext } from '../../lti/sessions';
import { authorize } from '../../policies';
import { ConflictError, InvalidInputError, NotFoundError } from '../../web/errors';
import type { CanvasRubricCriterion } from '../canvasReader';
import { AttachInputSchema, parseInput, type Rubric } from '../model';
import { definitionOf, presentAttachment } from '../presenters';
import { applyEdit, viewCredential } from './credentials';
import { changeableCredential, inTransaction, repoOf, requireCourse, visibleCredential, type CatalogDeps } from './common';

/**
 * The designer picks, in this Canvas course, the modules an earner must complete and the assignment whose
 * submissions are the evidence. Canvas is asked (as the designer) which modules and assignments the course has,
 * so ids from another course or an unpublished assignment are refused with a message on the field. Optionally
 * the assignment's Canvas rubric becomes the micro-credential's rubric (a new version if it was published).
 */
export async function attachCredential(deps: CatalogDeps, ctx: SessionContext, id: string, body: unknown) {
  const input = parseInput(AttachInputSchema, body);
  const course = requireCourse(ctx);
  if (!course.canvasCourseId) throw new ConflictError('Canvas did not tell microcred which course this is; launch microcred again from the course.');
  // Check who may change it before asking Canvas anything.
  const before = await visibleCredential(repoOf(deps), ctx, id);
  authorize(ctx, 'credential.change', before);
  if (before.state === 'retired') throw new ConflictError('A retired micro-credential cannot be attached.');

  const reader = await deps.courseReader(ctx);
  const [modules, assignments] = await Promise.all([reader.listModules(course.canvasCourseId), reader.listAssignments(course.canvasCourseId)]);
  const fields: Record<string, string> = {};
  const known = new Set(modules.map((m) => m.id));
  const foreign = input.moduleIds.filter((m) => !known.has(m));
  if (foreign.length) fields.moduleIds = `${foreign.length === 1 ? 'Module' : 'Modules'} ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not in this course. Choose modules from “${course.title}” (modules from another course cannot be required).`;
  const assignment = assignments.find((a) => a.id === input.assignmentId);
  if (!assignment) fields.assignmentId = `Assignment ${input.assignmentId} is not in this course. Choose an assignment from “${course.title}”.`;
  else if (!assignment.published) fields.assignmentId = `“${assignment.name}” is an unpublished assignment. Publish it in Canvas first, so earners can submit their evidence.`;
  else if (input.importRubric && !assignment.rubric?.length) fields.importRubric = `“${assignment.name}” has no Canvas rubric to import.`;
  if (Object.keys(fields).length) throw new InvalidInputError('The modules or assignment cannot be used.', fields);

  return inTransaction(deps, async (repo) => {
    const c = await changeableCredential(repo, ctx, id);
    if (input.importRubric && assignment?.rubric) {
      const def = definitionOf((await repo.findVersion(ctx.tenant.id, c.draftVersionId ?? c.currentVersionId!))!);
      await applyEdit(repo, ctx, c, { ...def, rubric: rubricFromCanvas(assignment.rubric), passingRule: { kind: 'every_criterion' } });
    }
    const a = await repo.upsertAttachment(ctx.tenant.id, {
      courseId: course.id, credentialId: c.id, canvasCourseId: course.canvasCourseId!, moduleIds: [...new Set(input.moduleIds)], assignmentId: input.assignmentId,
      rubricImported: input.importRubric, attachedBy: ctx.user.id,
    });
    return { attachment: presentAttachment(a), credential: await viewCredential(repo, ctx, (await repo.findCredential(ctx.tenant.id, c.id))!) };
  });
}

export async function getAttachment(deps: CatalogDeps, ctx: SessionContext, id: string) {
  const repo = repoOf(deps);
  const c = await visibleCredential(repo, ctx, id);
  const a = await repo.findAttachment(ctx.tenant.id, requireCourse(ctx).id, c.id);
  if (!a) throw new NotFoundError('attachment');
  return presentAttachment(a);
}

/**
 * A Canvas rubric as ours: criteria keep Canvas's ids, ratings become levels, and the passing level is the lowest
 * rating worth points (“Proficient”, “Meets”), which the designer can change afterwards.
 */
export function rubricFromCanvas(criteria: CanvasRubricCriterion[]): Rubric {
  const safeId = (s: string, fallback: string) => (/^[A-Za-z0-9_.-]{1,64}$/.test(s) ? s : fallback);
  return {
    criteria: criteria.map((c, i) => {
      const levels = c.ratings.map((r, j) => ({ id: safeId(r.id, `l${i + 1}-${j + 1}`), name: r.description || `Level ${j + 1}`, points: Math.max(0, r.points), descriptor: r.long_description ?? '' }));
      const passing = levels.filter((l) => l.points > 0).sort((a, b) => a.points - b.points)[0] ?? levels[0];
      return { id: safeId(c.id, `c${i + 1}`), title: c.description || `Criterion ${i + 1}`, description: c.long_description ?? '', levels, requiredLevelId: passing?.id };
    }),
  };
}
