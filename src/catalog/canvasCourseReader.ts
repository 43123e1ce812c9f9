import type { CanvasAccess } from '../canvas/access';
import type { CourseReaderFactory } from './canvasReader';

/** The catalog reads a course's modules and assignments as the person in the session, through the Canvas client. */
export function canvasCourseReader(canvas: CanvasAccess): CourseReaderFactory {
  return async (ctx) => {
    const client = await canvas.forSession(ctx);
    return {
      async listModules(courseId) {
        return (await client.listModules(courseId)).map((m) => ({ id: String(m.id), name: m.name, published: m.published !== false }));
      },
      async listAssignments(courseId) {
        return (await client.listAssignments(courseId, { includeRubric: true })).map((a) => ({
          id: String(a.id),
          name: a.name,
          published: a.published,
          rubric: a.rubric?.map((c) => ({
            id: c.id,
            description: c.description ?? '',
            long_description: c.long_description ?? null,
            points: c.points,
            ratings: c.ratings.map((r) => ({ id: r.id, description: r.description ?? '', long_description: r.long_description ?? null, points: r.points })),
          })),
        }));
      },
    };
  };
}
