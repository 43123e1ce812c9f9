import { startStack, type Stack } from '../support/stack';
import { parseForm } from '../support/browser';

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

  it('asks again when nothing was chosen', async () => {
    const { page, browser } = await stack.launch('2', { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(page.body)!;
    const res = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf! });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Choose at least one thing to add.');
  });
});
