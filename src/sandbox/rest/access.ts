import type { Request, Response } from 'express';
import type { SandboxContext } from '../context';
import { notFound, str, unauthorized } from '../http';
import type { Course } from '../store';

/** Who is calling and what they may see in a course, as Canvas's permission checks decide. */
export interface CourseAccess { course: Course; userId: number; staff: boolean; student: boolean; admin: boolean }

export function callerId(res: Response): number {
  return res.locals.userId as number;
}

/** The course in `:course_id`; 404 if it does not exist, 403 if the caller is neither enrolled nor an admin. */
export function courseAccess(ctx: SandboxContext, req: Request, res: Response, param = 'course_id'): CourseAccess {
  const course = ctx.data.course(str(req.params[param]) ?? '');
  if (!course) throw notFound();
  const userId = callerId(res);
  const admin = ctx.data.isAdmin(userId, course.id);
  const staff = ctx.data.isStaff(course.id, userId);
  const enrolled = ctx.data.activeEnrollments(course.id, userId).length > 0;
  if (!admin && !enrolled) throw unauthorized();
  return { course, userId, staff, student: ctx.data.isStudent(course.id, userId), admin };
}

export function requireStaff(a: CourseAccess): void {
  if (!a.staff) throw unauthorized();
}

/** `student_id` on progress endpoints: staff may ask about anyone in the course, a student only about themselves. */
export function studentParam(ctx: SandboxContext, a: CourseAccess, v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined) return a.student && !a.staff ? a.userId : undefined;
  const u = ctx.data.resolveUser(s, a.userId);
  if (!u) throw notFound();
  if (!a.staff && u.id !== a.userId) throw unauthorized();
  return u.id;
}
