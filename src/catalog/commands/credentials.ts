import type { SessionContext } from '../../lti/sessions';
import { can } from '../../policies';
import { ConflictError, NotFoundError } from '../../web/errors';
import { CredentialDefinitionSchema, ListQuerySchema, parseInput, type CredentialDefinition } from '../model';
import { definitionOf, presentCredential } from '../presenters';
import type { CatalogRepository } from '../repository';
import { editPlan, slugify } from '../rules';
import type { MicroCredentialRow } from '../schema';
import { changeableCredential, checkDefinition, checkPublishable, inTransaction, repoOf, requireCourse, visibilityFor, visibleCredential, type CatalogDeps } from './common';

export type CredentialView = ReturnType<typeof presentCredential>;

/** The full view of one credential, as the person in the session may see it. */
export async function viewCredential(repo: CatalogRepository, ctx: SessionContext, c: MicroCredentialRow): Promise<CredentialView> {
  const versions = await repo.listVersions(ctx.tenant.id, c.id);
  const current = versions.find((v) => v.id === c.currentVersionId)!;
  const pendingDraft = c.draftVersionId ? versions.find((v) => v.id === c.draftVersionId) : undefined;
  return presentCredential(ctx, c, current, { courseTitle: await repo.courseTitle(ctx.tenant.id, c.courseId), pendingDraft, versions });
}

/** A designer adds a micro-credential to their course's catalog, as a draft (version 1). */
export async function createCredential(deps: CatalogDeps, ctx: SessionContext, body: unknown, opts: { copiedFromId?: string } = {}): Promise<CredentialView> {
  const def = parseInput(CredentialDefinitionSchema, body);
  const course = requireCourse(ctx);
  return inTransaction(deps, async (repo) => {
    await checkDefinition(repo, ctx.tenant.id, def);
    const c = await insertDraft(repo, ctx, course.id, def, opts.copiedFromId ?? null);
    return viewCredential(repo, ctx, c);
  });
}

export async function insertDraft(repo: CatalogRepository, ctx: SessionContext, courseId: string, def: CredentialDefinition, copiedFromId: string | null, key?: string): Promise<MicroCredentialRow> {
  const c = await repo.insertCredential(ctx.tenant.id, { courseId, key: key ?? (await repo.uniqueKey(ctx.tenant.id, slugify(def.name), 'credentials')), createdBy: ctx.user.id, copiedFromId });
  const v = await repo.insertVersion(ctx.tenant.id, c.id, 1, def, ctx.user.id);
  await repo.updateCredential(ctx.tenant.id, c.id, { currentVersionId: v.id });
  return { ...c, currentVersionId: v.id };
}

/**
 * Edits a credential. A draft changes in place; a published one gets a new draft version (or its pending draft
 * changes), so what earners were awarded under stays exactly as it was.
 */
export async function updateCredential(deps: CatalogDeps, ctx: SessionContext, id: string, body: unknown): Promise<CredentialView> {
  const def = parseInput(CredentialDefinitionSchema, body);
  return inTransaction(deps, async (repo) => {
    const c = await changeableCredential(repo, ctx, id);
    await checkDefinition(repo, ctx.tenant.id, def);
    await applyEdit(repo, ctx, c, def);
    return viewCredential(repo, ctx, (await repo.findCredential(ctx.tenant.id, c.id))!);
  });
}

export async function applyEdit(repo: CatalogRepository, ctx: SessionContext, c: MicroCredentialRow, def: CredentialDefinition): Promise<void> {
  const plan = editPlan(c.state, c.draftVersionId !== null);
  if (plan === 'refuse') throw new ConflictError('A retired micro-credential cannot be changed. Copy it into your course to make a new one.');
  if (plan === 'edit_current') await repo.updateDraftVersion(ctx.tenant.id, c.currentVersionId!, def);
  else if (plan === 'edit_pending_draft') await repo.updateDraftVersion(ctx.tenant.id, c.draftVersionId!, def);
  else {
    const v = await repo.insertVersion(ctx.tenant.id, c.id, (await repo.latestVersionNumber(ctx.tenant.id, c.id)) + 1, def, ctx.user.id);
    await repo.updateCredential(ctx.tenant.id, c.id, { draftVersionId: v.id });
  }
}

/** Publishes the first version, or the pending edit of a published credential (which then becomes current). */
export async function publishCredential(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<CredentialView> {
  return inTransaction(deps, async (repo) => {
    const c = await changeableCredential(repo, ctx, id);
    if (c.state === 'retired') throw new ConflictError('A retired micro-credential cannot be published again. Copy it to make a new one.');
    const versionId = c.state === 'draft' ? c.currentVersionId! : c.draftVersionId;
    if (versionId) {
      const v = (await repo.findVersion(ctx.tenant.id, versionId))!;
      checkPublishable(definitionOf(v));
      await repo.markVersionPublished(ctx.tenant.id, versionId);
      await repo.updateCredential(ctx.tenant.id, c.id, { state: 'published', currentVersionId: versionId, draftVersionId: null, publishedAt: new Date() });
    }
    // Publishing what is already published changes nothing (a retried request is harmless).
    return viewCredential(repo, ctx, (await repo.findCredential(ctx.tenant.id, c.id))!);
  });
}

/** Retires a credential: no one can start it any more; badges already earned stay valid. */
export async function retireCredential(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<CredentialView> {
  return inTransaction(deps, async (repo) => {
    const c = await changeableCredential(repo, ctx, id);
    if (c.state !== 'retired') await repo.updateCredential(ctx.tenant.id, c.id, { state: 'retired', retiredAt: new Date() });
    return viewCredential(repo, ctx, (await repo.findCredential(ctx.tenant.id, c.id))!);
  });
}

/**
 * Copies a credential from the district's shared catalog into this course, as a new draft its designers own.
 * The copy starts from what earners see (the current version).
 */
export async function copyCredentialToCourse(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<CredentialView> {
  const course = requireCourse(ctx);
  return inTransaction(deps, async (repo) => {
    const source = await visibleCredential(repo, ctx, id);
    const v = (await repo.findVersion(ctx.tenant.id, source.currentVersionId!))!;
    const c = await insertDraft(repo, ctx, course.id, definitionOf(v), source.id);
    return viewCredential(repo, ctx, c);
  });
}

export async function getCredential(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<CredentialView> {
  const repo = repoOf(deps);
  return viewCredential(repo, ctx, await visibleCredential(repo, ctx, id));
}

/** One version by number: published versions for anyone who sees the credential, drafts for those who change it. */
export async function getCredentialVersion(deps: CatalogDeps, ctx: SessionContext, id: string, version: number) {
  const repo = repoOf(deps);
  const c = await visibleCredential(repo, ctx, id);
  const v = (await repo.listVersions(ctx.tenant.id, c.id)).find((x) => x.version === version);
  if (!v || (!v.publishedAt && !can(ctx, 'credential.change', c))) throw new NotFoundError('version');
  return presentCredential(ctx, c, v).current;
}

/** Browse and search the tenant's shared catalog: `q` (name, competency, description, tags), `tag`, `state`. */
export async function listCredentials(deps: CatalogDeps, ctx: SessionContext, query: unknown) {
  const f = parseInput(ListQuerySchema, query);
  const rows = await repoOf(deps).listCredentials(ctx.tenant.id, visibilityFor(ctx), { q: f.q, tag: f.tag, state: f.state, courseId: f.course === 'this' ? requireCourse(ctx).id : undefined });
  return rows.map((r) => {
    const view = presentCredential(ctx, r.credential, r.version, { courseTitle: r.courseTitle });
    return { id: view.id, key: view.key, state: view.state, course: view.course, name: view.current.definition.name, competency: view.current.definition.competency, tags: view.current.definition.tags, hours: view.current.definition.hours, ceus: view.current.ceus, achievementType: view.current.definition.achievementType, version: view.current.version, imageUrl: view.imageUrl, canChange: view.canChange };
  });
}
