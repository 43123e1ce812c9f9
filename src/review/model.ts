import { z } from 'zod';

/** Request shapes of the review (parsed with these; the OpenAPI document is generated from them). */

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);

export const ReviewInputSchema = z.object({
  /** Criterion id → the chosen level id. */
  scores: z.record(id, id).default({}),
  /** Criterion id → a comment for the earner. */
  comments: z.record(id, z.string().max(5000, { error: 'Keep each comment under 5000 characters.' })).default({}),
  feedback: z.string().max(10000, { error: 'Keep the feedback under 10000 characters.' }).default(''),
});

export const DecisionInputSchema = ReviewInputSchema.extend({
  decision: z.enum(['award', 'not_yet'], { error: 'Choose Award or Not yet.' }),
  /** Required when the decision differs from what the passing rule computes. */
  overrideComment: z.string().max(5000).optional(),
});

export const QueueQuerySchema = z.object({
  credential: z.uuid().optional().meta({ description: 'Only this micro-credential.' }),
  course: z.uuid().optional().meta({ description: 'Only this course.' }),
  status: z.enum(['open', 'pending', 'in_review', 'mine', 'decided', 'all']).default('open').meta({ description: 'open (default): waiting and claimed by you; pending; in_review; mine; decided; all.' }),
  age: z.coerce.number().int().min(0).max(3650).optional().meta({ description: 'Only items waiting at least this many days.' }),
  page: z.coerce.number().int().min(1).max(10000).default(1),
});

export const SettingsInputSchema = z.object({
  maxAttempts: z.number().int().min(1, { error: 'At least one attempt.' }).max(20).nullable().default(null),
  blind: z.boolean().default(false),
  secondReview: z.enum(['none', 'all', 'random', 'borderline']).default('none'),
  secondReviewShare: z.number().min(0).max(1).default(0.2),
  excludeSameSection: z.boolean().default(false),
  exemplarThreshold: z.number().min(0).max(1).default(0.8),
});

export const ExemplarInputSchema = z.object({
  itemId: z.uuid({ error: 'Choose the submission to use as an exemplar.' }),
  title: z.string().trim().min(1, { error: 'Give the exemplar a title.' }).max(200),
  /** The agreed scores (criterion id → level id): every criterion. */
  trueScores: z.record(id, id),
});

export const ExemplarAttemptSchema = z.object({ scores: z.record(id, id) });

export const AffiliationInputSchema = z.object({
  userId: z.uuid(),
  courseId: z.uuid(),
  sectionIds: z.array(z.string().max(40)).max(50).default([]),
  school: z.string().trim().max(200).nullable().optional(),
});

export const AssignInputSchema = z.object({ courseId: z.uuid().optional(), limit: z.number().int().min(1).max(1000).default(200) });

export type ReviewInput = z.infer<typeof ReviewInputSchema>;
export type DecisionInput = z.infer<typeof DecisionInputSchema>;
export type QueueQuery = z.infer<typeof QueueQuerySchema>;
export type SettingsInput = z.infer<typeof SettingsInputSchema>;

/** The HTML form's field names (`score-<criterion>`, `comment-<criterion>`) as the API's shape. */
export function formToInput(body: Record<string, unknown>): Record<string, unknown> {
  const scores: Record<string, string> = {};
  const comments: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v !== 'string') continue;
    if (k.startsWith('score-') && v) scores[k.slice(6)] = v;
    if (k.startsWith('comment-') && v.trim()) comments[k.slice(8)] = v;
  }
  return {
    scores,
    comments,
    feedback: typeof body.feedback === 'string' ? body.feedback : '',
    ...(typeof body.decision === 'string' && body.decision !== 'draft' ? { decision: body.decision } : {}),
    ...(typeof body.overrideComment === 'string' ? { overrideComment: body.overrideComment } : {}),
  };
}
