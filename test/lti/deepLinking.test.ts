import { startStack, type Stack } from '../support/stack';
import { parseForm } from '../support/browser';
import { sessionOf } from '../support/session';

/** Deep Linking round trip: Canvas's link_selection launch → the designer picks → Canvas creates the module item. */
describe('Deep Linking from Canvas', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('places a microcred link in a module through the signed deep linking response', async () => {
    const before = stack.sandbox.data.moduleItems.length;
    const { page, browser } = await stack.launch('2', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    expect(new URL(page.url).pathname).toMatch(/\/deep-linking$/);
    expect(page.body).toContain('Add microcred to the course');
    const form = parseForm(page.body)!;
    const done = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: 'home' });
    // The browser followed the auto-submitting form to Canvas, which verified our JWT and created the item.
    expect(done.url.startsWith(stack.sandbox.baseUrl)).toBe(true);
    expect(done.status).toBe(200);
    const added = stack.sandbox.data.moduleItems.slice(before);
    expect(added.map((i) => i.title)).toContain('Micro-credentials');
  });

  it('refuses the choice page to an educator and a post without its CSRF token', async () => {
    const { page } = await stack.launch('101', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    expect(page.status).toBe(403);
    const designer = await stack.launch('2', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(designer.page.body)!;
    const forged = await designer.browser.post(new URL(form.action, designer.page.url).toString(), { choice: 'home' });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('did not come from microcred');
  });

  it('refuses forged deep linking: a choice never offered, an ordinary launch, an altered or replayed response', async () => {
    const before = stack.sandbox.data.moduleItems.length;
    // A choice the page never offered (another district's credential, or made up): nothing is signed.
    const { page, browser } = await stack.launch('2', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(page.body)!;
    const bogus = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: 'graded:00000000-0000-4000-8000-000000000000' });
    expect(bogus.status).toBe(400);
    expect(bogus.body).not.toContain('name="JWT"');
    // A session from an ordinary (resource link) launch cannot make a deep linking response.
    const ordinary = await stack.launch('2');
    const api = sessionOf(ordinary.page);
    const res = await fetch(`${api.base}/deep-linking`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': api.csrf }, body: new URLSearchParams({ _csrf: api.csrf, choice: 'home' }).toString() });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('only works from a Canvas “add content” launch');
    // A genuine response, altered on its way to Canvas, or sent twice: Canvas (the sandbox) refuses both.
    const done = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: 'home' });
    expect(done.status).toBe(200);
    const returned = browser.history.find((p) => p.body.includes('name="JWT"'))!;
    const signed = /name="JWT" value="([^"]+)"/.exec(returned.body)![1]!;
    const returnUrl = /action="([^"]+)"/.exec(returned.body)![1]!.replace(/&amp;/g, '&');
    const [h, payload, sig] = signed.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const items = claims['https://purl.imsglobal.org/spec/lti-dl/claim/content_items'] as { url?: string }[];
    items[0]!.url = 'https://evil.example/launch';
    const altered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    const post = (jwt: string) => fetch(returnUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ JWT: jwt }).toString() });
    const a = await post(altered);
    expect(a.status).toBe(400);
    expect(await a.text()).toMatch(/JWT verification failed/);
    const replay = await post(signed);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toMatch(/nonce has already been used/);
    expect(stack.sandbox.data.moduleItems.length).toBe(before + 1);
  });

  it('asks again when nothing was chosen', async () => {
    const { page, browser } = await stack.launch('2', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(page.body)!;
    const res = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf! });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Choose at least one thing to add.');
  });
});

describe('Deep Linking a micro-credential from the catalog', () => {
  let stack: Stack;
  let credential: { id: string; maxPoints: number };
  beforeAll(async () => {
    stack = await startStack();
    credential = await publishedCredential();
  });
  afterAll(() => stack.stop());

  async function publishedCredential(): Promise<{ id: string; maxPoints: number }> {
    const { page } = await stack.launch('2');
    const api = sessionOf(page);
    const starter = await api.api('/api/catalog/starter', { method: 'POST', json: {} });
    expect(starter.status).toBeLessThan(300);
    const list = (await (await api.api('/api/catalog/credentials?course=this')).json()) as { id: string; name: string }[];
    const digital = list.find((c) => c.name === 'Tech Leader I')!;
    const published = await api.api(`/api/catalog/credentials/${digital.id}/publish`, { method: 'POST', json: {} });
    expect(published.status).toBe(200);
    const view = (await published.json()) as { current: { maxPoints: number } };
    return { id: digital.id, maxPoints: view.current.maxPoints };
  }

  it('creates a graded assignment with its AGS line item in one step, from a module', async () => {
    const { page, browser } = await stack.launch('2', { placement: 'module_index_menu_modal', messageType: 'LtiDeepLinkingRequest' });
    expect(page.body).toContain(`value="graded:${credential.id}"`);
    const form = parseForm(page.body)!;
    const assignmentsBefore = stack.sandbox.data.assignments.length;
    const done = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: `graded:${credential.id}` });
    expect(done.status).toBe(200);
    const assignment = stack.sandbox.data.assignments.slice(assignmentsBefore)[0]!;
    expect(assignment).toMatchObject({ published: false, pointsPossible: credential.maxPoints });
    const lineItem = stack.sandbox.data.lineItems.find((l) => l.assignmentId === assignment.id)!;
    expect(lineItem).toMatchObject({ resourceId: credential.id, tag: 'microcred', scoreMaximum: credential.maxPoints, clientId: stack.clientId });
    const link = stack.sandbox.data.resourceLinks.find((r) => r.assignmentId === assignment.id)!;
    expect(link.custom).toMatchObject({ microcred_credential: credential.id });
  });

  it('offers one micro-credential per assignment from assignment_selection, as a single choice', async () => {
    const { page } = await stack.launch('2', { placement: 'assignment_selection', messageType: 'LtiDeepLinkingRequest' });
    expect(page.body).toContain(`type="radio" id="choice-0" name="choice" value="assignment:${credential.id}"`);
    expect(page.body).not.toContain('value="home"');
  });
});
