/**
 * The designer's pages over HTTP, without JavaScript: a scripted browser fills and posts the forms exactly as
 * a browser with scripts off would (checked boxes only, textareas, selects, the pressed button's name/value).
 */
import { startStack, type Stack } from '../support/stack';
import { Browser, decodeEntities, parseForm, type Page } from '../support/browser';
import { sessionOf } from '../support/session';
import { body, forgetAndStop, png, techLeaderI } from './support';

type Pairs = [string, string][];

/** The successful controls of one form, as a browser would submit them. */
function formPairs(html: string, formId: string): { action: string; pairs: Pairs } {
  const m = new RegExp(`<form\\b([^>]*\\bid="${formId}"[^>]*)>([\\s\\S]*?)</form>`).exec(html) ?? new RegExp(`<form\\b([^>]*)>([\\s\\S]*?)</form>`).exec(html);
  if (!m) throw new Error(`no form ${formId}`);
  if (!m[1]!.includes(`id="${formId}"`) && !m[1]!.includes(formId)) throw new Error(`no form ${formId}`);
  return { action: decodeEntities(/action="([^"]*)"/.exec(m[1]!)![1]!), pairs: controls(m[2]!) };
}

function formByAction(html: string, actionEnds: string): { action: string; pairs: Pairs } {
  const re = /<form\b([^>]*)>([\s\S]*?)<\/form>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const action = decodeEntities(/action="([^"]*)"/.exec(m[1]!)?.[1] ?? '');
    if (action.endsWith(actionEnds)) return { action, pairs: controls(m[2]!) };
  }
  throw new Error(`no form posting to …${actionEnds}`);
}

function controls(inner: string): Pairs {
  const pairs: Pairs = [];
  const attr = (a: string, n: string) => {
    const v = new RegExp(`\\b${n}="([^"]*)"`).exec(a)?.[1];
    return v === undefined ? undefined : decodeEntities(v);
  };
  const has = (a: string, n: string) => new RegExp(`\\s${n}(\\s|=|$)`).test(a);
  for (const m of inner.matchAll(/<input\b([^>]*)>/g)) {
    const a = m[1]!;
    const name = attr(a, 'name');
    const type = attr(a, 'type') ?? 'text';
    if (!name || has(a, 'disabled') || ['file', 'submit', 'button'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !has(a, 'checked')) continue;
    pairs.push([name, attr(a, 'value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')]);
  }
  for (const m of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const name = attr(m[1]!, 'name');
    if (name) pairs.push([name, decodeEntities(m[2]!)]);
  }
  for (const m of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const name = attr(m[1]!, 'name');
    const options = [...m[2]!.matchAll(/<option\b([^>]*)>/g)].map((o) => o[1]!);
    const chosen = options.find((o) => has(o, 'selected')) ?? options[0];
    if (name && chosen !== undefined) pairs.push([name, attr(chosen, 'value') ?? '']);
  }
  return pairs;
}

const valueOf = (pairs: Pairs, name: string) => pairs.find(([k]) => k === name)?.[1];
const set = (pairs: Pairs, changes: Record<string, string | string[]>): Pairs => {
  const out = pairs.filter(([k]) => !(k in changes));
  for (const [k, v] of Object.entries(changes)) for (const x of Array.isArray(v) ? v : [v]) out.push([k, x]);
  return out;
};
const text = (html: string) => decodeEntities(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');
/** The inline error shown on a field (`<p class="field__error" id="<id>-error">`). */
const fieldError = (html: string, id: string) => {
  const m = new RegExp(`<p class="field__error" id="${id.replace(/\./g, '\\.')}-error">([\\s\\S]*?)</p>`).exec(html);
  return m ? text(m[1]!).replace(/^ ?Error: /, '').trim() : undefined;
};
const summaryLinks = (html: string) => [...html.matchAll(/<ul class="error-summary__list">([\s\S]*?)<\/ul>/g)].flatMap((m) => [...m[1]!.matchAll(/<a href="#([^"]+)">([\s\S]*?)<\/a>/g)].map((a) => [decodeEntities(a[1]!), text(a[2]!).trim()]));
const inputTag = (html: string, id: string) => new RegExp(`<(?:input|textarea|select)\\b[^>]*\\bid="${id.replace(/\./g, '\\.')}"[^>]*>`).exec(html)?.[0] ?? '';

describe('designer pages (no JavaScript)', () => {
  let stack: Stack;
  let browser: Browser;
  let base: string;
  let home: Page;

  const get = (path: string) => browser.get(base + path);
  const post = (url: string, pairs: Pairs) => browser.request('POST', new URL(url, base).toString(), new URLSearchParams(pairs).toString());
  /** Presses a builder button (or "Save draft") on the credential form of `page`. */
  const press = (page: Page, action: string, changes: Record<string, string | string[]> = {}) => {
    const f = formPairs(page.body, 'credential-form');
    return post(f.action, [...set(f.pairs, changes), ['action', action]]);
  };

  beforeAll(async () => {
    stack = await startStack();
    const launched = await stack.launch('2', { courseId: '101' });
    browser = launched.browser;
    home = launched.page;
    base = sessionOf(home).base;
  });
  afterAll(() => forgetAndStop(stack));

  it('links the catalog from the designer home and offers the starter catalog when the course has none', async () => {
    expect(home.body).toContain(`href="${new URL(base).pathname}/catalog"`);
    const list = await get('/catalog');
    expect(list.status).toBe(200);
    expect(list.body).toContain('<h1 class="page-header__title">Micro-credential catalog</h1>');
    expect(text(list.body)).toContain('No micro-credentials in this course yet');
    const starter = formByAction(list.body, '/catalog/starter');
    const after = await post(starter.action, starter.pairs);
    expect(after.url).toMatch(/\/catalog\?done=starter$/);
    expect(text(after.body)).toContain('The Tech Leader starter catalog was added as drafts');
    for (const name of ['Tech Leader I', 'Tech Leader II', 'Tech Leader III']) expect(after.body).toContain(`>${name}</a></h3>`);
    expect(after.body).toMatch(/<a href="[^"]+\/catalog\/stacks\/[0-9a-f-]{36}">Tech Leader<\/a> <span class="pill pill--draft">Draft<\/span>/);
    const searched = await get('/catalog?q=TPACK');
    expect(searched.body).toContain('>Tech Leader II</a></h3>');
    expect(searched.body).not.toContain('>Tech Leader III</a></h3>');
    const drafts = await get('/catalog?state=published');
    expect(drafts.body).toContain('aria-current="page">Published</a>');
    expect(text(drafts.body)).toContain('Nothing in this course matches');
  });

  let credentialId: string;

  it('builds a rubric with the buttons alone (add, reorder, remove), keeping what was typed, then saves', async () => {
    let page = await get('/catalog/credentials/new');
    expect(page.status).toBe(200);
    expect(text(page.body)).toContain('The rubric has no criteria yet.');
    page = await press(page, 'add-criterion', { name: 'Blended learning design', hours: '12' });
    expect(page.status).toBe(200);
    expect(inputTag(page.body, 'rubric.criteria.0.title')).toContain('value=""');
    expect(inputTag(page.body, 'name')).toContain('value="Blended learning design"');
    expect(text(page.body)).toContain('Criterion 1 added');
    page = await press(page, 'add-criterion', { 'rubric.criteria.0.title': 'Plans the unit' });
    page = await press(page, 'add-level:0', { 'rubric.criteria.1.title': 'Reflects with students' });
    // Criterion 1 now has Meets, Not yet and a new blank level; name it and move it to the top.
    expect(inputTag(page.body, 'rubric.criteria.0.levels.2.name')).toContain('value=""');
    page = await press(page, 'level-up:0.2', { 'rubric.criteria.0.levels.2.name': 'Exceeds', 'rubric.criteria.0.levels.2.points': '2' });
    page = await press(page, 'level-up:0.1');
    expect(inputTag(page.body, 'rubric.criteria.0.levels.0.name')).toContain('value="Exceeds"');
    expect(inputTag(page.body, 'rubric.criteria.0.levels.1.name')).toContain('value="Meets"');
    expect(page.body).toContain('aria-label="Move level Exceeds of criterion 1 down"');
    expect(page.body).toContain('aria-label="Remove level Exceeds from criterion 1"');
    // Move criterion 2 above criterion 1, then remove an extra criterion.
    page = await press(page, 'criterion-up:1');
    expect(inputTag(page.body, 'rubric.criteria.0.title')).toContain('value="Reflects with students"');
    expect(inputTag(page.body, 'rubric.criteria.1.title')).toContain('value="Plans the unit"');
    expect(page.body).toContain('aria-label="Move criterion 2 up"');
    page = await press(page, 'add-criterion');
    page = await press(page, 'remove-criterion:2');
    expect(page.body).not.toContain('id="rubric.criteria.2.title"');
    page = await press(page, 'remove-level:0.1', {});
    expect(inputTag(page.body, 'rubric.criteria.0.levels.1.name')).toBeFalsy();
    page = await press(page, 'add-level:0');
    page = await press(page, 'add-alignment');
    page = await press(page, 'remove-alignment:0');
    page = await press(page, 'add-prompt');
    expect(page.body).toContain('id="evidencePrompts.1.prompt"');
    page = await press(page, 'remove-prompt:1');

    // Save with the mistakes a person makes: no name, negative hours, no passing level.
    const f = formPairs(page.body, 'credential-form');
    const failed = await post(f.action, [...set(f.pairs, { name: '  ', hours: '-3', competency: 'Designs blended units.', criteriaNarrative: 'Plan, teach, reflect.', 'rubric.criteria.0.levels.1.name': 'Not yet', 'evidencePrompts.0.prompt': 'Upload your unit plan.' }), ['action', 'save']]);
    expect(failed.status).toBe(400);
    const links = summaryLinks(failed.body);
    expect(links).toEqual(expect.arrayContaining([
      ['name', 'Give the micro-credential a name.'],
      ['hours', 'Hours cannot be negative.'],
    ]));
    expect(fieldError(failed.body, 'name')).toBe('Give the micro-credential a name.');
    expect(inputTag(failed.body, 'name')).toContain('aria-invalid="true"');
    expect(inputTag(failed.body, 'name')).toContain('aria-describedby="name-hint name-error"');
    expect(inputTag(failed.body, 'hours')).toMatch(/value="-3"[^>]*aria-describedby="hours-hint hours-error"[^>]*aria-invalid="true"/);
    // Everything typed is still there.
    expect(failed.body).toContain('>Designs blended units.</textarea>');
    expect(inputTag(failed.body, 'rubric.criteria.1.title')).toContain('value="Plans the unit"');

    // Fix name and hours: the rubric's missing passing levels are next, on their criteria.
    const g = formPairs(failed.body, 'credential-form');
    const noPassing = await post(g.action, [...set(g.pairs, { name: 'Blended learning design', hours: '12' }), ['action', 'save']]);
    expect(noPassing.status).toBe(400);
    expect(fieldError(noPassing.body, 'rubric.criteria.0.requiredLevelId')).toBe('Choose the level of “Reflects with students” that meets the bar (its passing level).');
    expect(summaryLinks(noPassing.body)).toContainEqual(['rubric.criteria.1.requiredLevelId', 'Choose the level of “Plans the unit” that meets the bar (its passing level).']);
    expect(noPassing.body).toMatch(/<input type="radio" id="rubric\.criteria\.0\.requiredLevelId" [^>]*aria-invalid="true" aria-describedby="rubric\.criteria\.0\.requiredLevelId-error">/);
    // Choose the passing levels (radios carry level ids) and save.
    const h = formPairs(noPassing.body, 'credential-form');
    const levelId = (i: number, j: number) => valueOf(h.pairs, `rubric.criteria.${i}.levels.${j}.id`)!;
    const saved = await post(h.action, [...set(h.pairs, { 'rubric.criteria.0.requiredLevelId': levelId(0, 0), 'rubric.criteria.1.requiredLevelId': levelId(1, 1) }), ['action', 'save']]);
    expect(saved.status).toBe(200);
    expect(saved.url).toMatch(/\/catalog\/credentials\/[0-9a-f-]{36}\?done=created$/);
    credentialId = /credentials\/([0-9a-f-]{36})/.exec(saved.url)![1]!;
    expect(text(saved.body)).toContain('The draft was created.');
    expect(saved.body).toContain('Continuing education units: <output id="ceus" for="hours" data-ceus>1.2</output> CEU');

    const api = sessionOf(saved);
    const view = await body<{ current: { definition: ReturnType<typeof techLeaderI> } }>(await api.api(`/api/catalog/credentials/${credentialId}`));
    const rubric = view.current.definition.rubric;
    expect(rubric.criteria.map((c) => c.title)).toEqual(['Reflects with students', 'Plans the unit']);
    expect(rubric.criteria[0]!.levels.map((l) => [l.name, l.points])).toEqual([['Meets', 1], ['Not yet', 0]]);
    expect(rubric.criteria[1]!.levels.map((l) => [l.name, l.points])).toEqual([['Exceeds', 2], ['Meets', 1], ['Not yet', 0]]);
    expect(rubric.criteria[0]!.requiredLevelId).toBe(rubric.criteria[0]!.levels[0]!.id);
    expect(rubric.criteria[1]!.requiredLevelId).toBe(rubric.criteria[1]!.levels[1]!.id);
    expect(view.current.definition).toMatchObject({ name: 'Blended learning design', hours: 12, evidencePrompts: [{ prompt: 'Upload your unit plan.', kinds: ['text', 'file'] }] });
  });

  it('says on the field when the rubric has no criteria, a level has no name, or expiry is blank', async () => {
    const page = await get(`/catalog/credentials/${credentialId}`);
    const f = formPairs(page.body, 'credential-form');
    const noCriteria = f.pairs.filter(([k]) => !k.startsWith('rubric.criteria.'));
    const res = await post(f.action, [...noCriteria, ['action', 'save']]);
    expect(res.status).toBe(400);
    expect(fieldError(res.body, 'rubric.criteria')).toBe('Add at least one criterion to the rubric.');
    expect(summaryLinks(res.body)).toContainEqual(['rubric.criteria', 'Add at least one criterion to the rubric.']);
    const blank = await post(f.action, [...set(f.pairs, { 'rubric.criteria.1.levels.2.name': '', expiry: 'months', expiryMonths: '' }), ['action', 'save']]);
    expect(fieldError(blank.body, 'rubric.criteria.1.levels.2.name')).toBe('Name every level (for example “Meets”).');
    expect(fieldError(blank.body, 'expiryMonths')).toBe('Expiry is at least 1 month (or none).');
  });

  it('refuses a badge file that is not an image or is too large, and takes a real PNG', async () => {
    const { csrf } = sessionOf(await get(`/catalog/credentials/${credentialId}`));
    const upload = async (bytes: Buffer, type: string, name: string) => {
      const fd = new FormData();
      fd.set('_csrf', csrf);
      fd.set('image', new Blob([new Uint8Array(bytes)], { type }), name);
      const res = await fetch(`${base}/catalog/credentials/${credentialId}/image`, { method: 'POST', body: fd, redirect: 'manual' });
      return { status: res.status, location: res.headers.get('location'), body: await res.text() };
    };
    const notImage = await upload(Buffer.from('this is a letter, not a picture'), 'image/png', 'letter.png');
    expect(notImage.status).toBe(400);
    expect(fieldError(notImage.body, 'image')).toMatch(/PNG/);
    expect(inputTag(notImage.body, 'image')).toContain('aria-invalid="true"');
    const pdf = await upload(Buffer.from('%PDF-1.4'), 'application/pdf', 'plan.pdf');
    expect(fieldError(pdf.body, 'image')).toBe('“plan.pdf” is not a PNG or SVG image. Upload a PNG or an SVG image.');
    const huge = await upload(Buffer.concat([png(), Buffer.alloc(1024 * 1024 + 200 * 1024, 1)]), 'image/png', 'huge.png');
    expect(huge.status).toBe(400);
    expect(fieldError(huge.body, 'image')).toBe('Badge images can be at most 1 MB.');
    const ok = await upload(png(64, 64), 'image/png', 'badge.png');
    expect(ok.status).toBe(303);
    expect(ok.location).toMatch(/\?done=image#badge$/);
    const img = await fetch(`${base}/api/catalog/credentials/${credentialId}/image`);
    expect(img.headers.get('content-type')).toBe('image/png');
  });

  it('publishes after a confirmation page, then editing says a new version will be made', async () => {
    let page = await get(`/catalog/credentials/${credentialId}`);
    const form = formByAction(page.body, `/catalog/credentials/${credentialId}/publish`);
    expect(page.body).toContain('data-confirm="Publish this micro-credential? Educators in this district will see it."');
    // Without JavaScript, the first post only asks.
    const ask = await post(form.action, form.pairs);
    expect(ask.body).toContain('<h1 class="page-header__title">Publish “Blended learning design”?</h1>');
    const confirm = formByAction(ask.body, `/catalog/credentials/${credentialId}/publish`);
    expect(valueOf(confirm.pairs, 'confirmed')).toBe('yes');
    page = await post(confirm.action, confirm.pairs);
    expect(page.url).toMatch(/\?done=published$/);
    expect(page.body).toContain('<span class="pill pill--published">Published</span>');
    expect(text(page.body)).toContain('Saving changes creates version 2 as a draft. Educators keep seeing version 1 until you publish it');

    const saved = await press(page, 'save', { hours: '15' });
    expect(saved.url).toMatch(/\?done=saved$/);
    expect(text(saved.body)).toContain('You are editing draft version 2. Educators keep seeing version 1 until you publish it');
    expect(saved.body).toContain('>Publish version 2</button>');
    const preview = await get(`/catalog/credentials/${credentialId}/preview`);
    expect(text(preview.body)).toContain('Version 2 (draft, not yet published)');
    expect(text(preview.body)).toContain('15 hours (1.5 CEU)');
    expect(text(preview.body)).toContain('Reflects with students');
    expect(preview.body).toContain('<span class="pill pill--success">Passing level</span>');
  });

  it('attaches to Canvas modules and an assignment read live, once the designer has connected Canvas', async () => {
    // Not connected yet: the app shows how to connect instead of an error.
    const first = await get(`/catalog/credentials/${credentialId}/attach`);
    expect(first.status).toBe(401);
    expect(first.body).toContain('<h1 class="page-header__title">Connect microcred to Canvas</h1>');

    // The district's API key, and the designer's own token (as the OAuth2 flow would store it).
    const ctx = (await stack.tool.app.repos.sessions.load(new URL(base).pathname.split('/')[2]!))!;
    const key = stack.sandbox.createApiKey({ redirectUris: [`${stack.tool.url}/canvas/oauth/callback`] });
    await stack.tool.app.canvas.store.setApiKey(ctx.tenant.id, key.clientId, key.clientSecret);
    const t = stack.sandbox.issueUserToken({ userId: '2', clientId: key.clientId });
    await stack.tool.app.canvas.store.saveUserToken(ctx.tenant.id, ctx.user.id, { clientId: key.clientId, canvasUserId: '2', accessToken: t.accessToken, refreshToken: t.refreshToken, expiresInSeconds: t.expiresIn, scopes: [] });
    stack.sandbox.data.assignment(2003)!.published = false;

    const page = await get(`/catalog/credentials/${credentialId}/attach`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<label for="moduleIds">Digital Citizenship</label>');
    expect(page.body).toMatch(/id="assignmentId-2003" name="assignmentId" value="2003" disabled><label for="assignmentId-2003">Share a Google Classroom assignment <span class="text-muted">\(unpublished in Canvas\)<\/span>/);
    expect(text(page.body)).toContain('Import this assignment’s Canvas rubric');
    const f = formByAction(page.body, '/attach');

    const foreign = await post(f.action, [...f.pairs, ['moduleIds', '1001'], ['moduleIds', '1101'], ['assignmentId', '2005']]);
    expect(foreign.status).toBe(400);
    expect(fieldError(foreign.body, 'moduleIds')).toBe('Module 1101 is not in this course. Choose modules from “Tech Leader I” (modules from another course cannot be required).');
    expect(foreign.body).toMatch(/id="moduleIds" name="moduleIds" value="1001" checked aria-invalid="true"/);
    // A stale page: the assignment was unpublished in Canvas after the page was shown.
    const stale = await post(f.action, [...f.pairs, ['moduleIds', '1003'], ['assignmentId', '2003']]);
    expect(fieldError(stale.body, 'assignmentId')).toBe('“Share a Google Classroom assignment” is an unpublished assignment. Publish it in Canvas first, so earners can submit their evidence.');

    const ok = await post(f.action, [...f.pairs, ...['1001', '1002', '1003', '1004', '1005'].map((m): [string, string] => ['moduleIds', m]), ['assignmentId', '2005']]);
    expect(ok.url).toMatch(/\?done=attached$/);
    const again = await get(`/catalog/credentials/${credentialId}/attach`);
    expect(text(again.body)).toContain('Attached now: 5 modules and assignment 2005.');
    expect(again.body).toMatch(/value="2005" checked/);
  });

  it('retires after confirming, and a retired credential is no longer editable', async () => {
    const page = await get(`/catalog/credentials/${credentialId}`);
    const form = formByAction(page.body, `/catalog/credentials/${credentialId}/retire`);
    const ask = await post(form.action, form.pairs);
    expect(ask.body).toContain('>Retire micro-credential</button>');
    const done = await post(formByAction(ask.body, '/retire').action, formByAction(ask.body, '/retire').pairs);
    expect(done.url).toMatch(/\?done=retired$/);
    expect(done.body).toContain('<span class="pill pill--retired">Retired</span>');
    expect(done.body).not.toContain('id="credential-form"');
    expect(text(done.body)).toContain('A retired micro-credential cannot be changed or published again.');
  });

  it('edits a stack: adds and orders members, refuses a stack that contains itself, saves and publishes', async () => {
    const api = sessionOf(home);
    const ids: string[] = [];
    for (const name of ['Stack member A', 'Stack member B']) {
      const v = await body<{ id: string }>(await api.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name }) }));
      await api.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' });
      ids.push(v.id);
    }
    const stackForm = (p: Page) => formByAction(p.body, '/catalog/stacks/new');
    let page = await get('/catalog/stacks/new');
    const empty = await post(stackForm(page).action, [...set(stackForm(page).pairs, { name: 'Blended pair' }), ['action', 'save']]);
    expect(empty.status).toBe(400);
    expect(fieldError(empty.body, 'members')).toBe('Add at least one micro-credential to the stack.');
    page = await post(stackForm(empty).action, [...set(stackForm(empty).pairs, { addMember: ids[0]! }), ['action', 'add-member']]);
    page = await post(stackForm(page).action, [...set(stackForm(page).pairs, { addMember: ids[1]! }), ['action', 'add-member']]);
    expect(text(page.body)).toMatch(/1\. Stack member A .*2\. Stack member B/);
    page = await post(stackForm(page).action, [...stackForm(page).pairs, ['action', 'member-up:1']]);
    expect(text(page.body)).toMatch(/1\. Stack member B .*2\. Stack member A/);
    expect(inputTag(page.body, 'name')).toContain('value="Blended pair"');

    // B requires A and A requires B: a stack that contains itself.
    const loop = await post(stackForm(page).action, [...set(stackForm(page).pairs, { kind: 'n_of_m', requiredCount: '1', 'members.0.prerequisiteIds': ids[0]!, 'members.1.prerequisiteIds': ids[1]! }), ['action', 'save']]);
    expect(loop.status).toBe(400);
    expect(fieldError(loop.body, 'members.0.prerequisiteIds')).toBe('A stack cannot contain itself: “Stack member B” requires “Stack member A” requires “Stack member B”.');
    expect(summaryLinks(loop.body)[0]).toEqual(['members.0.prerequisiteIds', 'A stack cannot contain itself: “Stack member B” requires “Stack member A” requires “Stack member B”.']);
    const tooMany = await post(stackForm(loop).action, [...set(stackForm(loop).pairs, { 'members.0.prerequisiteIds': [], requiredCount: '5' }), ['action', 'save']]);
    expect(fieldError(tooMany.body, 'requiredCount')).toBe('Choose how many of the 2 micro-credentials earn the stack (1 to 2).');

    const saved = await post(stackForm(tooMany).action, [...set(stackForm(tooMany).pairs, { requiredCount: '2' }), ['action', 'save']]);
    expect(saved.url).toMatch(/\/catalog\/stacks\/[0-9a-f-]{36}\?done=stack-created$/);
    const stackId = /stacks\/([0-9a-f-]{36})/.exec(saved.url)![1]!;
    const pub = formByAction(saved.body, `/catalog/stacks/${stackId}/publish`);
    const confirmed = await post(pub.action, set(pub.pairs, { confirmed: 'yes' }));
    expect(confirmed.url).toMatch(/\?done=stack-published$/);
    const s = await body<{ state: string; kind: string; requiredCount: number; members: { name: string; prerequisiteIds: string[] }[] }>(await api.api(`/api/catalog/stacks/${stackId}`));
    expect(s).toMatchObject({ state: 'published', kind: 'n_of_m', requiredCount: 2, members: [{ name: 'Stack member B', prerequisiteIds: [] }, { name: 'Stack member A', prerequisiteIds: [ids[1]] }] });
  });

  it('lets another course copy a published credential from the district catalog', async () => {
    const other = await stack.launch('2', { courseId: '102' });
    const otherBase = sessionOf(other.page).base;
    const list = await other.browser.get(`${otherBase}/catalog`);
    expect(text(list.body)).toContain('District catalog');
    expect(list.body).toContain('aria-label="Copy Stack member A into this course"');
    const copy = formByAction(list.body.slice(list.body.indexOf('District catalog')), '/copy');
    const res = await other.browser.request('POST', new URL(copy.action, otherBase).toString(), new URLSearchParams(copy.pairs).toString());
    expect(res.url).toMatch(/\?done=copied$/);
    expect(res.body).toContain('<span class="pill pill--draft">Draft</span>');
  });

  describe('authorization', () => {
    it('refuses the pages to an earner (403)', async () => {
      const earner = await stack.launch('101', { courseId: '101' });
      const eBase = sessionOf(earner.page).base;
      for (const path of ['/catalog', '/catalog/credentials/new', `/catalog/credentials/${credentialId}`, '/catalog/stacks/new']) {
        expect((await earner.browser.get(eBase + path)).status).toBe(403);
      }
      const csrf = sessionOf(earner.page).csrf;
      expect((await earner.browser.post(`${eBase}/catalog/starter`, { _csrf: csrf })).status).toBe(403);
    });

    it('refuses another course’s designer (403 on what they may see, 404 on drafts they may not)', async () => {
      const api = sessionOf(home);
      const published = await body<{ id: string }>(await api.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Owned by 101' }) }));
      await api.api(`/api/catalog/credentials/${published.id}/publish`, { method: 'POST' });
      const draft = await body<{ id: string }>(await api.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Draft of 101' }) }));
      const other = await stack.launch('2', { courseId: '102' });
      const o = sessionOf(other.page);
      expect((await other.browser.get(`${o.base}/catalog/credentials/${published.id}`)).status).toBe(403);
      expect((await other.browser.get(`${o.base}/catalog/credentials/${published.id}/attach`)).status).toBe(403);
      expect((await other.browser.post(`${o.base}/catalog/credentials/${published.id}/retire`, { _csrf: o.csrf, confirmed: 'yes' })).status).toBe(403);
      expect((await other.browser.post(`${o.base}/catalog/credentials/${published.id}`, { _csrf: o.csrf, action: 'save', name: 'Mine now' })).status).toBe(403);
      expect((await other.browser.get(`${o.base}/catalog/credentials/${draft.id}`)).status).toBe(404);
      // Without the CSRF token nothing changes either.
      expect((await browser.post(`${base}/catalog/credentials/${draft.id}/retire`, { confirmed: 'yes' })).status).toBe(403);
    });

    it('lets only admins set the issuer profile, with errors on the fields', async () => {
      const { csrf } = sessionOf(home);
      expect((await get('/admin/issuer')).status).toBe(403);
      expect((await browser.post(`${base}/admin/issuer`, { _csrf: csrf, name: 'x' })).status).toBe(403);
      const admin = await stack.launch('1', { courseId: '101' });
      const a = sessionOf(admin.page);
      const adminHome = await admin.browser.get(`${a.base}/admin`);
      expect(adminHome.body).toContain(`href="${new URL(a.base).pathname}/admin/issuer"`);
      const page = await admin.browser.get(`${a.base}/admin/issuer`);
      expect(page.status).toBe(200);
      const send = async (fields: Record<string, string>, file?: { bytes: Buffer; type: string; name: string }) => {
        const fd = new FormData();
        fd.set('_csrf', a.csrf);
        for (const [k, v] of Object.entries(fields)) fd.set(k, v);
        if (file) fd.set('image', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
        const res = await fetch(`${a.base}/admin/issuer`, { method: 'POST', body: fd, redirect: 'manual' });
        return { status: res.status, location: res.headers.get('location'), body: await res.text() };
      };
      const bad = await send({ name: 'Queen City Public Schools', url: 'qcps', email: 'not an email' });
      expect(bad.status).toBe(400);
      expect(fieldError(bad.body, 'url')).toBe('Enter a web address starting with https:// or http://.');
      expect(fieldError(bad.body, 'email')).toBe('Enter an email address.');
      expect(inputTag(bad.body, 'name')).toContain('value="Queen City Public Schools"');
      const ok = await send({ name: 'Queen City Public Schools', url: 'https://qcps.example.org', email: 'badges@qcps.example.org' }, { bytes: png(8, 8), type: 'image/png', name: 'logo.png' });
      expect(ok.status).toBe(303);
      const profile = await body<{ name: string; imageId: string | null }>(await a.api('/api/catalog/issuer'));
      expect(profile).toMatchObject({ name: 'Queen City Public Schools' });
      expect(profile.imageId).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  it('parses the forms the way the shared test browser does for plain inputs', () => {
    // parseForm (the shared helper) sees the hidden fields of a publish form the same way.
    const html = `<form method="post" action="/x/publish"><input type="hidden" name="_csrf" value="t"><input type="hidden" name="confirmed" value=""></form>`;
    expect(parseForm(html)!.fields).toEqual(Object.fromEntries(formByAction(html, '/publish').pairs));
  });
});
