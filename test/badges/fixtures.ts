import crypto from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/database';
import { tenants, users, courses } from '../../src/tenants/schema';
import { badgeImages, issuerProfiles, microCredentials, microCredentialVersions, stacks, stackMembers } from '../../src/catalog/schema';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { eq } from 'drizzle-orm';
import { Badges } from '../../src/badges/service';

export const TEST_SECRET = 'microcred-test-secret-0123456789abcdef';

export interface Seed {
  tenantId: string;
  earner: { userId: string; email: string; name: string };
  /** Published versions of Tech Leader I and II (I expires after 36 months, II after 12). */
  versions: { tl1: string; tl2: string };
  stackId: string;
  remove(): Promise<void>;
}

export async function openTestDb(): Promise<Database> {
  return openDatabase({ url: process.env.DATABASE_URL, poolMax: 20 });
}

/** A tenant with an issuer profile, an earner, two published micro-credentials and a published stack of both. */
/** `tl2Png`: Tech Leader II's badge art is this uploaded PNG (else both use the generated SVG design). */
export async function seedTenant(db: Database, opts: { issuerProfile?: boolean; tl2Png?: Buffer } = {}): Promise<Seed> {
  const orm = db.orm;
  const tag = crypto.randomUUID().slice(0, 8);
  const [t] = await orm.insert(tenants).values({ issuer: 'https://canvas.test', clientId: `client-${tag}`, deploymentId: `dep-${tag}`, platformKid: `kid-${tag}`, name: `District ${tag}`, canvasBaseUrl: 'https://canvas.test' }).returning();
  const tenantId = t!.id;
  const [u] = await orm.insert(users).values({ tenantId, ltiSub: `sub-${tag}`, name: 'Dana Earner', email: 'Dana.Earner@school.test' }).returning();
  const [designer] = await orm.insert(users).values({ tenantId, ltiSub: `designer-${tag}`, name: 'Des Igner' }).returning();
  const [c] = await orm.insert(courses).values({ tenantId, ltiContextId: `ctx-${tag}`, title: 'Tech Leader Academy' }).returning();
  const [pngArt] = opts.tl2Png ? await orm.insert(badgeImages).values({ tenantId, contentType: 'image/png', bytes: opts.tl2Png, sha256: crypto.createHash('sha256').update(opts.tl2Png).digest('hex'), width: 2, height: 2 }).returning() : [];
  const starter = loadStarterCatalog();
  const versions: string[] = [];
  const credIds: string[] = [];
  for (const [i, entry] of starter.credentials.slice(0, 2).entries()) {
    const def = entry.definition;
    const [mc] = await orm.insert(microCredentials).values({ tenantId, courseId: c!.id, key: `${entry.key}-${tag}`, state: 'published', createdBy: designer!.id, publishedAt: new Date() }).returning();
    const [v] = await orm
      .insert(microCredentialVersions)
      .values({
        tenantId,
        credentialId: mc!.id,
        version: 1,
        name: def.name,
        competency: def.competency,
        description: def.description,
        keyMethod: def.keyMethod,
        criteriaNarrative: def.criteriaNarrative,
        evidencePrompts: def.evidencePrompts,
        rubric: def.rubric,
        passingRule: def.passingRule,
        hours: def.hours,
        alignments: def.alignments,
        tags: def.tags,
        achievementType: def.achievementType,
        expiryMonths: i === 0 ? 36 : 12,
        image: i === 1 && pngArt ? { kind: 'upload' as const, imageId: pngArt.id } : def.image,
        createdBy: designer!.id,
        publishedAt: new Date(),
      })
      .returning();
    await orm.update(microCredentials).set({ currentVersionId: v!.id }).where(eq(microCredentials.id, mc!.id));
    versions.push(v!.id);
    credIds.push(mc!.id);
  }
  const [s] = await orm.insert(stacks).values({ tenantId, courseId: c!.id, key: `tl-stack-${tag}`, name: 'Tech Leader', description: 'Tech Leader I and II', kind: 'ordered', image: { kind: 'generated' }, state: 'published', publishedAt: new Date() }).returning();
  await orm.insert(stackMembers).values(credIds.map((credentialId, i) => ({ tenantId, stackId: s!.id, credentialId, position: i + 1 })));
  if (opts.issuerProfile !== false) await orm.insert(issuerProfiles).values({ tenantId, name: 'Riverside Schools', url: 'https://riverside.test', email: 'badges@riverside.test', description: 'Professional learning at Riverside.' });
  return {
    tenantId,
    earner: { userId: u!.id, email: 'Dana.Earner@school.test', name: 'Dana Earner' },
    versions: { tl1: versions[0]!, tl2: versions[1]! },
    stackId: s!.id,
    remove: async () => {
      await orm.delete(tenants).where(eq(tenants.id, tenantId));
    },
  };
}

/** The scores that pass Tech Leader I/II: every criterion at its passing level. */
export function passingResults(rubric: { criteria: { id: string; requiredLevelId?: string }[] }) {
  return rubric.criteria.map((c) => ({ criterionId: c.id, levelId: c.requiredLevelId! }));
}

export function badgesFor(db: Database, publicUrl = 'https://badges.test'): Badges {
  return new Badges({ orm: db.orm, publicUrl, secretKey: TEST_SECRET });
}
