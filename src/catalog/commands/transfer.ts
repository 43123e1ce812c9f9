import { z } from 'zod';
import type { SessionContext } from '../../lti/sessions';
import { can } from '../../policies';
import { InvalidInputError } from '../../web/errors';
import { checkImage } from '../images';
import { CredentialDefinitionSchema, issuesToFields } from '../model';
import { AchievementInputSchema, fromAchievement, toAchievement, type AchievementJson } from '../ob3';
import { definitionOf } from '../presenters';
import { validateRubric } from '../rules';
import { insertDraft, viewCredential, type CredentialView } from './credentials';
import { renderDesign } from './images';
import { inTransaction, repoOf, requireCourse, visibilityFor, type CatalogDeps } from './common';

export interface AchievementExport {
  format: 'microcred.achievements';
  version: 1;
  exportedAt: string;
  achievements: AchievementJson[];
}

/**
 * Exports micro-credentials as Open Badges 3.0 Achievements, so districts can share definitions: the named ones
 * (`ids`), or every published one this person can see. Each Achievement is the version earners see; its id is
 * that version's URL, and its image travels inline as a data URI.
 */
export async function exportAchievements(deps: CatalogDeps, ctx: SessionContext, ids?: string[]): Promise<AchievementExport> {
  const repo = repoOf(deps);
  const rows = ids?.length
    ? (await repo.credentialsByIds(ctx.tenant.id, ids)).filter((r) => can(ctx, 'credential.view', r.credential))
    : await repo.listCredentials(ctx.tenant.id, visibilityFor(ctx), { state: 'published' });
  const achievements: AchievementJson[] = [];
  for (const r of rows) {
    const def = definitionOf(r.version);
    const img = await renderDesign(repo, ctx.tenant.id, def.image, def.name);
    achievements.push(toAchievement(def, { id: `${deps.publicUrl}/achievements/${r.version.id}`, key: r.credential.key, version: r.version.version, imageDataUri: `data:${img.contentType};base64,${img.bytes.toString('base64')}` }));
  }
  return { format: 'microcred.achievements', version: 1, exportedAt: new Date().toISOString(), achievements };
}

const ImportBodySchema = z.union([z.object({ achievements: z.array(z.unknown()).min(1).max(100) }), z.array(z.unknown()).min(1).max(100)]);

/**
 * Imports Achievements (our export, or any OB 3.0 Achievement) as drafts of this course. All or nothing: one bad
 * Achievement names its fields (`achievements.2.rubric.criteria`) and nothing is created.
 */
export async function importAchievements(deps: CatalogDeps, ctx: SessionContext, body: unknown): Promise<CredentialView[]> {
  const course = requireCourse(ctx);
  const parsed = ImportBodySchema.safeParse(body);
  if (!parsed.success) throw new InvalidInputError('Send {"achievements": [...]} with 1 to 100 Open Badges Achievements.', { achievements: 'Send 1 to 100 Achievements.' });
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.achievements;
  return inTransaction(deps, async (repo) => {
    const fields: Record<string, string> = {};
    const defs = [];
    for (const [i, raw] of list.entries()) {
      const at = `achievements.${i}.`;
      const a = AchievementInputSchema.safeParse(raw);
      if (!a.success) {
        Object.assign(fields, issuesToFields(a.error.issues, at));
        continue;
      }
      const imageId = await importImage(repo, ctx, a.data.image, at, fields);
      const def = CredentialDefinitionSchema.safeParse(fromAchievement(a.data, imageId));
      if (!def.success) {
        Object.assign(fields, issuesToFields(def.error.issues, at));
        continue;
      }
      const rubricProblems = validateRubric(def.data.rubric, def.data.passingRule);
      for (const [k, v] of Object.entries(rubricProblems)) fields[at + k] = v;
      defs.push(def.data);
    }
    if (Object.keys(fields).length) throw new InvalidInputError('Some Achievements cannot be imported.', fields);
    const out: CredentialView[] = [];
    for (const def of defs) out.push(await viewCredential(repo, ctx, await insertDraft(repo, ctx, course.id, def, null)));
    return out;
  });
}

async function importImage(repo: Parameters<Parameters<typeof inTransaction>[1]>[0], ctx: SessionContext, image: string | { id: string } | undefined, at: string, fields: Record<string, string>): Promise<string | null> {
  const uri = typeof image === 'string' ? image : image?.id;
  const m = uri ? /^data:(image\/png|image\/svg\+xml)(?:;[^,;]*)*;base64,([A-Za-z0-9+/=\s]+)$/.exec(uri) : null;
  // An image by URL is not fetched (no requests to addresses from an upload); the generated design stands in.
  if (!m) return null;
  try {
    const checked = checkImage(m[1] as 'image/png' | 'image/svg+xml', Buffer.from(m[2]!, 'base64'));
    const row = await repo.insertImage(ctx.tenant.id, { contentType: checked.contentType, bytes: checked.bytes, sha256: checked.sha256, width: checked.width, height: checked.height, uploadedBy: ctx.user.id });
    return row.id;
  } catch (err) {
    fields[`${at}image`] = err instanceof InvalidInputError ? (Object.values(err.fields)[0] ?? err.message) : 'The image could not be read.';
    return null;
  }
}
