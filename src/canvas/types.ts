import { z } from 'zod';

/**
 * Canvas REST response shapes (canvas-lti.md §4), validated on arrival. Objects are loose: Canvas adds fields
 * all the time and extra ones pass through untouched; the fields microcred reads are checked strictly.
 * Ids become strings: Canvas ids are integers that may exceed 2^53 (global ids), and microcred stores them as
 * text everywhere.
 */

export const CanvasId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String);
const Timestamp = z.string().nullable().optional();
const Num = z.number().nullable().optional();

export const UserSchema = z.looseObject({
  id: CanvasId,
  name: z.string(),
  sortable_name: z.string().optional(),
  short_name: z.string().optional(),
  login_id: z.string().nullable().optional(),
  sis_user_id: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  avatar_url: z.string().nullable().optional(),
  enrollments: z.array(z.looseObject({ id: CanvasId, type: z.string(), enrollment_state: z.string().optional(), course_id: CanvasId.optional() })).optional(),
});
export type CanvasUser = z.infer<typeof UserSchema>;

export const CourseSchema = z.looseObject({
  id: CanvasId,
  name: z.string(),
  course_code: z.string().optional(),
  account_id: CanvasId.optional(),
  workflow_state: z.string().optional(),
  html_url: z.string().optional(),
});
export type CanvasCourse = z.infer<typeof CourseSchema>;

export const CompletionRequirementSchema = z.looseObject({
  type: z.string(),
  min_score: Num,
  completed: z.boolean().optional(),
});

export const ModuleItemSchema = z.looseObject({
  id: CanvasId,
  module_id: CanvasId,
  position: z.number().optional(),
  title: z.string(),
  indent: z.number().optional(),
  type: z.string(),
  content_id: CanvasId.optional(),
  html_url: z.string().optional(),
  url: z.string().optional(),
  external_url: z.string().optional(),
  published: z.boolean().optional(),
  completion_requirement: CompletionRequirementSchema.optional(),
  content_details: z.looseObject({}).optional(),
});
export type CanvasModuleItem = z.infer<typeof ModuleItemSchema>;

export const ModuleSchema = z.looseObject({
  id: CanvasId,
  name: z.string(),
  position: z.number().optional(),
  workflow_state: z.string().optional(),
  published: z.boolean().optional(),
  requirement_type: z.enum(['all', 'one']).optional(),
  require_sequential_progress: z.boolean().nullable().optional(),
  prerequisite_module_ids: z.array(CanvasId).optional(),
  items_count: z.number().optional(),
  items_url: z.string().optional(),
  /** Present only with include[]=items, and omitted by Canvas when there are too many. */
  items: z.array(ModuleItemSchema).optional(),
  /** Present for a student caller or with student_id. */
  state: z.enum(['locked', 'unlocked', 'started', 'completed']).optional(),
  completed_at: Timestamp,
});
export type CanvasModule = z.infer<typeof ModuleSchema>;

export const RubricRatingSchema = z.looseObject({
  id: z.string(),
  criterion_id: z.string().optional(),
  description: z.string().nullable().optional(),
  long_description: z.string().nullable().optional(),
  points: z.number(),
});
export const RubricCriterionSchema = z.looseObject({
  id: z.string(),
  description: z.string().nullable().optional(),
  long_description: z.string().nullable().optional(),
  points: z.number(),
  criterion_use_range: z.boolean().optional(),
  ratings: z.array(RubricRatingSchema),
});
export type CanvasRubricCriterion = z.infer<typeof RubricCriterionSchema>;

export const AssignmentSchema = z.looseObject({
  id: CanvasId,
  name: z.string(),
  course_id: CanvasId,
  description: z.string().nullable().optional(),
  points_possible: Num,
  grading_type: z.string().optional(),
  submission_types: z.array(z.string()).optional(),
  published: z.boolean(),
  due_at: Timestamp,
  html_url: z.string().optional(),
  rubric: z.array(RubricCriterionSchema).optional(),
  rubric_settings: z.looseObject({ id: CanvasId.optional(), title: z.string().optional(), points_possible: Num }).optional(),
  use_rubric_for_grading: z.boolean().optional(),
});
export type CanvasAssignment = z.infer<typeof AssignmentSchema>;

export const RubricSchema = z.looseObject({
  id: CanvasId,
  title: z.string(),
  context_id: CanvasId.optional(),
  context_type: z.string().optional(),
  points_possible: Num,
  data: z.array(RubricCriterionSchema).nullable().optional(),
  assessments: z.array(z.looseObject({ id: CanvasId, artifact_id: CanvasId.optional(), score: Num, assessor_id: CanvasId.nullable().optional() })).optional(),
  associations: z.array(z.looseObject({ id: CanvasId, association_id: CanvasId, association_type: z.string(), use_for_grading: z.boolean().optional() })).optional(),
});
export type CanvasRubric = z.infer<typeof RubricSchema>;

export const FileSchema = z.looseObject({
  id: CanvasId,
  display_name: z.string(),
  filename: z.string().optional(),
  'content-type': z.string(),
  url: z.string(),
  size: z.number(),
});
export type CanvasFile = z.infer<typeof FileSchema>;

export const RubricAssessmentEntrySchema = z.looseObject({
  points: Num,
  rating_id: z.string().nullable().optional(),
  comments: z.string().nullable().optional(),
});

export const SubmissionCommentSchema = z.looseObject({
  id: CanvasId,
  author_id: CanvasId.nullable().optional(),
  author_name: z.string().nullable().optional(),
  comment: z.string(),
  created_at: z.string(),
});

const SubmissionBase = z.looseObject({
  id: CanvasId,
  user_id: CanvasId,
  assignment_id: CanvasId,
  attempt: z.number().nullable().optional(),
  submission_type: z.string().nullable().optional(),
  submitted_at: Timestamp,
  body: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
  score: Num,
  grade: z.string().nullable().optional(),
  graded_at: Timestamp,
  grader_id: CanvasId.nullable().optional(),
  workflow_state: z.string(),
  late: z.boolean().optional(),
  missing: z.boolean().optional(),
  excused: z.boolean().nullable().optional(),
  attachments: z.array(FileSchema).optional(),
});
export const SubmissionSchema = SubmissionBase.extend({
  submission_history: z.array(SubmissionBase).optional(),
  submission_comments: z.array(SubmissionCommentSchema).optional(),
  rubric_assessment: z.record(z.string(), RubricAssessmentEntrySchema).optional(),
  user: UserSchema.optional(),
  assignment: AssignmentSchema.optional(),
});
export type CanvasSubmission = z.infer<typeof SubmissionSchema>;

export const UserProgressSchema = z.looseObject({
  id: CanvasId,
  display_name: z.string(),
  progress: z.looseObject({
    requirement_count: z.number(),
    requirement_completed_count: z.number(),
    next_requirement_url: z.string().nullable().optional(),
    completed_at: Timestamp,
  }),
});
export type CanvasUserProgress = z.infer<typeof UserProgressSchema>;

export const EnrollmentSchema = z.looseObject({
  id: CanvasId,
  course_id: CanvasId,
  user_id: CanvasId,
  type: z.string(),
  enrollment_state: z.string(),
  course_section_id: CanvasId.nullable().optional(),
});
export type CanvasEnrollment = z.infer<typeof EnrollmentSchema>;

export const ConversationSchema = z.looseObject({
  id: CanvasId,
  subject: z.string().nullable().optional(),
  participants: z.array(z.looseObject({ id: CanvasId, name: z.string().optional() })).optional(),
});
export type CanvasConversation = z.infer<typeof ConversationSchema>;

/** The token endpoint's answer (authorization_code or refresh_token grant). */
export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
  user: z.looseObject({ id: CanvasId, name: z.string().optional() }).optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;
