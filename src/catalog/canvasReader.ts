import type { SessionContext } from '../lti/sessions';
import { UpstreamError } from '../web/errors';

/**
 * What the catalog needs to read from a Canvas course to validate an attachment. The Canvas REST client (its own
 * issue: OAuth2 tokens, pagination, throttling) implements it; tests implement it over the sandbox.
 */
export interface CanvasModule { id: string; name: string; published: boolean }
export interface CanvasRubricCriterion {
  id: string;
  description: string;
  long_description?: string | null;
  points: number;
  ratings: { id: string; description: string; long_description?: string | null; points: number }[];
}
export interface CanvasAssignment { id: string; name: string; published: boolean; rubric?: CanvasRubricCriterion[] }

export interface CanvasCourseReader {
  listModules(canvasCourseId: string): Promise<CanvasModule[]>;
  listAssignments(canvasCourseId: string): Promise<CanvasAssignment[]>;
}

/** Readers act as the person in the session (their Canvas token), so a factory per request. */
export type CourseReaderFactory = (ctx: SessionContext) => CanvasCourseReader | Promise<CanvasCourseReader>;

/** Until the Canvas client is wired in, attaching says so plainly instead of trusting unchecked ids. */
export const noCanvasAccess: CourseReaderFactory = () => {
  throw new UpstreamError('microcred cannot read this Canvas course yet: Canvas API access has not been set up.');
};
