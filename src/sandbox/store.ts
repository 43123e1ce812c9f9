import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';

/**
 * The emulated Canvas's state: plain arrays of Canvas-shaped records (so tests can assert on them and edit them),
 * plus the rules Canvas applies when they change (module completion, submission attempts, grading).
 * Ids are numbers, as in Canvas's JSON.
 */

export type EnrollmentType = 'StudentEnrollment' | 'TeacherEnrollment' | 'TaEnrollment' | 'DesignerEnrollment' | 'ObserverEnrollment';
export type EnrollmentState = 'active' | 'invited' | 'inactive' | 'completed' | 'deleted';
export type CompletionType = 'must_view' | 'must_submit' | 'must_contribute' | 'min_score' | 'must_mark_done';
export type ModuleItemType = 'Assignment' | 'Page' | 'ExternalTool' | 'ExternalUrl' | 'File' | 'SubHeader' | 'Discussion' | 'Quiz';
export type PrivacyLevel = 'anonymous' | 'name_only' | 'email_only' | 'public';

export interface Account { id: number; name: string; ltiGuid: string }
export interface User {
  id: number; name: string; sortableName: string; shortName: string; email: string; loginId: string;
  sisUserId: string | null; ltiId: string; lti11Id: string; avatarUrl: string; adminOf: number[]; createdAt: string; timeZone: string;
}
export interface Section { id: number; courseId: number; name: string; sisSectionId: string | null }
export interface Course {
  id: number; accountId: number; name: string; courseCode: string; sisCourseId: string | null; ltiContextId: string;
  uuid: string; workflowState: 'available' | 'unpublished' | 'completed' | 'deleted'; startAt: string | null; endAt: string | null; timeZone: string;
}
export interface Enrollment { id: number; courseId: number; sectionId: number; userId: number; type: EnrollmentType; state: EnrollmentState; createdAt: string; updatedAt: string }
export interface Module {
  id: number; courseId: number; name: string; position: number; published: boolean; requireSequentialProgress: boolean;
  requirementType: 'all' | 'one'; prerequisiteModuleIds: number[]; unlockAt: string | null; deleted: boolean;
}
export interface CompletionRequirement { type: CompletionType; minScore?: number }
export interface ModuleItem {
  id: number; moduleId: number; courseId: number; position: number; title: string; type: ModuleItemType; indent: number;
  contentId: number | null; pageUrl: string | null; externalUrl: string | null; newTab: boolean; published: boolean;
  completionRequirement: CompletionRequirement | null; toolId: number | null; resourceLinkId: string | null;
}
export interface RubricRating { id: string; description: string; longDescription: string; points: number }
export interface RubricCriterion { id: string; description: string; longDescription: string; points: number; criterionUseRange: boolean; ratings: RubricRating[] }
export interface Rubric { id: number; courseId: number; title: string; pointsPossible: number; freeFormCriterionComments: boolean; hideScoreTotal: boolean; criteria: RubricCriterion[] }
export interface RubricAssociation { id: number; rubricId: number; assignmentId: number; useForGrading: boolean; purpose: 'grading' | 'bookmark'; hideScoreTotal: boolean; hidePoints: boolean }
export interface ExternalToolTag { url: string; toolId: number; newTab: boolean; resourceLinkId: string }
export interface Assignment {
  id: number; courseId: number; name: string; description: string; pointsPossible: number; gradingType: 'points' | 'pass_fail' | 'percent' | 'letter_grade' | 'not_graded';
  submissionTypes: string[]; published: boolean; dueAt: string | null; unlockAt: string | null; lockAt: string | null; position: number;
  rubricId: number | null; rubricAssociationId: number | null; externalTool: ExternalToolTag | null; allowedAttempts: number;
  createdAt: string; updatedAt: string; deleted: boolean;
}
export interface SubmissionVersion {
  attempt: number; submissionType: string | null; body: string | null; url: string | null; attachmentIds: number[];
  submittedAt: string | null; score: number | null; grade: string | null; gradedAt: string | null; workflowState: SubmissionState;
}
export type SubmissionState = 'unsubmitted' | 'submitted' | 'graded' | 'pending_review';
export interface Submission {
  id: number; assignmentId: number; userId: number; attempt: number; submissionType: string | null; body: string | null; url: string | null;
  attachmentIds: number[]; submittedAt: string | null; workflowState: SubmissionState; score: number | null; grade: string | null; enteredScore: number | null;
  gradedAt: string | null; graderId: number | null; gradeMatchesCurrentSubmission: boolean; postedAt: string | null; excused: boolean;
  history: SubmissionVersion[]; updatedAt: string;
}
export interface SubmissionComment { id: number; submissionId: number; authorId: number | null; authorName: string; comment: string; createdAt: string; attempt: number }
export interface RubricAssessmentEntry { points: number | null; rating_id: string | null; comments: string }
export interface RubricAssessment {
  id: number; rubricId: number; rubricAssociationId: number; submissionId: number; assessorId: number; score: number;
  data: Record<string, RubricAssessmentEntry>; artifactAttempt: number; assessmentType: 'grading'; createdAt: string; updatedAt: string;
}
export interface Attachment {
  id: number; userId: number | null; filename: string; displayName: string; contentType: string; bytes: Buffer; size: number;
  uuid: string; verifier: string; createdAt: string;
}
export interface Completion { itemId: number; userId: number; completedAt: string; how: 'viewed' | 'marked_done' | 'contributed' | 'seeded' }
export interface PlacementConfig {
  placement: string; message_type?: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest'; target_link_uri?: string; text?: string;
  icon_url?: string; custom_fields?: Record<string, string>; enabled?: boolean;
}
export interface Tool {
  id: number; name: string; clientId: string; deploymentId: string; accountId: number; oidcInitiationUrl: string; targetLinkUri: string;
  redirectUris: string[]; jwksUrl: string | null; publicJwk: JsonWebKeyLike | null; placements: PlacementConfig[]; customFields: Record<string, string>;
  privacyLevel: PrivacyLevel; scopes: string[]; domain: string | null; installedAt: string; deleted: boolean;
}
export interface JsonWebKeyLike { kty: string; kid?: string; n?: string; e?: string; alg?: string; use?: string; [k: string]: unknown }
export interface ResourceLink { id: string; courseId: number; toolId: number; title: string; url: string | null; custom: Record<string, string>; assignmentId: number | null; moduleItemId: number | null }
export interface LineItem {
  id: number; courseId: number; clientId: string; assignmentId: number; primary: boolean; label: string; scoreMaximum: number;
  resourceId: string | null; tag: string | null; resourceLinkId: string | null; startDateTime: string | null; endDateTime: string | null;
  submissionType: { type: string; external_tool_url?: string } | null; createdAt: string;
}
export interface AgsResult {
  id: number; lineItemId: number; userId: number; resultScore: number | null; resultMaximum: number | null; comment: string | null;
  activityProgress: string; gradingProgress: string; timestamp: string; updatedAt: string;
}
export interface ConversationMessage { id: number; authorId: number; body: string; createdAt: string }
export interface Conversation { id: number; subject: string; participantIds: number[]; contextCode: string | null; messages: ConversationMessage[] }

/** Canvas Live Events, emitted on `sandbox.events` (names as in Canvas's event types). */
export type SandboxEventName = 'submission_created' | 'submission_updated' | 'grade_change' | 'course_progress' | 'enrollment_updated' | 'module_item_completed' | 'rubric_assessed' | 'submission_comment_created';

export const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Deterministic ids derived from a seed so that the same scenario always yields the same LTI ids. */
export function stableUuid(seed: string): string {
  const h = crypto.createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
export const sha1 = (s: string): string => crypto.createHash('sha1').update(s).digest('hex');

const STAFF: EnrollmentType[] = ['TeacherEnrollment', 'TaEnrollment', 'DesignerEnrollment'];

export class SandboxData {
  accounts: Account[] = [];
  users: User[] = [];
  courses: Course[] = [];
  sections: Section[] = [];
  enrollments: Enrollment[] = [];
  modules: Module[] = [];
  moduleItems: ModuleItem[] = [];
  /** Manual completions (viewed, marked done, contributed, seeded); must_submit and min_score are derived from submissions. */
  completions = new Map<string, Completion>();
  assignments: Assignment[] = [];
  rubrics: Rubric[] = [];
  rubricAssociations: RubricAssociation[] = [];
  rubricAssessments: RubricAssessment[] = [];
  submissions: Submission[] = [];
  comments: SubmissionComment[] = [];
  attachments: Attachment[] = [];
  tools: Tool[] = [];
  resourceLinks: ResourceLink[] = [];
  lineItems: LineItem[] = [];
  results: AgsResult[] = [];
  conversations: Conversation[] = [];
  readonly events = new EventEmitter();
  private counters = new Map<string, number>();

  constructor(readonly baseUrl: () => string) {}

  nextId(kind: string): number {
    const n = (this.counters.get(kind) ?? 1000) + 1;
    this.counters.set(kind, n);
    return n;
  }
  /** After seeding, new ids start above every seeded id. */
  bumpCounter(kind: string, seen: number): void {
    if (seen >= (this.counters.get(kind) ?? 1000)) this.counters.set(kind, seen);
  }

  // ---- lookups -------------------------------------------------------------------------------------------
  user(id: number | string): User | undefined {
    const n = Number(id);
    return this.users.find((u) => u.id === n);
  }
  /** Canvas accepts a Canvas id, `self`, or `lti_1_3_id:<sub>` wherever a user id is expected. */
  resolveUser(ref: string, selfId?: number): User | undefined {
    if (ref === 'self' && selfId !== undefined) return this.user(selfId);
    if (ref.startsWith('lti_1_3_id:')) return this.users.find((u) => u.ltiId === ref.slice(11));
    if (ref.startsWith('sis_user_id:')) return this.users.find((u) => u.sisUserId === ref.slice(12));
    return /^\d+$/.test(ref) ? this.user(ref) : this.users.find((u) => u.ltiId === ref);
  }
  course(id: number | string): Course | undefined {
    const n = Number(id);
    return this.courses.find((c) => c.id === n && c.workflowState !== 'deleted');
  }
  tool(id: number | string): Tool | undefined {
    const n = Number(id);
    return this.tools.find((t) => t.id === n && !t.deleted);
  }
  toolByClientId(clientId: string): Tool | undefined {
    return this.tools.find((t) => t.clientId === clientId && !t.deleted);
  }
  assignment(id: number | string, courseId?: number): Assignment | undefined {
    const n = Number(id);
    return this.assignments.find((a) => a.id === n && !a.deleted && (courseId === undefined || a.courseId === courseId));
  }
  module(id: number | string, courseId?: number): Module | undefined {
    const n = Number(id);
    return this.modules.find((m) => m.id === n && !m.deleted && (courseId === undefined || m.courseId === courseId));
  }
  moduleItem(id: number | string): ModuleItem | undefined {
    const n = Number(id);
    return this.moduleItems.find((i) => i.id === n && this.module(i.moduleId) !== undefined);
  }
  rubric(id: number | string): Rubric | undefined {
    const n = Number(id);
    return this.rubrics.find((r) => r.id === n);
  }
  attachment(id: number | string): Attachment | undefined {
    const n = Number(id);
    return this.attachments.find((a) => a.id === n);
  }
  activeEnrollments(courseId: number, userId?: number): Enrollment[] {
    return this.enrollments.filter((e) => e.courseId === courseId && (e.state === 'active' || e.state === 'invited') && (userId === undefined || e.userId === userId));
  }
  isAdmin(userId: number, courseId?: number): boolean {
    const u = this.user(userId);
    if (!u) return false;
    if (courseId === undefined) return u.adminOf.length > 0;
    const c = this.course(courseId);
    return !!c && u.adminOf.includes(c.accountId);
  }
  isStudent(courseId: number, userId: number): boolean {
    return this.activeEnrollments(courseId, userId).some((e) => e.type === 'StudentEnrollment');
  }
  /** Teacher, TA, designer or account admin: sees the whole course. */
  isStaff(courseId: number, userId: number): boolean {
    return this.isAdmin(userId, courseId) || this.activeEnrollments(courseId, userId).some((e) => STAFF.includes(e.type));
  }
  canGrade(courseId: number, userId: number): boolean {
    return this.isAdmin(userId, courseId) || this.activeEnrollments(courseId, userId).some((e) => e.type === 'TeacherEnrollment' || e.type === 'TaEnrollment');
  }
  canManageRubrics(courseId: number, userId: number): boolean {
    return this.isAdmin(userId, courseId) || this.activeEnrollments(courseId, userId).some((e) => e.type === 'TeacherEnrollment' || e.type === 'DesignerEnrollment');
  }
  students(courseId: number): User[] {
    const ids = new Set(this.activeEnrollments(courseId).filter((e) => e.type === 'StudentEnrollment').map((e) => e.userId));
    return this.users.filter((u) => ids.has(u.id));
  }
  courseModules(courseId: number): Module[] {
    return this.modules.filter((m) => m.courseId === courseId && !m.deleted).sort((a, b) => a.position - b.position);
  }
  itemsOf(moduleId: number): ModuleItem[] {
    return this.moduleItems.filter((i) => i.moduleId === moduleId).sort((a, b) => a.position - b.position);
  }
  courseAssignments(courseId: number): Assignment[] {
    return this.assignments.filter((a) => a.courseId === courseId && !a.deleted).sort((a, b) => a.position - b.position || a.id - b.id);
  }
  submission(assignmentId: number, userId: number): Submission | undefined {
    return this.submissions.find((s) => s.assignmentId === assignmentId && s.userId === userId);
  }

  /** Canvas keeps a submission row per student per assignment, `unsubmitted` until work arrives. */
  ensureSubmission(assignmentId: number, userId: number): Submission {
    const existing = this.submission(assignmentId, userId);
    if (existing) return existing;
    const s: Submission = {
      id: this.nextId('submission'), assignmentId, userId, attempt: 0, submissionType: null, body: null, url: null, attachmentIds: [],
      submittedAt: null, workflowState: 'unsubmitted', score: null, grade: null, enteredScore: null, gradedAt: null, graderId: null,
      gradeMatchesCurrentSubmission: true, postedAt: null, excused: false, history: [], updatedAt: nowIso(),
    };
    this.submissions.push(s);
    return s;
  }

  // ---- module completion ------------------------------------------------------------------------------------
  itemCompletion(item: ModuleItem, userId: number): { completed: boolean; at: string | null } {
    const manual = this.completions.get(`${item.id}:${userId}`);
    if (manual) return { completed: true, at: manual.completedAt };
    const req = item.completionRequirement;
    if (!req || item.type !== 'Assignment' || item.contentId === null) return { completed: false, at: null };
    const sub = this.submission(item.contentId, userId);
    if (!sub) return { completed: false, at: null };
    if (req.type === 'must_submit' && sub.submittedAt) return { completed: true, at: sub.submittedAt };
    if (req.type === 'min_score' && sub.score !== null && sub.score >= (req.minScore ?? 0)) return { completed: true, at: sub.gradedAt ?? sub.updatedAt };
    // Canvas also counts a graded-but-unsubmitted assignment as submitted for must_submit.
    if (req.type === 'must_submit' && sub.workflowState === 'graded') return { completed: true, at: sub.gradedAt };
    return { completed: false, at: null };
  }

  moduleState(mod: Module, userId: number): { state: 'locked' | 'unlocked' | 'started' | 'completed'; completedAt: string | null } {
    if (mod.unlockAt && Date.parse(mod.unlockAt) > Date.now()) return { state: 'locked', completedAt: null };
    for (const pre of mod.prerequisiteModuleIds) {
      const p = this.module(pre);
      if (p && this.moduleState(p, userId).state !== 'completed') return { state: 'locked', completedAt: null };
    }
    const reqItems = this.itemsOf(mod.id).filter((i) => i.completionRequirement && i.published);
    if (reqItems.length === 0) return { state: 'completed', completedAt: null };
    const done = reqItems.map((i) => this.itemCompletion(i, userId));
    const doneCount = done.filter((d) => d.completed).length;
    const complete = mod.requirementType === 'one' ? doneCount > 0 : doneCount === reqItems.length;
    if (complete) {
      const times = done.filter((d) => d.completed && d.at).map((d) => d.at as string).sort();
      return { state: 'completed', completedAt: times[times.length - 1] ?? null };
    }
    return { state: doneCount > 0 ? 'started' : 'unlocked', completedAt: null };
  }

  courseProgress(courseId: number, userId: number): { requirement_count: number; requirement_completed_count: number; next_requirement_url: string | null; completed_at: string | null } {
    let count = 0;
    let doneCount = 0;
    let next: string | null = null;
    let last: string | null = null;
    for (const m of this.courseModules(courseId).filter((x) => x.published)) {
      for (const i of this.itemsOf(m.id).filter((x) => x.completionRequirement && x.published)) {
        count++;
        const c = this.itemCompletion(i, userId);
        if (c.completed) {
          doneCount++;
          if (c.at && (!last || c.at > last)) last = c.at;
        } else if (!next) next = `${this.baseUrl()}/courses/${courseId}/modules/items/${i.id}`;
      }
    }
    return { requirement_count: count, requirement_completed_count: doneCount, next_requirement_url: next, completed_at: count > 0 && doneCount === count ? last : null };
  }

  private emitProgress(courseId: number, userId: number): void {
    const c = this.course(courseId);
    const u = this.user(userId);
    if (!c || !u) return;
    this.events.emit('course_progress', {
      course: { id: c.id, account_id: c.accountId, name: c.name, sis_source_id: c.sisCourseId },
      user: { id: u.id, name: u.name, email: u.email },
      progress: this.courseProgress(courseId, userId),
    });
  }

  // ---- actions Canvas users take (also used by the REST and LTI routes) -----------------------------------------------
  /** Record a manual completion (view, mark done, contribute). */
  completeItem(itemId: number, userId: number, how: Completion['how'] = 'seeded', at: string = nowIso()): void {
    const item = this.moduleItem(itemId);
    if (!item) throw new Error(`No module item ${itemId}`);
    const key = `${itemId}:${userId}`;
    if (this.completions.has(key)) return;
    this.completions.set(key, { itemId, userId, completedAt: at, how });
    this.events.emit('module_item_completed', { module_item_id: itemId, module_id: item.moduleId, user_id: userId, course_id: item.courseId });
    this.emitProgress(item.courseId, userId);
  }
  uncompleteItem(itemId: number, userId: number): void {
    this.completions.delete(`${itemId}:${userId}`);
  }

  addAttachment(a: { filename: string; contentType: string; bytes: Buffer; userId?: number | null; createdAt?: string }): Attachment {
    const att: Attachment = {
      id: this.nextId('attachment'), userId: a.userId ?? null, filename: a.filename, displayName: a.filename, contentType: a.contentType,
      bytes: a.bytes, size: a.bytes.length, uuid: crypto.randomBytes(20).toString('base64url'), verifier: crypto.randomBytes(20).toString('base64url'),
      createdAt: a.createdAt ?? nowIso(),
    };
    this.attachments.push(att);
    return att;
  }

  /** A student hands in work: a new attempt, like Canvas's "Submit Assignment". */
  submit(
    assignmentId: number,
    userId: number,
    work: { body?: string; url?: string; attachments?: { filename: string; contentType: string; bytes: Buffer | string }[]; submissionType?: string; submittedAt?: string },
  ): Submission {
    const a = this.assignment(assignmentId);
    if (!a) throw new Error(`No assignment ${assignmentId}`);
    if (!this.isStudent(a.courseId, userId)) throw new Error(`User ${userId} is not an active student in course ${a.courseId}`);
    if (a.allowedAttempts > 0) {
      const existing = this.submission(assignmentId, userId);
      if (existing && existing.attempt >= a.allowedAttempts) throw new Error(`Attempt limit (${a.allowedAttempts}) reached`);
    }
    const attachments = (work.attachments ?? []).map((f) =>
      this.addAttachment({ filename: f.filename, contentType: f.contentType, bytes: typeof f.bytes === 'string' ? Buffer.from(f.bytes) : f.bytes, userId, createdAt: work.submittedAt }),
    );
    const type = work.submissionType ?? (attachments.length ? 'online_upload' : work.url ? 'online_url' : 'online_text_entry');
    const s = this.ensureSubmission(assignmentId, userId);
    const isNew = s.attempt === 0;
    s.attempt += 1;
    s.submissionType = type;
    s.body = work.body ?? null;
    s.url = work.url ?? null;
    s.attachmentIds = attachments.map((x) => x.id);
    s.submittedAt = work.submittedAt ?? nowIso();
    // A new attempt after grading needs re-grading: Canvas flags the grade as not matching the current submission.
    s.gradeMatchesCurrentSubmission = s.score === null;
    s.workflowState = 'submitted';
    s.updatedAt = nowIso();
    this.snapshot(s);
    this.events.emit(isNew ? 'submission_created' : 'submission_updated', this.submissionEvent(s));
    this.emitProgress(a.courseId, userId);
    return s;
  }

  /** Keep `history` in step with the submission's current attempt (Canvas's submission_history). */
  snapshot(s: Submission): void {
    const v: SubmissionVersion = {
      attempt: s.attempt, submissionType: s.submissionType, body: s.body, url: s.url, attachmentIds: [...s.attachmentIds], submittedAt: s.submittedAt,
      score: s.score, grade: s.grade, gradedAt: s.gradedAt, workflowState: s.workflowState,
    };
    const i = s.history.findIndex((h) => h.attempt === s.attempt);
    if (i >= 0) s.history[i] = v;
    else s.history.push(v);
  }

  grade(s: Submission, score: number | null, graderId: number | null, grade?: string | null, at: string = nowIso()): void {
    const a = this.assignment(s.assignmentId);
    if (!a) return;
    const old = { score: s.score, grade: s.grade };
    s.score = score;
    s.enteredScore = score;
    s.grade = grade !== undefined ? grade : score === null ? null : formatGrade(a, score);
    s.gradedAt = score === null ? null : at;
    s.graderId = graderId;
    s.workflowState = score === null ? (s.submittedAt ? 'submitted' : 'unsubmitted') : 'graded';
    s.gradeMatchesCurrentSubmission = true;
    s.postedAt = s.postedAt ?? (score === null ? null : at);
    s.updatedAt = nowIso();
    this.snapshot(s);
    this.events.emit('grade_change', {
      submission_id: s.id, assignment_id: a.id, user_id: s.userId, student_id: s.userId, grader_id: graderId, score, grade: s.grade,
      old_score: old.score, old_grade: old.grade, points_possible: a.pointsPossible, grading_complete: score !== null,
    });
    this.emitProgress(a.courseId, s.userId);
  }

  addComment(s: Submission, authorId: number | null, text: string): SubmissionComment {
    const author = authorId === null ? undefined : this.user(authorId);
    const c: SubmissionComment = { id: this.nextId('comment'), submissionId: s.id, authorId, authorName: author?.name ?? '', comment: text, createdAt: nowIso(), attempt: s.attempt };
    this.comments.push(c);
    this.events.emit('submission_comment_created', { submission_id: s.id, user_id: authorId, body: text, id: c.id });
    return c;
  }

  submissionEvent(s: Submission): Record<string, unknown> {
    return {
      submission_id: s.id, assignment_id: s.assignmentId, user_id: s.userId, attempt: s.attempt, submission_type: s.submissionType, body: s.body, url: s.url,
      submitted_at: s.submittedAt, workflow_state: s.workflowState, score: s.score, grade: s.grade, updated_at: s.updatedAt,
      lti_user_id: this.user(s.userId)?.ltiId ?? null,
    };
  }

  enroll(courseId: number, userId: number, type: EnrollmentType, opts: { state?: EnrollmentState; sectionId?: number } = {}): Enrollment {
    const course = this.course(courseId);
    if (!course) throw new Error(`No course ${courseId}`);
    if (!this.user(userId)) throw new Error(`No user ${userId}`);
    const sectionId = opts.sectionId ?? this.sections.find((s) => s.courseId === courseId)?.id ?? this.addDefaultSection(course).id;
    const existing = this.enrollments.find((e) => e.courseId === courseId && e.userId === userId && e.type === type && e.sectionId === sectionId);
    if (existing) {
      existing.state = opts.state ?? 'active';
      existing.updatedAt = nowIso();
      this.events.emit('enrollment_updated', { ...existing });
      return existing;
    }
    const e: Enrollment = { id: this.nextId('enrollment'), courseId, sectionId, userId, type, state: opts.state ?? 'active', createdAt: nowIso(), updatedAt: nowIso() };
    this.enrollments.push(e);
    this.events.emit('enrollment_updated', { ...e });
    return e;
  }
  addDefaultSection(course: Course): Section {
    const s: Section = { id: this.nextId('section'), courseId: course.id, name: course.name, sisSectionId: null };
    this.sections.push(s);
    return s;
  }
  /** Remove a user from a course (all their enrollments there), as "Remove from course" does. */
  unenroll(courseId: number, userId: number, task: 'delete' | 'conclude' | 'inactivate' = 'delete'): void {
    const state: EnrollmentState = task === 'delete' ? 'deleted' : task === 'conclude' ? 'completed' : 'inactive';
    for (const e of this.enrollments.filter((x) => x.courseId === courseId && x.userId === userId)) {
      e.state = state;
      e.updatedAt = nowIso();
      this.events.emit('enrollment_updated', { ...e });
    }
  }
  deleteModule(moduleId: number): void {
    const m = this.module(moduleId);
    if (!m) throw new Error(`No module ${moduleId}`);
    m.deleted = true;
  }
  deleteAssignment(assignmentId: number): void {
    const a = this.assignment(assignmentId);
    if (!a) throw new Error(`No assignment ${assignmentId}`);
    a.deleted = true;
    this.lineItems = this.lineItems.filter((l) => l.assignmentId !== assignmentId);
    this.moduleItems = this.moduleItems.filter((i) => !(i.type === 'Assignment' && i.contentId === assignmentId));
  }

  addModuleItem(moduleId: number, item: Partial<ModuleItem> & { title: string; type: ModuleItemType }): ModuleItem {
    const m = this.module(moduleId);
    if (!m) throw new Error(`No module ${moduleId}`);
    const position = item.position ?? this.itemsOf(moduleId).length + 1;
    const mi: ModuleItem = {
      id: item.id ?? this.nextId('moduleItem'), moduleId, courseId: m.courseId, position, title: item.title, type: item.type, indent: item.indent ?? 0,
      contentId: item.contentId ?? null, pageUrl: item.pageUrl ?? null, externalUrl: item.externalUrl ?? null, newTab: item.newTab ?? false,
      published: item.published ?? true, completionRequirement: item.completionRequirement ?? null, toolId: item.toolId ?? null, resourceLinkId: item.resourceLinkId ?? null,
    };
    this.moduleItems.push(mi);
    return mi;
  }
}

export function formatGrade(a: Assignment, score: number): string {
  if (a.gradingType === 'pass_fail') return score > 0 ? 'complete' : 'incomplete';
  if (a.gradingType === 'percent') return `${a.pointsPossible ? Math.round((score / a.pointsPossible) * 10000) / 100 : 0}%`;
  return String(Math.round(score * 100) / 100);
}

/** Canvas's `posted_grade`: points, "85%", or pass/complete/fail/incomplete. */
export function parsePostedGrade(a: Assignment, posted: string): number | null {
  const t = posted.trim();
  if (t === '') return null;
  if (/^(pass|complete)$/i.test(t)) return a.pointsPossible;
  if (/^(fail|incomplete)$/i.test(t)) return 0;
  const pct = /^(-?\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) return (Number(pct[1]) / 100) * a.pointsPossible;
  const n = Number(t);
  if (Number.isFinite(n)) return n;
  throw new Error(`invalid posted_grade ${posted}`);
}
