import type { Database, Orm } from '../../db/database';
import type { SessionContext } from '../../lti/sessions';
import { authorize, can } from '../../policies';
import { ConflictError, InvalidInputError, NotFoundError } from '../../web/errors';
import type { CourseReaderFactory } from '../canvasReader';
import { CatalogRepository, type Visibility } from '../repository';
import type { CredentialDefinition } from '../model';
import { validateRubric } from '../rules';
import type { MicroCredentialRow, StackRow } from '../schema';

export interface CatalogDeps {
  db: Database;
  courseReader: CourseReaderFactory;
  /** Where this microcred is reached; Achievement ids are built on it. */
  publicUrl: string;
}

/** One story, one transaction: the repository handed to `fn` runs inside it. */
export function inTransaction<T>(deps: CatalogDeps, fn: (repo: CatalogRepository) => Promise<T>): Promise<T> {
  return deps.db.orm.transaction((tx) => fn(new CatalogRepository(tx as unknown as Orm)));
}

export function repoOf(deps: CatalogDeps): CatalogRepository {
  return new CatalogRepository(deps.db.orm);
}

export function visibilityFor(ctx: SessionContext): Visibility {
  const admin = ctx.roles.includes('admin');
  const designer = ctx.roles.includes('designer');
  return { all: admin, retired: designer, draftsOfCourseId: designer ? (ctx.course?.id ?? null) : null };
}

/** Loads a credential the person may see; anything else (another tenant's, a draft of another course) is 404. */
export async function visibleCredential(repo: CatalogRepository, ctx: SessionContext, id: string, opts: { forUpdate?: boolean } = {}): Promise<MicroCredentialRow> {
  const c = await repo.findCredential(ctx.tenant.id, id, opts);
  if (!c || !can(ctx, 'credential.view', c)) throw new NotFoundError('micro-credential');
  return c;
}

/** Loads a credential the person may change: 404 when they cannot see it, 403 when they only may look. */
export async function changeableCredential(repo: CatalogRepository, ctx: SessionContext, id: string): Promise<MicroCredentialRow> {
  const c = await visibleCredential(repo, ctx, id, { forUpdate: true });
  authorize(ctx, 'credential.change', c);
  return c;
}

export async function visibleStack(repo: CatalogRepository, ctx: SessionContext, id: string, opts: { forUpdate?: boolean } = {}): Promise<StackRow> {
  const s = await repo.findStack(ctx.tenant.id, id, opts);
  if (!s || !can(ctx, 'stack.view', s)) throw new NotFoundError('stack');
  return s;
}

export function requireCourse(ctx: SessionContext): { id: string; title: string; canvasCourseId: string | null } {
  if (!ctx.course) throw new ConflictError('Open microcred from a Canvas course to do this.');
  return ctx.course;
}

/** Checks what the schema cannot: the rubric against the passing rule, and that an uploaded image is this tenant's. */
export async function checkDefinition(repo: CatalogRepository, tenantId: string, def: CredentialDefinition, prefix = ''): Promise<void> {
  const fields = validateRubric(def.rubric, def.passingRule);
  if (def.image.kind === 'upload' && !(await repo.findImage(tenantId, def.image.imageId))) fields['image.imageId'] = 'That image was not found; upload it again.';
  const prefixed = Object.fromEntries(Object.entries(fields).map(([k, v]) => [prefix + k, v]));
  if (Object.keys(prefixed).length) throw new InvalidInputError('Some fields need your attention.', prefixed);
}

/** What publishing needs beyond a valid draft: something for the earner to submit. */
export function checkPublishable(def: CredentialDefinition): void {
  if (def.evidencePrompts.length === 0) throw new InvalidInputError('Add what earners must submit before publishing.', { evidencePrompts: 'Add at least one evidence prompt before publishing.' });
}
