import { z } from 'zod';
import { CredentialDefinitionSchema, EvidencePromptSchema, PassingRuleSchema, BadgeDesignSchema, type CredentialDefinition, type Rubric } from './model';
import { ceus } from './rules';

/**
 * A micro-credential as an Open Badges 3.0 `Achievement` (research/openbadges.md §1.1), and back.
 *
 * Mapping: name, description, criteria.narrative, achievementType, tag, alignment[] and image map one to one.
 * `creditsAvailable` is a Float of *credits*, so it carries CEUs (hours / 10), not hours. The rubric becomes one
 * `ResultDescription` per criterion (resultType RubricCriterionLevel, its levels as rubricCriterionLevel[], the
 * passing level as requiredLevel). What OB has no place for (competency statement, key method, evidence prompts,
 * passing rule, exact hours, expiry, criterion descriptions, the generated design) travels in the `microcred`
 * extension object, so export → import keeps everything; an Achievement from elsewhere imports without it.
 */

export const EXTENSION_VERSION = 1;

export interface AchievementJson {
  id: string;
  type: ['Achievement'];
  name: string;
  description: string;
  criteria: { id?: string; narrative?: string };
  achievementType?: string;
  creditsAvailable?: number;
  humanCode?: string;
  version?: string;
  alignment?: { type: ['Alignment']; targetName: string; targetUrl: string; targetCode?: string; targetFramework?: string }[];
  resultDescription?: {
    id: string;
    type: ['ResultDescription'];
    name: string;
    resultType: 'RubricCriterionLevel';
    allowedValue?: string[];
    requiredLevel?: string;
    rubricCriterionLevel: { id: string; type: ['RubricCriterionLevel']; name: string; description?: string; points?: string }[];
  }[];
  tag?: string[];
  image?: { id: string; type: 'Image'; caption?: string };
  microcred?: MicrocredExtension;
}

interface MicrocredExtension {
  version: number;
  competency: string;
  description: string;
  keyMethod: string;
  evidencePrompts: CredentialDefinition['evidencePrompts'];
  passingRule: CredentialDefinition['passingRule'];
  hours: number;
  expiryMonths: number | null;
  criteria: Record<string, { description: string }>;
  design: CredentialDefinition['image'];
}

/** `id` is where the achievement lives (a URI); `imageDataUri` the badge bytes, so the export stands alone. */
export function toAchievement(def: CredentialDefinition, o: { id: string; key: string; version: number; imageDataUri: string }): AchievementJson {
  const crit = (cid: string) => `${o.id}/criteria/${cid}`;
  return {
    id: o.id,
    type: ['Achievement'],
    name: def.name,
    // OB requires a description; the competency statement stands in when there is none.
    description: def.description || def.competency,
    criteria: { narrative: def.criteriaNarrative },
    achievementType: def.achievementType,
    creditsAvailable: ceus(def.hours),
    humanCode: o.key,
    version: String(o.version),
    alignment: def.alignments.map((a) => ({ type: ['Alignment'], targetName: a.name, targetUrl: a.url, ...(a.code ? { targetCode: a.code } : {}), targetFramework: a.framework })),
    resultDescription: def.rubric.criteria.map((c) => ({
      id: crit(c.id),
      type: ['ResultDescription'],
      name: c.title,
      resultType: 'RubricCriterionLevel',
      allowedValue: c.levels.map((l) => l.name),
      ...(c.requiredLevelId ? { requiredLevel: `${crit(c.id)}/levels/${c.requiredLevelId}` } : {}),
      rubricCriterionLevel: c.levels.map((l) => ({ id: `${crit(c.id)}/levels/${l.id}`, type: ['RubricCriterionLevel'], name: l.name, description: l.descriptor, points: String(l.points) })),
    })),
    tag: def.tags,
    image: { id: o.imageDataUri, type: 'Image', caption: def.name },
    microcred: {
      version: EXTENSION_VERSION,
      competency: def.competency,
      description: def.description,
      keyMethod: def.keyMethod,
      evidencePrompts: def.evidencePrompts,
      passingRule: def.passingRule,
      hours: def.hours,
      expiryMonths: def.expiryMonths,
      criteria: Object.fromEntries(def.rubric.criteria.map((c) => [c.id, { description: c.description }])),
      design: def.image,
    },
  };
}

const Single = <T extends z.ZodType>(s: T) => z.union([s, z.array(s)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** What we read from an Achievement: OB's required parts strictly, the rest leniently. */
export const AchievementInputSchema = z.object({
  id: z.string().optional(),
  type: Single(z.string()).refine((t) => t.includes('Achievement'), { error: 'This is not an Open Badges Achievement (its type must include "Achievement").' }),
  name: z.string(),
  description: z.string().default(''),
  criteria: z.object({ id: z.string().optional(), narrative: z.string().optional() }).default({}),
  achievementType: z.string().optional(),
  creditsAvailable: z.number().min(0).optional(),
  alignment: z.array(z.object({ targetName: z.string(), targetUrl: z.string(), targetCode: z.string().optional(), targetFramework: z.string().optional() })).default([]),
  resultDescription: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        resultType: z.string().optional(),
        requiredLevel: z.string().optional(),
        rubricCriterionLevel: z.array(z.object({ id: z.string(), name: z.string(), description: z.string().optional(), points: z.union([z.string(), z.number()]).optional() })).default([]),
      }),
    )
    .default([]),
  tag: z.array(z.string()).default([]),
  image: z.union([z.string(), z.object({ id: z.string() })]).optional(),
  microcred: z
    .object({
      version: z.number(),
      competency: z.string(),
      description: z.string(),
      keyMethod: z.string(),
      evidencePrompts: z.array(EvidencePromptSchema),
      passingRule: PassingRuleSchema,
      hours: z.number(),
      expiryMonths: z.number().nullable(),
      criteria: z.record(z.string(), z.object({ description: z.string() })),
      design: BadgeDesignSchema,
    })
    .optional(),
});
export type AchievementInput = z.infer<typeof AchievementInputSchema>;

/** The last segment of an id URI (…/criteria/c1 → c1) when it makes a usable id. */
function tail(uri: string, fallback: string): string {
  const t = uri.split(/[/#:]/).pop() ?? '';
  return /^[A-Za-z0-9_.-]{1,64}$/.test(t) ? t : fallback;
}

/**
 * An Achievement back to a definition (not yet validated: the caller runs it through the same checks as a form).
 * `imageId` is the uploaded copy of the Achievement's image, when it had one we could keep.
 */
export function fromAchievement(a: AchievementInput, imageId: string | null): unknown {
  const ext = a.microcred;
  const rubric: Rubric = {
    criteria: a.resultDescription.map((rd, i) => {
      const id = tail(rd.id, `c${i + 1}`);
      const levels = rd.rubricCriterionLevel.map((l, j) => ({ id: tail(l.id, `l${j + 1}`), name: l.name, points: Number(l.points ?? 0) || 0, descriptor: l.description ?? '' }));
      const required = rd.requiredLevel ? rd.rubricCriterionLevel.findIndex((l) => l.id === rd.requiredLevel) : -1;
      // Without a requiredLevel, the lowest level worth points is the bar, as for an imported Canvas rubric.
      const fallback = levels.filter((l) => l.points > 0).sort((x, y) => x.points - y.points)[0];
      return { id, title: rd.name, description: ext?.criteria[id]?.description ?? '', levels, requiredLevelId: required >= 0 ? levels[required]!.id : fallback?.id };
    }),
  };
  const design = ext?.design.kind === 'generated' ? ext.design : imageId ? { kind: 'upload' as const, imageId } : { kind: 'generated' as const };
  const def: Record<string, unknown> = {
    name: a.name,
    competency: ext?.competency ?? a.description,
    description: ext?.description ?? a.description,
    keyMethod: ext?.keyMethod ?? '',
    criteriaNarrative: a.criteria.narrative ?? (a.criteria.id ? `See ${a.criteria.id}` : ''),
    evidencePrompts: ext?.evidencePrompts ?? [],
    rubric,
    passingRule: ext?.passingRule ?? { kind: 'every_criterion' },
    hours: ext?.hours ?? (a.creditsAvailable !== undefined ? Math.round(a.creditsAvailable * 10 * 100) / 100 : 0),
    alignments: a.alignment.map((x) => ({ framework: x.targetFramework ?? 'Unspecified framework', ...(x.targetCode ? { code: x.targetCode } : {}), name: x.targetName, url: x.targetUrl })),
    tags: a.tag,
    achievementType: a.achievementType ?? 'MicroCredential',
    expiryMonths: ext?.expiryMonths ?? null,
    image: design,
  };
  return def;
}

export { CredentialDefinitionSchema };
