import type { SessionContext } from '../../lti/sessions';
import { InvalidInputError, NotFoundError } from '../../web/errors';
import { checkImage, generatedBadgeSvg, MAX_IMAGE_BYTES } from '../images';
import { ImageUploadSchema, parseInput, type BadgeDesign } from '../model';
import type { CatalogRepository } from '../repository';
import { inTransaction, repoOf, visibleCredential, visibleStack, type CatalogDeps } from './common';

/**
 * Uploads badge art as JSON `{contentType, base64}`: one small image needs no multipart parser (a new
 * dependency); base64 costs a third more bytes, which the route's 1.4 MB body limit allows for.
 */
export async function uploadBadgeImage(deps: CatalogDeps, ctx: SessionContext, body: unknown) {
  const input = parseInput(ImageUploadSchema, body);
  const b64 = input.base64.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) throw new InvalidInputError('The file could not be read.', { image: 'The file could not be read (it is not base64).' });
  if (Math.floor((b64.length * 3) / 4) > MAX_IMAGE_BYTES + 2) throw new InvalidInputError('The image is too large.', { image: 'Badge images can be at most 1 MB.' });
  const checked = checkImage(input.contentType, Buffer.from(b64, 'base64'));
  const row = await inTransaction(deps, (repo) => repo.insertImage(ctx.tenant.id, { contentType: checked.contentType, bytes: checked.bytes, sha256: checked.sha256, width: checked.width, height: checked.height, uploadedBy: ctx.user.id }));
  return { id: row.id, contentType: row.contentType, sha256: row.sha256, width: row.width, height: row.height, bytes: row.bytes.length, removed: checked.removed, url: `${ctx.base}/api/catalog/images/${row.id}` };
}

export async function getBadgeImage(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<{ contentType: string; bytes: Buffer }> {
  const img = await repoOf(deps).findImage(ctx.tenant.id, id);
  if (!img) throw new NotFoundError('image');
  return { contentType: img.contentType, bytes: img.bytes };
}

/** The badge a design stands for: the uploaded image, or the generated one drawn from the name. */
export async function renderDesign(repo: CatalogRepository, tenantId: string, design: BadgeDesign, name: string): Promise<{ contentType: string; bytes: Buffer }> {
  if (design.kind === 'upload') {
    const img = await repo.findImage(tenantId, design.imageId);
    if (img) return { contentType: img.contentType, bytes: img.bytes };
  }
  return { contentType: 'image/svg+xml', bytes: Buffer.from(generatedBadgeSvg({ name, level: design.kind === 'generated' ? design.level : undefined, color: design.kind === 'generated' ? design.color : undefined }), 'utf8') };
}

export async function credentialBadge(deps: CatalogDeps, ctx: SessionContext, id: string, opts: { draft?: boolean } = {}) {
  const repo = repoOf(deps);
  const c = await visibleCredential(repo, ctx, id);
  const versionId = opts.draft && c.draftVersionId ? c.draftVersionId : c.currentVersionId!;
  const v = (await repo.findVersion(ctx.tenant.id, versionId))!;
  return renderDesign(repo, ctx.tenant.id, v.image, v.name);
}

export async function stackBadge(deps: CatalogDeps, ctx: SessionContext, id: string) {
  const repo = repoOf(deps);
  const s = await visibleStack(repo, ctx, id);
  return renderDesign(repo, ctx.tenant.id, s.image, s.name);
}

export async function checkImageRef(repo: CatalogRepository, tenantId: string, design: BadgeDesign, fields: Record<string, string>): Promise<void> {
  if (design.kind === 'upload' && !(await repo.findImage(tenantId, design.imageId))) fields['image.imageId'] = 'That image was not found; upload it again.';
}
