import type { SandboxContext } from '../context';
import type { Assignment, Attachment, Conversation, Course, Enrollment, Module, ModuleItem, Rubric, Section, Submission, User } from '../store';

/** Canvas REST JSON shapes (canvas-lti.md §4.1–4.3), built from the sandbox records. */

export function userJson(u: User, o: { email?: boolean; enrollments?: Enrollment[]; ctx?: SandboxContext } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: u.id, name: u.name, created_at: u.createdAt, sortable_name: u.sortableName, short_name: u.shortName, sis_user_id: u.sisUserId,
    integration_id: null, login_id: u.loginId, avatar_url: u.avatarUrl, locale: null, effective_locale: 'en', time_zone: u.timeZone,
  };
  if (o.email) out.email = u.email;
  if (o.enrollments && o.ctx) out.enrollments = o.enrollments.map((e) => enrollmentJson(o.ctx as SandboxContext, e));
  return out;
}

export function enrollmentJson(ctx: SandboxContext, e: Enrollment): Record<string, unknown> {
  const u = ctx.data.user(e.userId);
  const role = e.type;
  return {
    id: e.id, course_id: e.courseId, course_section_id: e.sectionId, user_id: e.userId, type: e.type, role, role_id: ['StudentEnrollment', 'TeacherEnrollment', 'TaEnrollment', 'DesignerEnrollment', 'ObserverEnrollment'].indexOf(e.type) + 3,
    enrollment_state: e.state, created_at: e.createdAt, updated_at: e.updatedAt, limit_privileges_to_course_section: false, root_account_id: ctx.data.course(e.courseId)?.accountId ?? 1,
    html_url: ctx.url(`/courses/${e.courseId}/users/${e.userId}`), associated_user_id: null,
    user: u ? { id: u.id, name: u.name, sortable_name: u.sortableName, short_name: u.shortName, login_id: u.loginId, sis_user_id: u.sisUserId } : undefined,
  };
}

export function courseJson(ctx: SandboxContext, c: Course, viewerEnrollments: Enrollment[]): Record<string, unknown> {
  return {
    id: c.id, name: c.name, course_code: c.courseCode, account_id: c.accountId, root_account_id: c.accountId, enrollment_term_id: 1, uuid: c.uuid,
    start_at: c.startAt, end_at: c.endAt, created_at: '2024-07-01T12:00:00Z', workflow_state: c.workflowState, default_view: 'modules', sis_course_id: c.sisCourseId,
    integration_id: null, is_public: false, public_description: null, time_zone: c.timeZone, license: 'private', grading_standard_id: null, hide_final_grades: false,
    apply_assignment_group_weights: false, restrict_enrollments_to_course_dates: false, calendar: { ics: ctx.url(`/feeds/calendars/course_${c.uuid}.ics`) },
    enrollments: viewerEnrollments.map((e) => ({ type: e.type.replace('Enrollment', '').toLowerCase(), role: e.type, role_id: 3, user_id: e.userId, enrollment_state: e.state, limit_privileges_to_course_section: false })),
    html_url: ctx.url(`/courses/${c.id}`),
  };
}

export function sectionJson(ctx: SandboxContext, s: Section): Record<string, unknown> {
  return {
    id: s.id, name: s.name, course_id: s.courseId, sis_section_id: s.sisSectionId, integration_id: null, start_at: null, end_at: null, restrict_enrollments_to_section_dates: null,
    nonxlist_course_id: null, total_students: ctx.data.enrollments.filter((e) => e.sectionId === s.id && e.type === 'StudentEnrollment' && e.state === 'active').length,
  };
}

export function itemJson(ctx: SandboxContext, i: ModuleItem, o: { studentId?: number; contentDetails?: boolean }): Record<string, unknown> {
  const d = ctx.data;
  const out: Record<string, unknown> = {
    id: i.id, module_id: i.moduleId, position: i.position, title: i.title, indent: i.indent, type: i.type, content_id: i.contentId ?? undefined,
    html_url: ctx.url(`/courses/${i.courseId}/modules/items/${i.id}`), published: i.published, quiz_lti: false,
  };
  if (i.type === 'Assignment' && i.contentId !== null) out.url = ctx.url(`/api/v1/courses/${i.courseId}/assignments/${i.contentId}`);
  if (i.type === 'Page' && i.pageUrl) {
    out.page_url = i.pageUrl;
    out.url = ctx.url(`/api/v1/courses/${i.courseId}/pages/${i.pageUrl}`);
  }
  if (i.type === 'ExternalUrl' || i.type === 'ExternalTool') {
    out.external_url = i.externalUrl;
    out.new_tab = i.newTab;
  }
  if (i.type === 'ExternalTool') out.url = ctx.url(`/api/v1/courses/${i.courseId}/external_tools/sessionless_launch?launch_type=module_item&module_item_id=${i.id}`);
  if (i.completionRequirement) {
    const req: Record<string, unknown> = { type: i.completionRequirement.type };
    if (i.completionRequirement.type === 'min_score') req.min_score = i.completionRequirement.minScore;
    if (o.studentId !== undefined) req.completed = d.itemCompletion(i, o.studentId).completed;
    out.completion_requirement = req;
  }
  if (o.contentDetails) {
    const details: Record<string, unknown> = {};
    if (i.type === 'Assignment' && i.contentId !== null) {
      const a = d.assignment(i.contentId);
      if (a) Object.assign(details, { points_possible: a.pointsPossible, due_at: a.dueAt, unlock_at: a.unlockAt, lock_at: a.lockAt });
    }
    if (o.studentId !== undefined) {
      const m = d.module(i.moduleId);
      const locked = m ? d.moduleState(m, o.studentId).state === 'locked' : false;
      Object.assign(details, { locked_for_user: locked });
    }
    out.content_details = details;
  }
  return out;
}

export function moduleJson(ctx: SandboxContext, m: Module, o: { items?: ModuleItem[]; studentId?: number; contentDetails?: boolean }): Record<string, unknown> {
  const d = ctx.data;
  const items = d.itemsOf(m.id);
  const out: Record<string, unknown> = {
    id: m.id, workflow_state: 'active', position: m.position, name: m.name, unlock_at: m.unlockAt, require_sequential_progress: m.requireSequentialProgress,
    requirement_type: m.requirementType, prerequisite_module_ids: m.prerequisiteModuleIds, items_count: items.length,
    items_url: ctx.url(`/api/v1/courses/${m.courseId}/modules/${m.id}/items`), publish_final_grade: false, published: m.published,
  };
  if (o.items) out.items = o.items.map((i) => itemJson(ctx, i, o));
  if (o.studentId !== undefined) {
    const st = d.moduleState(m, o.studentId);
    out.state = st.state;
    out.completed_at = st.completedAt;
  }
  return out;
}

export function rubricCriteriaJson(r: Rubric): Record<string, unknown>[] {
  return r.criteria.map((c) => ({
    id: c.id, description: c.description, long_description: c.longDescription, points: c.points, criterion_use_range: c.criterionUseRange,
    ratings: c.ratings.map((x) => ({ id: x.id, criterion_id: c.id, description: x.description, long_description: x.longDescription, points: x.points })),
  }));
}

export function assignmentJson(ctx: SandboxContext, a: Assignment): Record<string, unknown> {
  const d = ctx.data;
  const out: Record<string, unknown> = {
    id: a.id, name: a.name, description: a.description, course_id: a.courseId, points_possible: a.pointsPossible, grading_type: a.gradingType,
    submission_types: a.submissionTypes, published: a.published, workflow_state: a.published ? 'published' : 'unpublished', due_at: a.dueAt, unlock_at: a.unlockAt, lock_at: a.lockAt,
    position: a.position, created_at: a.createdAt, updated_at: a.updatedAt, allowed_attempts: a.allowedAttempts, assignment_group_id: 1, has_submitted_submissions: d.submissions.some((s) => s.assignmentId === a.id && s.submittedAt),
    html_url: ctx.url(`/courses/${a.courseId}/assignments/${a.id}`), submissions_download_url: ctx.url(`/courses/${a.courseId}/assignments/${a.id}/submissions?zip=1`),
    muted: false, anonymous_grading: false, moderated_grading: false, peer_reviews: false, post_manually: false, only_visible_to_overrides: false, omit_from_final_grade: false,
    grading_standard_id: null, lti_context_id: a.externalTool?.resourceLinkId ?? null,
  };
  if (a.externalTool) out.external_tool_tag_attributes = { url: a.externalTool.url, new_tab: a.externalTool.newTab, resource_link_id: a.externalTool.resourceLinkId, content_id: a.externalTool.toolId, content_type: 'ContextExternalTool' };
  const rubric = a.rubricId !== null ? d.rubric(a.rubricId) : undefined;
  const assoc = d.rubricAssociations.find((x) => x.id === a.rubricAssociationId);
  if (rubric && assoc) {
    out.use_rubric_for_grading = assoc.useForGrading;
    out.free_form_criterion_comments = rubric.freeFormCriterionComments;
    out.rubric = rubricCriteriaJson(rubric);
    out.rubric_settings = { id: rubric.id, title: rubric.title, points_possible: rubric.pointsPossible, free_form_criterion_comments: rubric.freeFormCriterionComments, hide_score_total: assoc.hideScoreTotal, hide_points: assoc.hidePoints };
  }
  return out;
}

export function fileJson(ctx: SandboxContext, f: Attachment): Record<string, unknown> {
  const mimeClass = f.contentType === 'application/pdf' ? 'pdf' : f.contentType.startsWith('image/') ? 'image' : f.contentType.startsWith('text/') ? 'text' : 'file';
  return {
    id: f.id, uuid: f.uuid, folder_id: null, display_name: f.displayName, filename: f.filename, 'content-type': f.contentType,
    url: ctx.url(`/files/${f.id}/download?download_frd=1&verifier=${f.verifier}`), size: f.size, created_at: f.createdAt, updated_at: f.createdAt, modified_at: f.createdAt,
    unlock_at: null, lock_at: null, locked: false, hidden: false, locked_for_user: false, hidden_for_user: false, thumbnail_url: null, mime_class: mimeClass,
    media_entry_id: null, preview_url: null,
  };
}

export function submissionJson(ctx: SandboxContext, s: Submission, include: string[]): Record<string, unknown> {
  const d = ctx.data;
  const a = d.assignment(s.assignmentId);
  const base = (v: { attempt: number; submissionType: string | null; body: string | null; url: string | null; attachmentIds: number[]; submittedAt: string | null; score: number | null; grade: string | null; gradedAt: string | null; workflowState: string }): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      id: s.id, user_id: s.userId, assignment_id: s.assignmentId, url: v.url, score: v.score, grade: v.grade, entered_score: v.score, entered_grade: v.grade, excused: s.excused,
      attempt: v.attempt === 0 ? null : v.attempt, submission_type: v.submissionType, submitted_at: v.submittedAt, body: v.body, graded_at: v.gradedAt,
      grade_matches_current_submission: s.gradeMatchesCurrentSubmission, grader_id: s.graderId, workflow_state: v.workflowState, posted_at: s.postedAt,
      late_policy_status: null, points_deducted: null, grading_period_id: null, cached_due_date: a?.dueAt ?? null,
      late: !!(a?.dueAt && v.submittedAt && v.submittedAt > a.dueAt), missing: false, seconds_late: 0,
      preview_url: ctx.url(`/courses/${a?.courseId ?? 0}/assignments/${s.assignmentId}/submissions/${s.userId}?preview=1&version=${v.attempt}`),
    };
    if (v.attachmentIds.length) out.attachments = v.attachmentIds.map((id) => d.attachment(id)).filter((f): f is Attachment => !!f).map((f) => fileJson(ctx, f));
    return out;
  };
  const out = base(s);
  if (include.includes('submission_history')) out.submission_history = (s.history.length ? s.history : [{ ...s }]).map((h) => base(h));
  if (include.includes('submission_comments')) {
    out.submission_comments = d.comments.filter((c) => c.submissionId === s.id).map((c) => ({
      id: c.id, author_id: c.authorId, author_name: c.authorName, comment: c.comment, created_at: c.createdAt, edited_at: null, attempt: c.attempt,
      author: c.authorId === null ? {} : { id: c.authorId, display_name: c.authorName, avatar_image_url: d.user(c.authorId)?.avatarUrl, html_url: ctx.url(`/courses/${a?.courseId ?? 0}/users/${c.authorId}`) },
    }));
  }
  if (include.includes('rubric_assessment')) {
    const ra = d.rubricAssessments.filter((x) => x.submissionId === s.id).sort((x, y) => y.updatedAt.localeCompare(x.updatedAt))[0];
    if (ra) out.rubric_assessment = Object.fromEntries(Object.entries(ra.data).map(([k, v]) => [k, { rating_id: v.rating_id, comments: v.comments, points: v.points }]));
  }
  if (include.includes('user')) {
    const u = d.user(s.userId);
    if (u) out.user = userJson(u);
  }
  if (include.includes('assignment') && a) out.assignment = assignmentJson(ctx, a);
  return out;
}

export function conversationJson(ctx: SandboxContext, c: Conversation, viewerId: number): Record<string, unknown> {
  const last = c.messages[c.messages.length - 1];
  return {
    id: c.id, subject: c.subject, workflow_state: 'read', last_message: last?.body ?? null, last_message_at: last?.createdAt ?? null, message_count: c.messages.length,
    subscribed: true, private: c.participantIds.length === 2, starred: false, properties: c.messages.some((m) => m.authorId === viewerId) ? ['last_author'] : [],
    audience: c.participantIds.filter((p) => p !== viewerId), context_code: c.contextCode,
    participants: c.participantIds.map((p) => ({ id: p, name: ctx.data.user(p)?.name ?? '' })),
    messages: [...c.messages].reverse().map((m) => ({ id: m.id, author_id: m.authorId, body: m.body, created_at: m.createdAt, generated: false, media_comment: null, forwarded_messages: [], attachments: [], participating_user_ids: c.participantIds })),
  };
}
