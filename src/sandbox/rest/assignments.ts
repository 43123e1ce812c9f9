import express from 'express';
import type { SandboxContext } from '../context';
import { SandboxError, badRequest, list, notFound, paginate, str, unauthorized } from '../http';
import { nowIso, parsePostedGrade, type Assignment, type RubricAssessmentEntry, type Submission } from '../store';
import { courseAccess, type CourseAccess } from './access';
import { assignmentJson, fileJson, rubricCriteriaJson, submissionJson } from './serializers';

/** Assignments, submissions, grading with rubrics, rubrics and files (canvas-lti.md §3.3–3.5, §4.2, §4.3). */
export function assignmentRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();
  const d = ctx.data;

  const assignmentOf = (a: CourseAccess, id: unknown): Assignment => {
    const asg = d.assignment(str(id) ?? '', a.course.id);
    if (!asg || (!a.staff && !asg.published)) throw notFound();
    return asg;
  };
  const include = (req: express.Request): string[] => list(req.query as Record<string, unknown>, 'include');

  r.get('/api/v1/courses/:course_id/assignments', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    let items = d.courseAssignments(a.course.id).filter((x) => a.staff || x.published);
    const ids = list(q, 'assignment_ids');
    if (ids.length) items = items.filter((x) => ids.includes(String(x.id)));
    const search = str(q.search_term)?.toLowerCase();
    if (search) items = items.filter((x) => x.name.toLowerCase().includes(search));
    const inc = include(req);
    res.json(paginate(req, res, ctx.cfg.baseUrl, items).map((x) => withSubmission(ctx, a, x, inc)));
  });

  r.get('/api/v1/courses/:course_id/assignments/:id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    res.json(withSubmission(ctx, a, assignmentOf(a, req.params.id), include(req)));
  });

  r.get('/api/v1/courses/:course_id/assignments/:assignment_id/submissions', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const asg = assignmentOf(a, req.params.assignment_id);
    // Canvas keeps a submission per student; a student sees only their own.
    const students = a.staff ? d.students(a.course.id) : d.students(a.course.id).filter((u) => u.id === a.userId);
    const subs = students.map((u) => d.ensureSubmission(asg.id, u.id));
    res.json(paginate(req, res, ctx.cfg.baseUrl, subs).map((s) => submissionJson(ctx, s, include(req))));
  });

  r.get('/api/v1/courses/:course_id/assignments/:assignment_id/submissions/:user_id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const asg = assignmentOf(a, req.params.assignment_id);
    const u = d.resolveUser(str(req.params.user_id) ?? '', a.userId);
    if (!u || !d.activeEnrollments(a.course.id, u.id).length) throw notFound();
    if (!a.staff && u.id !== a.userId) throw unauthorized();
    res.json(submissionJson(ctx, d.ensureSubmission(asg.id, u.id), include(req)));
  });

  r.put('/api/v1/courses/:course_id/assignments/:assignment_id/submissions/:user_id', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const asg = assignmentOf(a, req.params.assignment_id);
    const u = d.resolveUser(str(req.params.user_id) ?? '', a.userId);
    if (!u || !d.isStudent(a.course.id, u.id)) throw notFound();
    const b = (req.body ?? {}) as Record<string, unknown>;
    const grading = b.rubric_assessment !== undefined || (b.submission as Record<string, unknown> | undefined)?.posted_grade !== undefined;
    if (grading && !d.canGrade(a.course.id, a.userId)) throw unauthorized();
    if (!grading && !a.staff && u.id !== a.userId) throw unauthorized();
    const s = d.ensureSubmission(asg.id, u.id);
    let score: number | null | undefined;
    if (b.rubric_assessment !== undefined) score = applyRubric(ctx, asg, s, a.userId, b.rubric_assessment);
    const sub = b.submission as Record<string, unknown> | undefined;
    if (sub?.posted_grade !== undefined) {
      try {
        score = parsePostedGrade(asg, str(sub.posted_grade) ?? '');
      } catch {
        throw badRequest('invalid posted_grade');
      }
    }
    if (score !== undefined) d.grade(s, score, a.userId);
    const comment = (b.comment as Record<string, unknown> | undefined)?.text_comment;
    if (typeof comment === 'string' && comment.trim()) d.addComment(s, a.userId, comment);
    res.json(submissionJson(ctx, s, ['submission_comments', 'rubric_assessment', ...include(req)]));
  });

  r.get('/api/v1/courses/:course_id/students/submissions', (req, res) => {
    const a = courseAccess(ctx, req, res);
    const q = req.query as Record<string, unknown>;
    const inc = include(req);
    const ids = list(q, 'student_ids');
    let studentIds: number[];
    if (ids.includes('all')) studentIds = a.staff ? d.students(a.course.id).map((u) => u.id) : [a.userId];
    else if (ids.length) {
      if (ids.length > 100) throw new SandboxError(400, { errors: [{ message: 'too many students' }] });
      studentIds = ids.map((x) => d.resolveUser(x, a.userId)?.id).filter((x): x is number => x !== undefined);
      if (!a.staff && studentIds.some((x) => x !== a.userId)) throw unauthorized();
    } else studentIds = [a.userId];
    studentIds = studentIds.filter((id) => d.isStudent(a.course.id, id));
    // Only published assignments are reported; asking for one that is not visible is a 403.
    const published = d.courseAssignments(a.course.id).filter((x) => x.published);
    const askIds = list(q, 'assignment_ids');
    let assignments = published;
    if (askIds.length) {
      if (askIds.some((id) => !published.some((x) => String(x.id) === id))) throw unauthorized();
      assignments = published.filter((x) => askIds.includes(String(x.id)));
    }
    const state = str(q.workflow_state);
    if (state && !['submitted', 'unsubmitted', 'graded', 'pending_review'].includes(state)) throw badRequest('invalid workflow_state');
    const submittedSince = str(q.submitted_since);
    const gradedSince = str(q.graded_since);
    for (const [name, v] of [['submitted_since', submittedSince], ['graded_since', gradedSince]] as const) if (v && Number.isNaN(Date.parse(v))) throw badRequest(`invalid ${name}`);
    const keep = (s: Submission): boolean =>
      (!state || s.workflowState === state) &&
      (!submittedSince || (s.submittedAt !== null && Date.parse(s.submittedAt) >= Date.parse(submittedSince))) &&
      (!gradedSince || (s.gradedAt !== null && Date.parse(s.gradedAt) >= Date.parse(gradedSince)));
    const grouped = str(q.grouped) === 'true' || str(q.grouped) === '1';
    if (grouped) {
      const page = paginate(req, res, ctx.cfg.baseUrl, studentIds);
      res.json(page.map((uid) => ({
        user_id: uid, section_id: d.activeEnrollments(a.course.id, uid)[0]?.sectionId ?? null, integration_id: null, sis_user_id: d.user(uid)?.sisUserId ?? null,
        submissions: assignments.map((x) => d.ensureSubmission(x.id, uid)).filter(keep).map((s) => submissionJson(ctx, s, inc)),
      })));
      return;
    }
    const all: Submission[] = [];
    for (const x of assignments) for (const uid of studentIds) {
      const s = d.ensureSubmission(x.id, uid);
      if (keep(s)) all.push(s);
    }
    res.json(paginate(req, res, ctx.cfg.baseUrl, all).map((s) => submissionJson(ctx, s, inc)));
  });

  const rubricAccess = (req: express.Request, res: express.Response): CourseAccess => {
    const a = courseAccess(ctx, req, res);
    if (!d.canManageRubrics(a.course.id, a.userId)) throw unauthorized();
    return a;
  };
  const rubricJson = (id: number, inc: string[]): Record<string, unknown> | undefined => {
    const rb = d.rubric(id);
    if (!rb) return undefined;
    const out: Record<string, unknown> = {
      id: rb.id, title: rb.title, context_id: rb.courseId, context_type: 'Course', points_possible: rb.pointsPossible, reusable: false, read_only: false,
      free_form_criterion_comments: rb.freeFormCriterionComments, hide_score_total: rb.hideScoreTotal, data: rubricCriteriaJson(rb),
    };
    if (inc.some((x) => x.includes('assessments'))) {
      out.assessments = d.rubricAssessments.filter((x) => x.rubricId === rb.id).map((x) => ({
        id: x.id, rubric_id: x.rubricId, rubric_association_id: x.rubricAssociationId, score: x.score, artifact_type: 'Submission', artifact_id: x.submissionId,
        artifact_attempt: x.artifactAttempt, assessment_type: x.assessmentType, assessor_id: x.assessorId,
        data: Object.entries(x.data).map(([cid, v]) => ({ criterion_id: cid, points: v.points, comments: v.comments, rating_id: v.rating_id })),
      }));
    }
    if (inc.some((x) => x.includes('associations'))) {
      out.associations = d.rubricAssociations.filter((x) => x.rubricId === rb.id).map((x) => ({
        id: x.id, rubric_id: x.rubricId, association_id: x.assignmentId, association_type: 'Assignment', use_for_grading: x.useForGrading, summary_data: '', purpose: x.purpose,
        hide_score_total: x.hideScoreTotal, hide_points: x.hidePoints, hide_outcome_results: false,
      }));
    }
    return out;
  };
  r.get('/api/v1/courses/:course_id/rubrics', (req, res) => {
    const a = rubricAccess(req, res);
    const rubrics = d.rubrics.filter((x) => x.courseId === a.course.id);
    res.json(paginate(req, res, ctx.cfg.baseUrl, rubrics).map((x) => rubricJson(x.id, [])));
  });
  r.get('/api/v1/courses/:course_id/rubrics/:id', (req, res) => {
    const a = rubricAccess(req, res);
    const rb = d.rubric(str(req.params.id) ?? '');
    if (!rb || rb.courseId !== a.course.id) throw notFound();
    res.json(rubricJson(rb.id, include(req)));
  });

  // Files: the API object, and the download URL Canvas puts in submission attachments.
  const fileAllowed = (fileId: number, userId: number): boolean => {
    const f = d.attachment(fileId);
    if (!f) return false;
    if (f.userId === userId || d.isAdmin(userId)) return true;
    return d.submissions.some((s) => s.history.some((h) => h.attachmentIds.includes(fileId)) && d.assignment(s.assignmentId) !== undefined && d.isStaff((d.assignment(s.assignmentId) as Assignment).courseId, userId));
  };
  r.get('/api/v1/files/:id', (req, res) => {
    const f = d.attachment(str(req.params.id) ?? '');
    if (!f) throw notFound();
    if (!fileAllowed(f.id, res.locals.userId as number)) throw unauthorized();
    res.json(fileJson(ctx, f));
  });
  return r;
}

/** The assignment JSON, with the caller's submission when they ask for it (`include[]=submission`). */
function withSubmission(ctx: SandboxContext, a: CourseAccess, x: Assignment, inc: string[]): Record<string, unknown> {
  const out = assignmentJson(ctx, x);
  if (inc.includes('submission') && a.student) out.submission = submissionJson(ctx, ctx.data.ensureSubmission(x.id, a.userId), []);
  return out;
}

/**
 * `rubric_assessment[<criterion id>][points|rating_id|comments]`: every key must be a criterion of the assignment's rubric
 * (Canvas answers 400 "invalid rubric_assessment" otherwise). Returns the score to apply when the rubric is used for grading.
 */
function applyRubric(ctx: SandboxContext, asg: Assignment, s: Submission, assessorId: number, raw: unknown): number | undefined {
  const d = ctx.data;
  const assoc = d.rubricAssociations.find((x) => x.id === asg.rubricAssociationId);
  const rubric = asg.rubricId !== null ? d.rubric(asg.rubricId) : undefined;
  if (!assoc || !rubric) throw badRequest('invalid rubric_assessment: the assignment has no rubric association');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('invalid rubric_assessment');
  const entries: Record<string, RubricAssessmentEntry> = {};
  for (const [cid, v] of Object.entries(raw as Record<string, unknown>)) {
    if (cid === 'user_id' || cid === 'assessment_type') continue;
    const crit = rubric.criteria.find((c) => c.id === cid);
    if (!crit || typeof v !== 'object' || v === null) throw badRequest('invalid rubric_assessment');
    const o = v as Record<string, unknown>;
    const ratingId = str(o.rating_id);
    const rating = ratingId ? crit.ratings.find((x) => x.id === ratingId) : undefined;
    if (ratingId && !rating) throw badRequest('invalid rubric_assessment');
    const pointsRaw = str(o.points);
    const points = pointsRaw !== undefined && pointsRaw !== '' ? Number(pointsRaw) : rating ? rating.points : null;
    if (points !== null && !Number.isFinite(points)) throw badRequest('invalid rubric_assessment');
    entries[cid] = { points, rating_id: rating?.id ?? null, comments: str(o.comments) ?? '' };
  }
  const existing = d.rubricAssessments.find((x) => x.submissionId === s.id && x.rubricAssociationId === assoc.id && x.assessmentType === 'grading');
  const merged = { ...(existing?.data ?? {}), ...entries };
  const total = Object.values(merged).reduce((t, e) => t + (e.points ?? 0), 0);
  if (existing) {
    Object.assign(existing, { data: merged, score: total, assessorId, artifactAttempt: s.attempt, updatedAt: nowIso() });
  } else {
    d.rubricAssessments.push({
      id: d.nextId('rubricAssessment'), rubricId: rubric.id, rubricAssociationId: assoc.id, submissionId: s.id, assessorId, score: total, data: merged,
      artifactAttempt: s.attempt, assessmentType: 'grading', createdAt: nowIso(), updatedAt: nowIso(),
    });
  }
  d.events.emit('rubric_assessed', { submission_id: s.id, rubric_id: rubric.id, assessor_id: assessorId, score: total, data: merged });
  return assoc.useForGrading ? total : undefined;
}
