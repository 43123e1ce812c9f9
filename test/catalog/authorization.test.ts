import { startStack, type Stack } from '../support/stack';
import { apiAs, body, forgetAndStop, sandboxCourseReader, techLeaderI, type Api } from './support';

interface View { id: string; state: string; canChange: boolean; pendingDraft: unknown; versions: { version: number }[] }

/**
 * Who may do what with the catalog: the course's designers (and admins) change its credentials, earners see
 * published ones only, another course's designer may look but not touch, another tenant sees nothing at all.
 */
describe('catalog authorization', () => {
  let stack: Stack;
  let designer: Api;
  let earner: Api;
  let draftId: string;
  let publishedId: string;
  let stackId: string;
  beforeAll(async () => {
    stack = await startStack();
    stack.tool.app.catalog.setCourseReader(sandboxCourseReader(stack));
    designer = await apiAs(stack, '2');
    earner = await apiAs(stack, '101');
    draftId = (await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'A Draft' }) }))).id;
    publishedId = (await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Published One' }) }))).id;
    await designer.api(`/api/catalog/credentials/${publishedId}/publish`, { method: 'POST' });
    // A pending edit earners must not see.
    await designer.api(`/api/catalog/credentials/${publishedId}`, { method: 'PUT', json: techLeaderI({ name: 'Published One', hours: 99 }) });
    stackId = (await body<{ id: string }>(await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Draft stack', kind: 'ordered', members: [{ credentialId: publishedId }] } }))).id;
  });
  afterAll(() => forgetAndStop(stack));

  const writes = () => [
    ['POST', '/api/catalog/credentials', techLeaderI()],
    ['PUT', `/api/catalog/credentials/${publishedId}`, techLeaderI()],
    ['POST', `/api/catalog/credentials/${publishedId}/publish`, undefined],
    ['POST', `/api/catalog/credentials/${publishedId}/retire`, undefined],
    ['POST', `/api/catalog/credentials/${publishedId}/copy`, undefined],
    ['PUT', `/api/catalog/credentials/${publishedId}/attachment`, { moduleIds: ['1001'], assignmentId: '2005' }],
    ['POST', '/api/catalog/stacks', { name: 'x', kind: 'ordered', members: [{ credentialId: publishedId }] }],
    ['POST', '/api/catalog/images', { contentType: 'image/png', base64: 'AAAA' }],
    ['POST', '/api/catalog/import', { achievements: [{}] }],
    ['POST', '/api/catalog/starter', undefined],
    ['PUT', '/api/catalog/issuer', { name: 'x', url: 'https://x.example', email: 'a@x.example' }],
  ] as const;

  it('gives an earner 403 on every write', async () => {
    for (const [method, path, json] of writes()) {
      const res = await earner.api(path, { method, json });
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
  });

  it('shows an earner published credentials only, without drafts or pending edits', async () => {
    const list = await body<{ id: string; name: string; hours: number }[]>(await earner.api('/api/catalog/credentials'));
    expect(list.map((x) => x.name)).toEqual(['Published One']);
    expect(list[0]!.hours).toBe(15);
    expect((await earner.api(`/api/catalog/credentials/${draftId}`)).status).toBe(404);
    expect((await earner.api(`/api/catalog/credentials/${draftId}/image`)).status).toBe(404);
    const one = await body<View>(await earner.api(`/api/catalog/credentials/${publishedId}`));
    expect(one).toMatchObject({ canChange: false, pendingDraft: null, versions: [{ version: 1 }] });
    expect((await earner.api(`/api/catalog/credentials/${publishedId}/versions/2`)).status).toBe(404);
    expect((await earner.api(`/api/catalog/stacks/${stackId}`)).status).toBe(404);
    expect(await body<unknown[]>(await earner.api('/api/catalog/stacks'))).toEqual([]);
    const exported = await body<{ achievements: { name: string }[] }>(await earner.api(`/api/catalog/export?ids=${draftId},${publishedId}`));
    expect(exported.achievements.map((a) => a.name)).toEqual(['Published One']);
  });

  it('refuses a write without the CSRF token', async () => {
    const res = await fetch(`${designer.base}/api/catalog/credentials`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(techLeaderI()) });
    expect(res.status).toBe(403);
  });

  it('lets another course’s designer see the shared catalog but not change course 101’s credentials (403)', async () => {
    // Lena (3) teaches both courses: in course 102 she designs course 102's credentials, not course 101's.
    const other = await apiAs(stack, '3', '102');
    const seen = await body<View>(await other.api(`/api/catalog/credentials/${publishedId}`));
    expect(seen.canChange).toBe(false);
    expect(seen.pendingDraft).toBeNull();
    for (const [method, path, json] of [
      ['PUT', `/api/catalog/credentials/${publishedId}`, techLeaderI()],
      ['POST', `/api/catalog/credentials/${publishedId}/publish`, undefined],
      ['POST', `/api/catalog/credentials/${publishedId}/retire`, undefined],
      ['PUT', `/api/catalog/credentials/${publishedId}/attachment`, { moduleIds: ['1101'], assignmentId: '2101' }],
    ] as const) {
      const res = await other.api(path, { method, json });
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
    // Course 101's drafts are not part of the shared catalog.
    expect((await other.api(`/api/catalog/credentials/${draftId}`)).status).toBe(404);
    expect((await other.api(`/api/catalog/stacks/${stackId}`)).status).toBe(404);
    // Copying it into course 102 is how she reuses it.
    expect((await other.api(`/api/catalog/credentials/${publishedId}/copy`, { method: 'POST' })).status).toBe(201);
    // Nothing changed in course 101.
    expect((await body<View>(await designer.api(`/api/catalog/credentials/${publishedId}`))).state).toBe('published');
  });

  it('lets a designer newly enrolled in course 102 change nothing of course 101', async () => {
    stack.sandbox.actions.enroll(102, 104, 'DesignerEnrollment');
    const newcomer = await apiAs(stack, '104', '102');
    const res = await newcomer.api(`/api/catalog/credentials/${publishedId}/retire`, { method: 'POST' });
    expect(res.status).toBe(403);
  });

  it('lets an admin change any credential of the tenant', async () => {
    const admin = await apiAs(stack, '1', '102');
    const list = await body<{ name: string }[]>(await admin.api('/api/catalog/credentials?state=draft'));
    expect(list.map((x) => x.name)).toContain('A Draft');
    const res = await admin.api(`/api/catalog/credentials/${draftId}`, { method: 'PUT', json: techLeaderI({ name: 'A Draft, fixed by the district' }) });
    expect(res.status).toBe(200);
  });

  it('shows another tenant nothing: its lists are empty and every id is 404', async () => {
    const second = await startStack();
    try {
      const foreign = await apiAs(second, '2');
      expect(await body<unknown[]>(await foreign.api('/api/catalog/credentials'))).toEqual([]);
      expect(await body<unknown[]>(await foreign.api('/api/catalog/stacks'))).toEqual([]);
      expect((await body<{ achievements: unknown[] }>(await foreign.api(`/api/catalog/export?ids=${publishedId}`))).achievements).toEqual([]);
      for (const [method, path] of [
        ['GET', `/api/catalog/credentials/${publishedId}`],
        ['GET', `/api/catalog/credentials/${publishedId}/versions/1`],
        ['GET', `/api/catalog/credentials/${publishedId}/image`],
        ['PUT', `/api/catalog/credentials/${publishedId}`],
        ['POST', `/api/catalog/credentials/${publishedId}/publish`],
        ['POST', `/api/catalog/credentials/${publishedId}/retire`],
        ['POST', `/api/catalog/credentials/${publishedId}/copy`],
        ['GET', `/api/catalog/stacks/${stackId}`],
        ['POST', `/api/catalog/stacks/${stackId}/publish`],
      ] as const) {
        const res = await foreign.api(path, { method, json: method === 'PUT' ? techLeaderI() : undefined });
        const b = await body<{ error: { code: string; message: string } }>(res);
        expect([method, path, res.status, b.error.code]).toEqual([method, path, 404, 'not_found']);
        expect(b.error.message).not.toContain('Published One');
      }
      // A stack in the other tenant cannot reach across either.
      const s = await foreign.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Reach', kind: 'ordered', members: [{ credentialId: publishedId }] } });
      expect((await body<{ error: { fields: Record<string, string> } }>(s)).error.fields['members.0.credentialId']).toMatch(/not found/);
      // Removing a tenant removes its whole catalog, and nobody else's.
      await foreign.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI() });
      const count = async (s: Stack) =>
        (await stack.tool.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM micro_credentials m JOIN tenants t ON t.id = m.tenant_id WHERE t.client_id = $1 AND t.issuer = $2', [s.clientId, s.sandbox.issuer])).rows[0]!.n;
      expect(await count(second)).toBe(1);
      const mine = await count(stack);
      expect(mine).toBeGreaterThan(1);
      await second.tool.app.repos.tenants.removePlatform(second.sandbox.issuer, second.clientId);
      expect(await count(second)).toBe(0);
      expect(await count(stack)).toBe(mine);
    } finally {
      await forgetAndStop(second);
    }
  });
});
