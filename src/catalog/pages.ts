import type { Request, Response } from 'express';
import { defineRoutes, routeParam } from '../web/routeTable';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../web/errors';
import type { SessionContext } from '../lti/sessions';
import { ACHIEVEMENT_TYPES, EVIDENCE_KINDS, type CredentialDefinition } from './model';
import { ceus, maxPoints } from './rules';
import type { CatalogDeps } from './commands/common';
import * as credentials from './commands/credentials';
import * as stacks from './commands/stacks';
import { attachCredential, getAttachment } from './commands/attach';
import { uploadBadgeImage } from './commands/images';
import { getIssuerProfile, setIssuerProfile } from './commands/issuer';
import { installStarterCatalog } from './commands/starter';
import { applyAction, emptyForm, formFromBody, formFromDefinition, formIds, placeErrors, toDefinitionBody, type CredentialForm } from './credentialForm';
import { applyStackAction, emptyStackForm, stackFormFromBody, stackFormFromView, stackIds, toStackBody, type StackForm } from './stackForm';
import { uploadsOf } from './multipart';

/**
 * The designer's pages (docs/catalog.md, "Pages"): server-rendered, working without JavaScript, each a thin
 * layer over the catalog commands (which hold every rule and every message). Failed saves re-render the form
 * with what was typed and each command message on its field.
 */

type Body = Record<string, unknown>;
const bodyOf = (req: Request): Body => (req.body ?? {}) as Body;
const param = routeParam;
const field = (req: Request, name: string): string => {
  const v = bodyOf(req)[name];
  return typeof v === 'string' ? v : '';
};
const queryString = (req: Request, name: string): string => (typeof req.query[name] === 'string' ? (req.query[name] as string) : '');

const FLASH: Record<string, string> = {
  created: 'The draft was created. Educators do not see it until you publish it.',
  saved: 'Your changes were saved.',
  published: 'Published. Educators in this district can now see and start it.',
  retired: 'Retired. Nobody can start it any more; badges already earned stay valid.',
  copied: 'Copied into this course as a new draft.',
  starter: 'The Tech Leader starter catalog was added as drafts. Review each one, then publish it.',
  attached: 'Attached to the Canvas modules and evidence assignment.',
  image: 'The badge image was uploaded and is used for this micro-credential.',
  'stack-created': 'The stack was created as a draft.',
  'stack-saved': 'The stack was saved.',
  'stack-published': 'The stack was published.',
  'stack-retired': 'The stack was retired.',
  issuer: 'The issuer profile was saved. New badges name it as their issuer.',
};

function flashFrom(req: Request): { kind: string; text: string }[] {
  const text = FLASH[queryString(req, 'done')];
  return text ? [{ kind: 'success', text }] : [];
}

/** Renders a catalog page with the "Design" (or "Administer") tab marked as where the person is. */
function render(res: Response, view: string, locals: Record<string, unknown>, status = 200): void {
  const tab = (locals.tab as string | undefined) ?? '/designer';
  const nav = ((res.locals.nav ?? []) as { href: string; label: string; current: boolean }[]).map((n) => ({ ...n, current: n.href === tab }));
  res.status(status).render(view, { nav, flash: [], errors: undefined, scripts: [], ...locals });
}

const pill = (state: string) => ({ draft: 'Draft', published: 'Published', retired: 'Retired' })[state] ?? state;

// ---- credential form ----------------------------------------------------------------------------------

interface EditContext {
  id?: string;
  view?: credentials.CredentialView;
  form: CredentialForm;
  errors?: Record<string, string>;
  focus?: string;
  announce?: string;
  flash?: { kind: string; text: string }[];
}

/** Aliases for command paths whose input has another name on the page. */
const CREDENTIAL_ALIASES: Record<string, string> = { 'image.imageId': 'image', contentType: 'image', base64: 'image', expiryMonths: 'expiryMonths', passingRule: 'passingRule.kind' };

function renderCredentialForm(res: Response, ctx: SessionContext, e: EditContext, status = 200): void {
  const v = e.view;
  const title = v ? `Edit “${(v.pendingDraft ?? v.current).definition.name}”` : 'New micro-credential';
  render(res, 'catalog/edit', {
    title,
    heading: title,
    credential: v ?? null,
    form: e.form,
    errors: e.errors && Object.keys(e.errors).length ? e.errors : undefined,
    focus: e.focus ?? '',
    announce: e.announce ?? '',
    flash: e.flash ?? [],
    action: v ? `/catalog/credentials/${v.id}` : '/catalog/credentials/new',
    evidenceKinds: EVIDENCE_KINDS,
    achievementTypes: ACHIEVEMENT_TYPES,
    ceusOf: (h: string) => (h.trim() !== '' && Number.isFinite(Number(h)) && Number(h) >= 0 ? ceus(Number(h)) : null),
    maxPointsOf: (f: CredentialForm) => f.criteria.reduce((s, c) => s + Math.max(0, ...c.levels.map((l) => (Number.isFinite(Number(l.points)) ? Number(l.points) : 0))), 0),
    pill,
    scripts: ['/assets/js/rubric-builder.js', '/assets/js/confirm-forms.js'],
  }, status);
}

async function editable(deps: CatalogDeps, ctx: SessionContext, id: string): Promise<credentials.CredentialView> {
  const view = await credentials.getCredential(deps, ctx, id);
  if (!view.canChange) throw new ForbiddenError('Only the designers of the course that owns this micro-credential can change it. Copy it into your course to make your own.');
  return view;
}

const editedDefinition = (v: credentials.CredentialView): CredentialDefinition => (v.pendingDraft ?? v.current).definition;

/** A builder button or "Save draft": the shared POST handling of the new and edit forms. */
async function postCredentialForm(deps: CatalogDeps, ctx: SessionContext, req: Request, res: Response, id?: string): Promise<void> {
  const view = id ? await editable(deps, ctx, id) : undefined;
  const form = formFromBody(bodyOf(req));
  const action = field(req, 'action') || 'save';
  if (action !== 'save') {
    const r = applyAction(form, action);
    return renderCredentialForm(res, ctx, { id, view, form: r.form, focus: r.focus, announce: r.announce });
  }
  try {
    const saved = id ? await credentials.updateCredential(deps, ctx, id, toDefinitionBody(form)) : await credentials.createCredential(deps, ctx, toDefinitionBody(form));
    res.redirect(303, `${ctx.base}/catalog/credentials/${saved.id}?done=${id ? 'saved' : 'created'}`);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    renderCredentialForm(res, ctx, { id, view, form, errors: placeErrors(err.fields, formIds(form), 'name', CREDENTIAL_ALIASES), announce: err.message }, 400);
  }
}

// ---- routes -------------------------------------------------------------------------------------------

export function catalogPages(deps: CatalogDeps) {
  const confirmPage = (res: Response, o: { title: string; message: string; detail?: string; action: string; button: string; danger?: boolean; cancel: string }) =>
    render(res, 'catalog/confirm', { ...o, scripts: [] });

  async function renderList(ctx: SessionContext, req: Request, res: Response): Promise<void> {
    const q = queryString(req, 'q').slice(0, 200);
    const tag = queryString(req, 'tag').slice(0, 50);
    const stateRaw = queryString(req, 'state');
    const state = (['draft', 'published', 'retired'] as const).find((s) => s === stateRaw);
    const filter = { q: q || undefined, tag: tag || undefined };
    const mine = ctx.course ? await credentials.listCredentials(deps, ctx, { ...filter, state, course: 'this' }) : [];
    const district = (await credentials.listCredentials(deps, ctx, { ...filter, state: 'published', course: 'all' })).filter((c) => c.course.id !== ctx.course?.id);
    const allStacks = await stacks.listStacks(deps, ctx);
    render(res, 'catalog/list', {
      title: 'Micro-credential catalog',
      flash: flashFrom(req),
      q, tag, state: state ?? '',
      mine, district,
      stacksHere: allStacks.filter((s) => s.courseId === ctx.course?.id),
      stacksElsewhere: allStacks.filter((s) => s.courseId !== ctx.course?.id && s.state === 'published'),
      filtered: !!(q || tag || state),
      pill,
    });
  }

  async function renderAttach(ctx: SessionContext, res: Response, id: string, o: { selected?: { moduleIds: string[]; assignmentId: string; importRubric: boolean }; errors?: Record<string, string>; status?: number } = {}): Promise<void> {
    const view = await editable(deps, ctx, id);
    const course = ctx.course;
    if (!course?.canvasCourseId) throw new InvalidInputError('Open microcred from a Canvas course to attach a micro-credential to it.');
    // Read live, as the person in the session; without a Canvas connection this throws
    // CanvasAuthorizationRequired, which the app turns into the "Connect microcred to Canvas" page.
    const reader = await deps.courseReader(ctx);
    const [modules, assignments] = await Promise.all([reader.listModules(course.canvasCourseId), reader.listAssignments(course.canvasCourseId)]);
    let current: { moduleIds: string[]; assignmentId: string; rubricImported: boolean } | null = null;
    try {
      current = await getAttachment(deps, ctx, id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const selected = o.selected ?? { moduleIds: current?.moduleIds ?? [], assignmentId: current?.assignmentId ?? '', importRubric: false };
    render(res, 'catalog/attach', {
      title: `Attach “${editedDefinition(view).name}” to Canvas`,
      credential: view, name: editedDefinition(view).name, modules, assignments, selected, current,
      errors: o.errors && Object.keys(o.errors).length ? o.errors : undefined,
      pill,
    }, o.status ?? 200);
  }

  async function renderStack(ctx: SessionContext, res: Response, o: { id?: string; view?: stacks.StackView; form: StackForm; errors?: Record<string, string>; focus?: string; announce?: string; flash?: { kind: string; text: string }[]; status?: number }): Promise<void> {
    const published = await credentials.listCredentials(deps, ctx, { state: 'published', course: 'all' });
    const drafts = ctx.course ? await credentials.listCredentials(deps, ctx, { state: 'draft', course: 'this' }) : [];
    const candidates = [...published, ...drafts].map((c) => ({ id: c.id, name: c.name, state: c.state, course: c.course.title ?? '' }));
    const names = new Map<string, string>(candidates.map((c) => [c.id, c.name]));
    o.view?.members.forEach((m) => m.name && !names.has(m.credentialId) && names.set(m.credentialId, m.name));
    const title = o.view ? `Edit stack “${o.view.name}”` : 'New stack';
    render(res, 'catalog/stack', {
      title, stack: o.view ?? null, form: o.form, candidates, names: Object.fromEntries(names),
      errors: o.errors && Object.keys(o.errors).length ? o.errors : undefined,
      focus: o.focus ?? '', announce: o.announce ?? '', flash: o.flash ?? [],
      action: o.view ? `/catalog/stacks/${o.view.id}` : '/catalog/stacks/new',
      pill,
      scripts: ['/assets/js/rubric-builder.js', '/assets/js/confirm-forms.js'],
    }, o.status ?? 200);
  }

  async function postStack(ctx: SessionContext, req: Request, res: Response, id?: string): Promise<void> {
    const view = id ? await stacks.getStack(deps, ctx, id) : undefined;
    if (view && !view.canChange) throw new ForbiddenError('Only the designers of the course that owns this stack can change it.');
    const form = stackFormFromBody(bodyOf(req));
    const action = field(req, 'action') || 'save';
    if (action !== 'save') {
      const r = applyStackAction(form, action, field(req, 'addMember'));
      return renderStack(ctx, res, { id, view, form: r.form, focus: r.focus, announce: r.announce, errors: r.errors });
    }
    try {
      const saved = id ? await stacks.updateStack(deps, ctx, id, toStackBody(form)) : await stacks.createStack(deps, ctx, toStackBody(form));
      res.redirect(303, `${ctx.base}/catalog/stacks/${saved.id}?done=${id ? 'stack-saved' : 'stack-created'}`);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      await renderStack(ctx, res, { id, view, form, errors: placeErrors(err.fields, stackIds(form), 'name', { 'image.imageId': 'image.level' }), announce: err.message, status: 400 });
    }
  }

  async function renderIssuer(ctx: SessionContext, res: Response, o: { values?: Record<string, string>; errors?: Record<string, string>; flash?: { kind: string; text: string }[]; status?: number } = {}): Promise<void> {
    const profile = await getIssuerProfile(deps, ctx);
    const values = o.values ?? { name: profile.name, url: profile.url, email: profile.email, description: profile.description };
    render(res, 'catalog/issuer', { title: 'Issuer profile', tab: '/admin', profile, values, errors: o.errors && Object.keys(o.errors).length ? o.errors : undefined, flash: o.flash ?? [], scripts: [] }, o.status ?? 200);
  }

  /** Uploads the posted `image` file through the catalog's image command; refusals become field errors. */
  async function uploadFrom(ctx: SessionContext, req: Request): Promise<{ imageId?: string; error?: string }> {
    const up = uploadsOf(req);
    if (up.tooLarge) return { error: 'Badge images can be at most 1 MB.' };
    const file = up.files.image;
    if (!file) return {};
    try {
      const img = await uploadBadgeImage(deps, ctx, { contentType: file.type, base64: file.bytes.toString('base64') });
      return { imageId: img.id };
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      const msg = Object.values(err.fields)[0] ?? err.message;
      return { error: msg === 'Upload a PNG or an SVG image.' ? `“${file.name}” is not a PNG or SVG image. Upload a PNG or an SVG image.` : msg };
    }
  }

  const c = '/catalog/credentials';
  const s = '/catalog/stacks';
  return defineRoutes([
    { method: 'get', path: '/catalog', action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => renderList(ctx, req, res) },
    {
      method: 'post', path: '/catalog/starter', action: 'catalog.design', kind: 'page',
      handler: async (ctx, _req, res) => {
        await installStarterCatalog(deps, ctx);
        res.redirect(303, `${ctx.base}/catalog?done=starter`);
      },
    },

    { method: 'get', path: `${c}/new`, action: 'catalog.design', kind: 'page', handler: (ctx, _req, res) => renderCredentialForm(res, ctx, { form: emptyForm() }) },
    { method: 'post', path: `${c}/new`, action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => postCredentialForm(deps, ctx, req, res) },
    {
      method: 'get', path: `${c}/:id`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const view = await editable(deps, ctx, param(req, 'id'));
        renderCredentialForm(res, ctx, { id: view.id, view, form: formFromDefinition(editedDefinition(view)), flash: flashFrom(req) });
      },
    },
    { method: 'post', path: `${c}/:id`, action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => postCredentialForm(deps, ctx, req, res, param(req, 'id')) },
    {
      method: 'get', path: `${c}/:id/preview`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const view = await credentials.getCredential(deps, ctx, param(req, 'id'));
        const draft = view.canChange && !!view.pendingDraft;
        const version = draft ? view.pendingDraft! : view.current;
        render(res, 'catalog/preview', { title: `Preview: ${version.definition.name}`, credential: view, version, def: version.definition, ceus: version.ceus, maxPoints: maxPoints(version.definition.rubric), imageUrl: `${view.imageUrl}${draft ? '?draft=1' : ''}`, draft, pill });
      },
    },
    {
      method: 'post', path: `${c}/:id/image`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const id = param(req, 'id');
        const view = await editable(deps, ctx, id);
        const def = editedDefinition(view);
        const up = await uploadFrom(ctx, req);
        const error = up.error ?? (up.imageId ? undefined : 'Choose a PNG or SVG file to upload.');
        if (error) return renderCredentialForm(res, ctx, { id, view, form: formFromDefinition(def), errors: { image: error } }, 400);
        await credentials.updateCredential(deps, ctx, id, { ...def, image: { kind: 'upload', imageId: up.imageId } });
        res.redirect(303, `${ctx.base}${c}/${id}?done=image#badge`);
      },
    },
    ...stateChange(c, 'publish', 'catalog.design'),
    ...stateChange(c, 'retire', 'catalog.design'),
    {
      method: 'post', path: `${c}/:id/copy`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const copy = await credentials.copyCredentialToCourse(deps, ctx, param(req, 'id'));
        res.redirect(303, `${ctx.base}${c}/${copy.id}?done=copied`);
      },
    },
    { method: 'get', path: `${c}/:id/attach`, action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => renderAttach(ctx, res, param(req, 'id')) },
    {
      method: 'post', path: `${c}/:id/attach`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const id = param(req, 'id');
        const b = bodyOf(req);
        const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
        const selected = { moduleIds: list(b.moduleIds), assignmentId: field(req, 'assignmentId'), importRubric: field(req, 'importRubric') === 'yes' };
        try {
          await attachCredential(deps, ctx, id, selected);
          res.redirect(303, `${ctx.base}${c}/${id}?done=attached`);
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          const errors = placeErrors(err.fields, new Set(['moduleIds', 'assignmentId', 'importRubric']), 'moduleIds');
          await renderAttach(ctx, res, id, { selected, errors, status: 400 });
        }
      },
    },

    { method: 'get', path: `${s}/new`, action: 'catalog.design', kind: 'page', handler: (ctx, _req, res) => renderStack(ctx, res, { form: emptyStackForm() }) },
    { method: 'post', path: `${s}/new`, action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => postStack(ctx, req, res) },
    {
      method: 'get', path: `${s}/:id`, action: 'catalog.design', kind: 'page',
      handler: async (ctx, req, res) => {
        const view = await stacks.getStack(deps, ctx, param(req, 'id'));
        if (!view.canChange) throw new ForbiddenError('Only the designers of the course that owns this stack can change it.');
        await renderStack(ctx, res, { id: view.id, view, form: stackFormFromView(view), flash: flashFrom(req) });
      },
    },
    { method: 'post', path: `${s}/:id`, action: 'catalog.design', kind: 'page', handler: (ctx, req, res) => postStack(ctx, req, res, param(req, 'id')) },
    ...stateChange(s, 'publish', 'catalog.design'),
    ...stateChange(s, 'retire', 'catalog.design'),

    { method: 'get', path: '/admin/issuer', action: 'catalog.administer', kind: 'page', handler: (ctx, req, res) => renderIssuer(ctx, res, { flash: flashFrom(req) }) },
    {
      method: 'post', path: '/admin/issuer', action: 'catalog.administer', kind: 'page',
      handler: async (ctx, req, res) => {
        const values = { name: field(req, 'name'), url: field(req, 'url'), email: field(req, 'email'), description: field(req, 'description') };
        const up = await uploadFrom(ctx, req);
        const keep = field(req, 'keepImage') === 'yes' ? ((await getIssuerProfile(deps, ctx)).imageId ?? null) : null;
        try {
          await setIssuerProfile(deps, ctx, { ...values, imageId: up.imageId ?? keep });
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          const errors = placeErrors(err.fields, new Set(['name', 'url', 'email', 'description', 'image']), 'name', { imageId: 'image' });
          if (up.error) errors.image = up.error;
          return renderIssuer(ctx, res, { values, errors, status: 400 });
        }
        // The profile is saved; a refused image is still the person's to fix.
        if (up.error) return renderIssuer(ctx, res, { values, errors: { image: up.error }, status: 400 });
        res.redirect(303, `${ctx.base}/admin/issuer?done=issuer`);
      },
    },
  ]);

  /**
   * Publish and retire: with JavaScript the button asks (`data-confirm`) and posts `confirmed=yes`; without it the
   * POST answers with a confirmation page whose button posts again with `confirmed=yes`. A GET shows that page too.
   */
  function stateChange(base: string, verb: 'publish' | 'retire', action: 'catalog.design') {
    const isStack = base === s;
    const load = async (ctx: SessionContext, id: string) => {
      if (isStack) {
        const v = await stacks.getStack(deps, ctx, id);
        if (!v.canChange) throw new ForbiddenError('Only the designers of the course that owns this stack can change it.');
        return { name: v.name, state: v.state };
      }
      const v = await editable(deps, ctx, id);
      return { name: editedDefinition(v).name, state: v.state, view: v };
    };
    const ask = async (ctx: SessionContext, req: Request, res: Response) => {
      const id = param(req, 'id');
      const item = await load(ctx, id);
      const what = isStack ? 'stack' : 'micro-credential';
      confirmPage(res, {
        title: `${verb === 'publish' ? 'Publish' : 'Retire'} “${item.name}”?`,
        message: verb === 'publish'
          ? `Educators in this district will see this ${what} and can start it.`
          : `Nobody will be able to start this ${what} any more. Badges already earned stay valid.`,
        detail: verb === 'publish' && !isStack && item.state === 'published' ? 'This publishes your pending changes as a new version; earned badges keep the version they were earned under.' : undefined,
        action: `${base}/${id}/${verb}`,
        button: verb === 'publish' ? `Publish ${what}` : `Retire ${what}`,
        danger: verb === 'retire',
        cancel: `${base}/${id}`,
      });
    };
    return [
      { method: 'get' as const, path: `${base}/:id/${verb}`, action, kind: 'page' as const, handler: ask },
      {
        method: 'post' as const, path: `${base}/:id/${verb}`, action, kind: 'page' as const,
        handler: async (ctx: SessionContext, req: Request, res: Response) => {
          if (field(req, 'confirmed') !== 'yes') return ask(ctx, req, res);
          const id = param(req, 'id');
          if (isStack) {
            try {
              await (verb === 'publish' ? stacks.publishStack(deps, ctx, id) : stacks.retireStack(deps, ctx, id));
            } catch (err) {
              if (!(err instanceof InvalidInputError)) throw err;
              const view = await stacks.getStack(deps, ctx, id);
              const form = stackFormFromView(view);
              return renderStack(ctx, res, { id, view, form, errors: placeErrors(err.fields, stackIds(form), 'name'), announce: err.message, status: 400 });
            }
            return res.redirect(303, `${ctx.base}${base}/${id}?done=stack-${verb === 'publish' ? 'published' : 'retired'}`);
          }
          try {
            await (verb === 'publish' ? credentials.publishCredential(deps, ctx, id) : credentials.retireCredential(deps, ctx, id));
          } catch (err) {
            if (!(err instanceof InvalidInputError)) throw err;
            const view = await editable(deps, ctx, id);
            const form = formFromDefinition(editedDefinition(view));
            return renderCredentialForm(res, ctx, { id, view, form, errors: placeErrors(err.fields, formIds(form), 'name', CREDENTIAL_ALIASES), announce: err.message }, 400);
          }
          res.redirect(303, `${ctx.base}${base}/${id}?done=${verb === 'publish' ? 'published' : 'retired'}`);
        },
      },
    ];
  }
}

