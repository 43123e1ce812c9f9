import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SessionContext } from '../../lti/sessions';
import { BadgeDesignSchema, CredentialDefinitionSchema } from '../model';
import { validateRubric, validateStack } from '../rules';
import { insertDraft } from './credentials';
import { inTransaction, requireCourse, type CatalogDeps } from './common';

const StarterSchema = z.object({
  version: z.literal(1),
  credentials: z.array(z.object({ key: z.string().regex(/^[a-z0-9-]+$/), definition: CredentialDefinitionSchema })),
  stacks: z.array(z.object({ key: z.string(), name: z.string(), description: z.string(), kind: z.enum(['ordered', 'n_of_m']), requiredCount: z.number().int().nullable().default(null), members: z.array(z.string()), image: BadgeDesignSchema })),
});
export type StarterCatalog = z.infer<typeof StarterSchema>;

/** The repository root, from src/ or from dist/src/ alike. */
function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'config', 'catalog'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** Reads and checks a starter catalog file (config/catalog/*.json): a broken file fails loudly, not half-installed. */
export function loadStarterCatalog(file = path.join(findRoot(), 'config', 'catalog', 'tech-leader.json')): StarterCatalog {
  const data = StarterSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  for (const c of data.credentials) {
    const problems = validateRubric(c.definition.rubric, c.definition.passingRule);
    if (Object.keys(problems).length) throw new Error(`${file}: ${c.key}: ${JSON.stringify(problems)}`);
  }
  return data;
}

/**
 * Installs the starter catalog (the Tech Leader I/II/III stack) into this course as drafts for its designers to
 * review and publish. Running it again adds only what the district does not have yet (matched by key).
 */
export async function installStarterCatalog(deps: CatalogDeps, ctx: SessionContext, catalog: StarterCatalog = loadStarterCatalog()) {
  const course = requireCourse(ctx);
  return inTransaction(deps, async (repo) => {
    const ids = new Map<string, string>();
    const created: string[] = [];
    const skipped: string[] = [];
    for (const c of catalog.credentials) {
      const existing = await repo.findByKey(ctx.tenant.id, c.key);
      if (existing) {
        ids.set(c.key, existing.id);
        skipped.push(c.key);
        continue;
      }
      const row = await insertDraft(repo, ctx, course.id, c.definition, null, c.key);
      ids.set(c.key, row.id);
      created.push(c.key);
    }
    const stacks: string[] = [];
    for (const s of catalog.stacks) {
      if (await repo.keyTaken(ctx.tenant.id, s.key, 'stacks')) {
        skipped.push(s.key);
        continue;
      }
      const members = s.members.map((k) => ({ credentialId: ids.get(k)!, prerequisiteIds: [] }));
      const problems = validateStack({ kind: s.kind, requiredCount: s.requiredCount, members });
      if (Object.keys(problems).length) throw new Error(`starter stack ${s.key}: ${JSON.stringify(problems)}`);
      const row = await repo.insertStack(ctx.tenant.id, { courseId: course.id, key: s.key, name: s.name, description: s.description, kind: s.kind, requiredCount: s.requiredCount, image: s.image, createdBy: ctx.user.id });
      await repo.replaceMembers(ctx.tenant.id, row.id, members);
      stacks.push(row.id);
      created.push(s.key);
    }
    return { created, skipped, credentialIds: Object.fromEntries(ids), stackIds: stacks };
  });
}
