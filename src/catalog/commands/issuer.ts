import type { SessionContext } from '../../lti/sessions';
import { InvalidInputError } from '../../web/errors';
import { IssuerProfileSchema, parseInput } from '../model';
import { presentIssuer } from '../presenters';
import { inTransaction, repoOf, type CatalogDeps } from './common';

/** The issuer every badge of this district names. Until an admin sets it, the tenant's name stands in. */
export async function getIssuerProfile(deps: CatalogDeps, ctx: SessionContext) {
  const p = await repoOf(deps).findIssuer(ctx.tenant.id);
  if (p) return presentIssuer(p, ctx);
  return { configured: false, name: ctx.tenant.name, url: ctx.tenant.canvasBaseUrl ?? '', email: '', description: '', imageId: null, imageUrl: null, updatedAt: null };
}

/** An admin sets the district's issuer profile (name, web site, contact email, description, image). */
export async function setIssuerProfile(deps: CatalogDeps, ctx: SessionContext, body: unknown) {
  const input = parseInput(IssuerProfileSchema, body);
  return inTransaction(deps, async (repo) => {
    if (input.imageId && !(await repo.findImage(ctx.tenant.id, input.imageId))) throw new InvalidInputError('That image was not found.', { imageId: 'That image was not found; upload it again.' });
    return presentIssuer(await repo.upsertIssuer(ctx.tenant.id, input, ctx.user.id), ctx);
  });
}
