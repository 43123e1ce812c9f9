import { startStack, type Stack } from '../support/stack';
import { apiAs, body, forgetAndStop, png, techLeaderI, type Api } from './support';

interface View { id: string; key: string; state: string; course: { id: string; title: string }; copiedFromId: string | null; current: { id: string; version: number; publishedAt: string | null; definition: ReturnType<typeof techLeaderI>; ceus: number }; pendingDraft: View['current'] | null; versions: { id: string; version: number }[]; canChange: boolean }
interface ErrorBody { error: { code: string; message: string; fields: Record<string, string> } }

/** A course designer builds, edits, publishes and retires micro-credentials over the JSON API. */
describe('designing micro-credentials', () => {
  let stack: Stack;
  let designer: Api;
  beforeAll(async () => {
    stack = await startStack();
    designer = await apiAs(stack, '2');
  });
  afterAll(() => forgetAndStop(stack));

  const create = async (over: Parameters<typeof techLeaderI>[0] = {}) => {
    const res = await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI(over) });
    expect(res.status).toBe(201);
    return body<View>(res);
  };

  it('creates a draft with a key, version 1 and its CEUs', async () => {
    const v = await create();
    // Check the response
    expect(v).toMatchObject({ key: 'tech-leader-i', state: 'draft', course: { title: 'Tech Leader I' }, canChange: true, current: { version: 1, publishedAt: null, ceus: 1.5 } });
    expect(v.current.definition).toEqual(techLeaderI());
    // Check the new state
    const again = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}`));
    expect(again.current.definition.name).toBe('Tech Leader I');
    const second = await create();
    expect(second.key).toBe('tech-leader-i-2');
  });

  it.each([
    ['an empty name', { name: '   ' }, 'name', 'Give the micro-credential a name.'],
    ['negative hours', { hours: -2 }, 'hours', 'Hours cannot be negative.'],
    ['a rubric without criteria', { rubric: { criteria: [] } }, 'rubric.criteria', 'Add at least one criterion to the rubric.'],
    ['a criterion without a passing level', { rubric: { criteria: [{ ...techLeaderI().rubric.criteria[0]!, requiredLevelId: undefined }] } }, 'rubric.criteria.0.requiredLevelId', 'Choose the level of “Digital citizenship lesson” that meets the bar (its passing level).'],
    ['a total threshold above the rubric', { passingRule: { kind: 'total' as const, threshold: 99 } }, 'passingRule.threshold', 'Set a passing total above 0 and at most the rubric’s 12 points.'],
    ['an alignment without a web address', { alignments: [{ framework: 'ISTE', name: 'x', url: 'javascript:alert(1)' }] }, 'alignments.0.url', 'Enter a web address starting with https:// or http://.'],
  ])('refuses %s with a message on the field', async (_what, over, field, message) => {
    const res = await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI(over as never) });
    expect(res.status).toBe(400);
    const b = await body<ErrorBody>(res);
    expect(b.error.code).toBe('invalid_input');
    expect(b.error.fields[field]).toBe(message);
  });

  it('edits a draft in place, publishes it, then versions an edit of the published credential', async () => {
    const v = await create({ name: 'Digital Citizenship Basics' });
    const edited = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}`, { method: 'PUT', json: techLeaderI({ name: 'Digital Citizenship Basics', hours: 6 }) }));
    expect(edited.current).toMatchObject({ id: v.current.id, version: 1, ceus: 0.6 });

    const published = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' }));
    expect(published.state).toBe('published');
    expect(published.current.publishedAt).not.toBeNull();

    // Editing the published credential makes version 2, a draft; earners still see version 1.
    const res = await designer.api(`/api/catalog/credentials/${v.id}`, { method: 'PUT', json: techLeaderI({ name: 'Digital Citizenship Basics', hours: 8, tags: ['revised'] }) });
    const v2 = await body<View>(res);
    expect(v2.current).toMatchObject({ id: v.current.id, version: 1, definition: { hours: 6 } });
    expect(v2.pendingDraft).toMatchObject({ version: 2, publishedAt: null, definition: { hours: 8, tags: ['revised'] } });
    // A second edit changes the same pending draft, not a third version.
    const again = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}`, { method: 'PUT', json: techLeaderI({ name: 'Digital Citizenship Basics', hours: 9 }) }));
    expect(again.pendingDraft).toMatchObject({ id: v2.pendingDraft!.id, version: 2, definition: { hours: 9 } });

    const republished = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' }));
    expect(republished.current).toMatchObject({ version: 2, definition: { hours: 9 } });
    expect(republished.pendingDraft).toBeNull();
    expect(republished.versions.map((x) => x.version)).toEqual([1, 2]);

    // Version 1, which earned badges point at, is exactly as it was published.
    const old = await body<View['current']>(await designer.api(`/api/catalog/credentials/${v.id}/versions/1`));
    expect(old).toMatchObject({ id: v.current.id, version: 1, definition: { hours: 6 } });
    // And the database refuses to change a published version at all.
    await expect(stack.tool.db.sql.query('UPDATE micro_credential_versions SET hours = 1 WHERE id = $1', [v.current.id])).rejects.toThrow(/published and cannot change/);
  });

  it('refuses to publish without an evidence prompt', async () => {
    const v = await create({ name: 'No Evidence Yet', evidencePrompts: [] });
    const res = await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect((await body<ErrorBody>(res)).error.fields.evidencePrompts).toBe('Add at least one evidence prompt before publishing.');
  });

  it('retires a credential, which then cannot be edited or published', async () => {
    const v = await create({ name: 'Retiring Soon' });
    await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' });
    const retired = await body<View>(await designer.api(`/api/catalog/credentials/${v.id}/retire`, { method: 'POST' }));
    expect(retired.state).toBe('retired');
    const edit = await designer.api(`/api/catalog/credentials/${v.id}`, { method: 'PUT', json: techLeaderI({ name: 'Retiring Soon' }) });
    expect(edit.status).toBe(409);
    expect((await body<ErrorBody>(edit)).error.message).toMatch(/retired micro-credential cannot be changed/);
    expect((await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' })).status).toBe(409);
  });

  it('lists and searches the catalog by words, tag and state', async () => {
    await create({ name: 'Searchable SAMR Ladder', competency: 'Moves lessons up the SAMR ladder.', tags: ['samr-special'] });
    const all = await body<{ name: string; state: string }[]>(await designer.api('/api/catalog/credentials'));
    expect(all.length).toBeGreaterThanOrEqual(5);
    const byWord = await body<{ name: string }[]>(await designer.api('/api/catalog/credentials?q=ladder'));
    expect(byWord.map((x) => x.name)).toEqual(['Searchable SAMR Ladder']);
    const byTag = await body<{ name: string }[]>(await designer.api('/api/catalog/credentials?tag=SAMR-special'));
    expect(byTag.map((x) => x.name)).toEqual(['Searchable SAMR Ladder']);
    const retired = await body<{ name: string; state: string }[]>(await designer.api('/api/catalog/credentials?state=retired'));
    expect(retired.map((x) => x.name)).toEqual(['Retiring Soon']);
    // A LIKE wildcard in the search is a character, not a pattern.
    expect(await body<unknown[]>(await designer.api('/api/catalog/credentials?q=%25'))).toEqual([]);
  });

  it('copies a published credential from course 101 into course 102 as a draft of that course', async () => {
    const v = await create({ name: 'Shared Across Courses' });
    await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' });
    const in102 = await apiAs(stack, '2', '102');
    const res = await in102.api(`/api/catalog/credentials/${v.id}/copy`, { method: 'POST' });
    expect(res.status).toBe(201);
    const copy = await body<View>(res);
    expect(copy).toMatchObject({ state: 'draft', course: { title: 'Tech Leader II' }, copiedFromId: v.id, key: 'shared-across-courses-2', current: { version: 1 } });
    expect(copy.current.definition).toEqual(v.current.definition);
    // The copy belongs to course 102: its designers change it; the original is untouched.
    const edited = await in102.api(`/api/catalog/credentials/${copy.id}`, { method: 'PUT', json: techLeaderI({ name: 'Shared, adapted for TL II' }) });
    expect(edited.status).toBe(200);
    expect((await body<View>(await designer.api(`/api/catalog/credentials/${v.id}`))).current.definition.name).toBe('Shared Across Courses');
  });

  it('exports Open Badges 3.0 Achievements and imports them back unchanged', async () => {
    const upload = await body<{ id: string }>(await designer.api('/api/catalog/images', { method: 'POST', json: { contentType: 'image/png', base64: png(4, 4).toString('base64') } }));
    const a = await create({ name: 'Round Trip Uploaded', image: { kind: 'upload', imageId: upload.id }, expiryMonths: 36, passingRule: { kind: 'total', threshold: 8 } });
    const b = await create({ name: 'Round Trip Generated', description: '', image: { kind: 'generated', level: 'Level II', color: '#0B874B' } });
    const exported = await body<{ format: string; achievements: Record<string, unknown>[] }>(await designer.api(`/api/catalog/export?ids=${a.id},${b.id}`));
    expect(exported.format).toBe('microcred.achievements');
    expect(exported.achievements).toHaveLength(2);
    const first = exported.achievements.find((x) => x.name === 'Round Trip Uploaded')!;
    expect(first).toMatchObject({ id: `${stack.tool.url}/achievements/${a.current.id}`, type: ['Achievement'], achievementType: 'MicroCredential', creditsAvailable: 1.5, image: { type: 'Image' } });
    expect(String((first.image as { id: string }).id)).toMatch(/^data:image\/png;base64,/);

    const res = await designer.api('/api/catalog/import', { method: 'POST', json: { achievements: exported.achievements } });
    expect(res.status).toBe(201);
    const imported = (await body<{ credentials: View[] }>(res)).credentials;
    expect(imported.map((x) => x.state)).toEqual(['draft', 'draft']);
    const byName = new Map(imported.map((x) => [x.current.definition.name, x]));
    expect(byName.get('Round Trip Uploaded')!.current.definition).toEqual(a.current.definition);
    expect(byName.get('Round Trip Generated')!.current.definition).toEqual(b.current.definition);

    // Exporting the imported copies gives the same Achievements, apart from the ids they live at.
    const again = await body<{ achievements: Record<string, unknown>[] }>(await designer.api(`/api/catalog/export?ids=${imported.map((x) => x.id).join(',')}`));
    const strip = (list: Record<string, unknown>[], ids: string[]) => JSON.parse(ids.reduce((s, id) => s.split(id).join('VERSION'), JSON.stringify(list.map((x) => ({ ...x, humanCode: undefined })))));
    const sortByName = (l: Record<string, unknown>[]) => [...l].sort((x, y) => String(x.name).localeCompare(String(y.name)));
    expect(strip(sortByName(again.achievements), imported.map((x) => x.current.id))).toEqual(strip(sortByName(exported.achievements), [a.current.id, b.current.id]));
  });

  it('refuses an import whose Achievements are broken, naming each field, and creates nothing', async () => {
    const before = (await body<unknown[]>(await designer.api('/api/catalog/credentials'))).length;
    const res = await designer.api('/api/catalog/import', { method: 'POST', json: { achievements: [{ type: ['Achievement'], name: 'Fine but no rubric', description: 'x', criteria: { narrative: 'x' } }, { type: ['Badge'], name: 'x' }] } });
    expect(res.status).toBe(400);
    const b = await body<ErrorBody>(res);
    expect(b.error.fields['achievements.0.rubric.criteria']).toBe('Add at least one criterion to the rubric.');
    expect(b.error.fields['achievements.1.type']).toMatch(/not an Open Badges Achievement/);
    expect((await body<unknown[]>(await designer.api('/api/catalog/credentials'))).length).toBe(before);
  });

  it('installs the starter catalog once: Tech Leader I, II, III and their ordered stack', async () => {
    const res = await designer.api('/api/catalog/starter', { method: 'POST' });
    expect(res.status).toBe(201);
    const first = await body<{ created: string[]; skipped: string[]; stackIds: string[] }>(res);
    // tech-leader-i was created by the first story of this file, so only II, III and the stack are new.
    expect(first.created).toEqual(['tech-leader-ii', 'tech-leader-iii', 'tech-leader']);
    expect(first.skipped).toEqual(['tech-leader-i']);
    const stackView = await body<{ kind: string; members: { name: string }[] }>(await designer.api(`/api/catalog/stacks/${first.stackIds[0]}`));
    expect(stackView).toMatchObject({ kind: 'ordered', members: [{ name: 'Tech Leader I' }, { name: 'Tech Leader II' }, { name: 'Tech Leader III' }] });
    const second = await body<{ created: string[] }>(await designer.api('/api/catalog/starter', { method: 'POST' }));
    expect(second.created).toEqual([]);
  });
});
