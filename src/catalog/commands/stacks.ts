import type { SessionContext } from '../../lti/sessions';
import { authorize, can } from '../../policies';
import { ConflictError, InvalidInputError } from '../../web/errors';
import { StackInputSchema, parseInput, type StackInput } from '../model';
import { presentStack } from '../presenters';
import type { CatalogRepository } from '../repository';
import { slugify, validateStack } from '../rules';
import type { StackRow } from '../schema';
import { checkImageRef } from './images';
import { inTransaction, repoOf, requireCourse, visibilityFor, visibleStack, type CatalogDeps } from './common';

export type StackView = ReturnType<typeof presentStack>;

async function viewStack(repo: CatalogRepository, ctx: SessionContext, s: StackRow): Promise<StackView> {
  const members = await repo.membersOf(ctx.tenant.id, s.id);
  const creds = await repo.credentialsByIds(ctx.tenant.id, members.map((m) => m.credentialId));
  return presentStack(ctx, s, members, new Map(creds.map((c) => [c.credential.id, { name: c.version.name, state: c.credential.state }])));
}

/**
 * Checks a stack against the catalog: every member is a micro-credential this person can see and that is not
 * retired, and the shape holds (not empty, no prerequisite chain that comes back to itself, N within 1..M).
 */
async function checkStack(repo: CatalogRepository, ctx: SessionContext, input: StackInput): Promise<void> {
  const found = await repo.credentialsByIds(ctx.tenant.id, input.members.map((m) => m.credentialId));
  const byId = new Map(found.filter((c) => can(ctx, 'credential.view', c.credential)).map((c) => [c.credential.id, c]));
  const fields: Record<string, string> = {};
  input.members.forEach((m, i) => {
    const c = byId.get(m.credentialId);
    if (!c) fields[`members.${i}.credentialId`] = 'That micro-credential was not found in this district’s catalog.';
    else if (c.credential.state === 'retired') fields[`members.${i}.credentialId`] = `“${c.version.name}” is retired and cannot join a stack.`;
  });
  if (!Object.keys(fields).length) Object.assign(fields, validateStack(input, Object.fromEntries([...byId].map(([id, c]) => [id, c.version.name]))));
  await checkImageRef(repo, ctx.tenant.id, input.image, fields);
  if (Object.keys(fields).length) throw new InvalidInputError('The stack needs your attention.', fields);
}

function normalise(input: StackInput): StackInput {
  // An ordered stack needs all of its members: a count would only contradict that.
  return input.kind === 'ordered' ? { ...input, requiredCount: null } : input;
}

/** A designer groups micro-credentials into a stack (ordered, or any N of M) with a badge of its own. */
export async function createStack(deps: CatalogDeps, ctx: SessionContext, body: unknown): Promise<StackView> {
  const input = normalise(parseInput(StackInputSchema, body));
  const course = requireCourse(ctx);
  return inTransaction(deps, async (repo) => {
    await checkStack(repo, ctx, input);
    const s = await repo.insertStack(ctx.tenant.id, {
      courseId: course.id, key: await repo.uniqueKey(ctx.tenant.id, slugify(input.name), 'stacks'), name: input.name, description: input.description,
      kind: input.kind, requiredCount: input.requiredCount, image: input.image, createdBy: ctx.user.id,
    });
    await repo.replaceMembers(ctx.tenant.id, s.id, input.members);
    return viewStack(repo, ctx, s);
  });
}

/** Changes a stack. A published stack may change too: it records no earner's history, awards do. */
export async function updateStack(deps: CatalogDeps, ctx: SessionContext, id: string, body: unknown): Promise<StackView> {
  const input = normalise(parseInput(StackInputSchema, body));
  return inTransaction(deps, async (repo) => {
    const s = await visibleStack(repo, ctx, id, { forUpdate: true });
    authorize(ctx, 'stack.change', s);
    if (s.state === 'retired') throw new ConflictError('A retired stack cannot be changed.');
    await checkStack(repo, ctx, input);
    if (s.state === 'published') await requirePublishedMembers(repo, ctx, input.members.map((m) => m.credentialId));
    await repo.updateStack(ctx.tenant.id, s.id, { name: input.name, description: input.description, kind: input.kind, requiredCount: input.requiredCount, image: input.image });
    await repo.replaceMembers(ctx.tenant.id, s.id, input.members);
    return viewStack(repo, ctx, (await repo.findStack(ctx.tenant.id, s.id))!);
  });
}

async function requirePublishedMembers(repo: CatalogRepository, ctx: SessionContext, ids: string[]): Promise<void> {
  const creds = await repo.credentialsByIds(ctx.tenant.id, ids);
  const fields: Record<string, string> = {};
  ids.forEach((cid, i) => {
    const c = creds.find((x) => x.credential.id === cid);
    if (!c || c.credential.state !== 'published') fields[`members.${i}.credentialId`] = `Publish “${c?.version.name ?? cid}” before publishing the stack.`;
  });
  if (Object.keys(fields).length) throw new InvalidInputError('Every micro-credential in a published stack must be published.', fields);
}

/** Publishes a stack once every member is published, so earners never see a stack they cannot finish. */
export async function publishStack(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<StackView> {
  return inTransaction(deps, async (repo) => {
    const s = await visibleStack(repo, ctx, id, { forUpdate: true });
    authorize(ctx, 'stack.change', s);
    if (s.state === 'retired') throw new ConflictError('A retired stack cannot be published again.');
    const members = await repo.membersOf(ctx.tenant.id, s.id);
    const fields = validateStack({ kind: s.kind, requiredCount: s.requiredCount, members });
    if (Object.keys(fields).length) throw new InvalidInputError('The stack needs your attention.', fields);
    await requirePublishedMembers(repo, ctx, members.map((m) => m.credentialId));
    if (s.state !== 'published') await repo.updateStack(ctx.tenant.id, s.id, { state: 'published', publishedAt: new Date() });
    return viewStack(repo, ctx, (await repo.findStack(ctx.tenant.id, s.id))!);
  });
}

export async function retireStack(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<StackView> {
  return inTransaction(deps, async (repo) => {
    const s = await visibleStack(repo, ctx, id, { forUpdate: true });
    authorize(ctx, 'stack.change', s);
    if (s.state !== 'retired') await repo.updateStack(ctx.tenant.id, s.id, { state: 'retired' });
    return viewStack(repo, ctx, (await repo.findStack(ctx.tenant.id, s.id))!);
  });
}

export async function getStack(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<StackView> {
  const repo = repoOf(deps);
  return viewStack(repo, ctx, await visibleStack(repo, ctx, id));
}

export async function listStacks(deps: CatalogDeps, ctx: SessionContext): Promise<StackView[]> {
  const repo = repoOf(deps);
  const rows = await repo.listStacks(ctx.tenant.id, visibilityFor(ctx));
  return Promise.all(rows.map((s) => viewStack(repo, ctx, s)));
}
