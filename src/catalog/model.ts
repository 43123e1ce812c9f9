import { z } from 'zod';
import { InvalidInputError } from '../web/errors';

/**
 * The shapes of the catalog, as zod schemas: request bodies are parsed with them, the OpenAPI document is
 * generated from them, and the jsonb columns hold exactly these types.
 */

export const EVIDENCE_KINDS = ['text', 'file', 'url', 'media'] as const;

/** OB 3.0's AchievementType vocabulary; it is extensible with an `ext:` prefix. */
export const ACHIEVEMENT_TYPES = [
  'Achievement', 'ApprenticeshipCertificate', 'Assessment', 'Assignment', 'AssociateDegree', 'Award', 'Badge', 'BachelorDegree',
  'Certificate', 'CertificateOfCompletion', 'Certification', 'CommunityService', 'Competency', 'Course', 'CoCurricular', 'Degree',
  'Diploma', 'DoctoralDegree', 'Fieldwork', 'GeneralEducationDevelopment', 'JourneymanCertificate', 'LearningProgram', 'License',
  'Membership', 'ProfessionalDoctorate', 'QualityAssuranceCredential', 'MasterCertificate', 'MasterDegree', 'MicroCredential',
  'ResearchDoctorate', 'SecondarySchoolDiploma',
] as const;

const text = (max: number, empty: string) => z.string({ error: empty }).trim().min(1, { error: empty }).max(max, { error: `Keep this under ${max} characters.` });
const optionalText = (max: number) => z.string().trim().max(max, { error: `Keep this under ${max} characters.` }).default('');
const id = z.string().trim().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'Use 1–64 letters, digits, dots, dashes or underscores.' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'Enter a web address starting with https:// or http://.' });

export const EvidencePromptSchema = z.object({
  prompt: text(2000, 'Say what the earner should submit.'),
  kinds: z.array(z.enum(EVIDENCE_KINDS, { error: 'Kinds are text, file, url or media.' })).min(1, { error: 'Accept at least one kind of evidence.' }),
});

export const RubricLevelSchema = z.object({
  id,
  name: text(80, 'Name every level (for example “Meets”).'),
  points: z.number({ error: 'Points must be a number.' }).min(0, { error: 'Points cannot be negative.' }).max(1000),
  descriptor: optionalText(2000),
});

export const RubricCriterionSchema = z.object({
  id,
  title: text(200, 'Give every criterion a title.'),
  description: optionalText(2000),
  levels: z.array(RubricLevelSchema).min(1, { error: 'A criterion needs at least one level.' }).max(10),
  /** The lowest level that meets the bar for this criterion (OB 3.0's ResultDescription.requiredLevel). */
  requiredLevelId: id.optional(),
});

export const RubricSchema = z.object({
  criteria: z.array(RubricCriterionSchema).max(20, { error: 'Keep the rubric to 20 criteria or fewer.' }),
});

export const PassingRuleSchema = z.discriminatedUnion('kind', [
  /** Every criterion scored at or above its required level. */
  z.object({ kind: z.literal('every_criterion') }),
  /** The total of the points reaches the threshold. */
  z.object({ kind: z.literal('total'), threshold: z.number().min(0, { error: 'The threshold cannot be negative.' }) }),
], { error: 'The passing rule is every_criterion or total.' });

export const AlignmentSchema = z.object({
  framework: text(200, 'Name the framework (for example “ISTE Standards for Educators”).'),
  code: z.string().trim().max(64).optional(),
  name: text(500, 'Name the standard this aligns to.'),
  url: httpUrl,
});

export const BadgeDesignSchema = z.discriminatedUnion('kind', [
  /** A badge drawn by microcred from the name, with an optional level line (“Level I”) and colour. */
  z.object({
    kind: z.literal('generated'),
    level: z.string().trim().max(40).optional(),
    color: z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'Use a colour like #2D3B45.' }).optional(),
  }),
  /** An uploaded PNG or SVG (see images.ts). */
  z.object({ kind: z.literal('upload'), imageId: z.uuid({ error: 'Upload the image first and use its id.' }) }),
]);

export const AchievementTypeSchema = z.union([z.enum(ACHIEVEMENT_TYPES), z.string().regex(/^ext:[A-Za-z0-9]+$/)], {
  error: 'Use an Open Badges achievement type such as MicroCredential, Badge, Competency or Certificate.',
});

export const CredentialDefinitionSchema = z.object({
  name: text(200, 'Give the micro-credential a name.'),
  competency: text(2000, 'State the competency the earner demonstrates.'),
  description: optionalText(5000),
  keyMethod: optionalText(5000),
  criteriaNarrative: text(20000, 'Describe, in a few sentences, what earning it takes.'),
  evidencePrompts: z.array(EvidencePromptSchema).max(20).default([]),
  rubric: RubricSchema,
  passingRule: PassingRuleSchema.default({ kind: 'every_criterion' }),
  hours: z.number({ error: 'Hours must be a number.' }).min(0, { error: 'Hours cannot be negative.' }).max(1000, { error: 'Hours must be 1000 or fewer.' }),
  alignments: z.array(AlignmentSchema).max(50).default([]),
  tags: z.array(z.string().trim().min(1).max(50)).max(30).default([]),
  achievementType: AchievementTypeSchema.default('MicroCredential'),
  /** null: never expires. */
  expiryMonths: z.number().int({ error: 'Use a whole number of months.' }).min(1, { error: 'Expiry is at least 1 month (or none).' }).max(240).nullable().default(null),
  image: BadgeDesignSchema.default({ kind: 'generated' }),
});

export const StackMemberInputSchema = z.object({
  credentialId: z.uuid({ error: 'Choose a micro-credential.' }),
  /** Micro-credential ids of other members an earner must hold first. */
  prerequisiteIds: z.array(z.uuid()).default([]),
});

export const StackInputSchema = z.object({
  name: text(200, 'Give the stack a name.'),
  description: optionalText(5000),
  kind: z.enum(['ordered', 'n_of_m'], { error: 'A stack is ordered or n_of_m.' }),
  requiredCount: z.number().int().min(1).nullable().default(null),
  members: z.array(StackMemberInputSchema),
  image: BadgeDesignSchema.default({ kind: 'generated' }),
});

export const IssuerProfileSchema = z.object({
  name: text(200, 'Give the district’s name.'),
  url: httpUrl,
  email: z.email({ error: 'Enter an email address.' }),
  description: optionalText(2000),
  imageId: z.uuid().nullable().default(null),
});

export const ImageUploadSchema = z.object({
  contentType: z.enum(['image/png', 'image/svg+xml'], { error: 'Upload a PNG or an SVG image.' }),
  base64: z.string().min(1, { error: 'Choose a file.' }),
});

export const AttachInputSchema = z.object({
  moduleIds: z.array(z.string().regex(/^\d{1,20}$/, { error: 'Canvas module ids are digits.' })).min(1, { error: 'Choose at least one module.' }).max(100),
  assignmentId: z.string().regex(/^\d{1,20}$/, { error: 'Choose the evidence assignment.' }),
  /** Replace the micro-credential's rubric with the assignment's Canvas rubric (drafts only). */
  importRubric: z.boolean().default(false),
});

export const ListQuerySchema = z.object({
  q: z.string().trim().max(200).optional(),
  tag: z.string().trim().max(50).optional(),
  state: z.enum(['draft', 'published', 'retired']).optional(),
  course: z.enum(['this', 'all']).default('all'),
});

export type EvidencePrompt = z.infer<typeof EvidencePromptSchema>;
export type RubricLevel = z.infer<typeof RubricLevelSchema>;
export type RubricCriterion = z.infer<typeof RubricCriterionSchema>;
export type Rubric = z.infer<typeof RubricSchema>;
export type PassingRule = z.infer<typeof PassingRuleSchema>;
export type Alignment = z.infer<typeof AlignmentSchema>;
export type BadgeDesign = z.infer<typeof BadgeDesignSchema>;
export type CredentialDefinition = z.infer<typeof CredentialDefinitionSchema>;
export type StackInput = z.infer<typeof StackInputSchema>;
export type IssuerProfileInput = z.infer<typeof IssuerProfileSchema>;
export type AttachInput = z.infer<typeof AttachInputSchema>;

/**
 * Parses a request body; every problem becomes a message on its field (`rubric.criteria.0.title`), so a form
 * can show it next to the input.
 */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown, message = 'Some fields need your attention.'): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  throw new InvalidInputError(message, issuesToFields(r.error.issues));
}

export function issuesToFields(issues: readonly z.core.$ZodIssue[], prefix = ''): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const i of issues) {
    const key = prefix + (i.path.length ? i.path.map(String).join('.') : '_');
    // zod's own wording for type errors is for programmers; say it plainly.
    const msg = i.code === 'invalid_type' && i.input === undefined ? requiredMessage(i.message) : i.message;
    fields[key] ??= msg;
  }
  return fields;
}

function requiredMessage(msg: string): string {
  return msg.startsWith('Invalid input') ? 'This is required.' : msg;
}
