import { startStack, type Stack } from '../support/stack';
import { Browser } from '../support/browser';

/**
 * A full launch over real HTTP for every role: Canvas (the sandbox) initiates login → microcred redirects to
 * Canvas's auth endpoint → Canvas form-posts the id_token → microcred validates, opens a session and shows
 * the role's home.
 */
describe('launching from Canvas', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  const roles: [string, string, RegExp, string][] = [
    ['an educator (Learner)', '101', /\/earner$/, 'My micro-credentials'],
    ['a course designer (ContentDeveloper)', '2', /\/designer$/, 'Design micro-credentials'],
    ['a teacher (Instructor)', '3', /\/designer$/, 'Design micro-credentials'],
    ['a TA (TeachingAssistant)', '4', /\/reviewer$/, 'Review evidence'],
    ['a district administrator', '1', /\/admin$/, 'Administer microcred'],
  ];

  it.each(roles)('takes %s to their home', async (_who, userId, path, heading) => {
    const { page, browser } = await stack.launch(userId);
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toMatch(new RegExp('^/s/[A-Za-z0-9_-]{43}' + path.source.replace('$', '') + '$'));
    expect(page.body).toContain(`<h1 class="page-header__title">${heading}</h1>`);
    const user = stack.sandbox.data.users.find((u) => String(u.id) === userId)!;
    expect(page.body).toContain(user.name);
    expect(page.body).toContain('Tech Leader I');
    // The page may be framed by this tenant's Canvas only, not by other registered Canvases.
    const frameAncestors = /frame-ancestors ([^;]+)/.exec(page.headers.get('content-security-policy') ?? '')![1]!.split(' ');
    expect(frameAncestors).toEqual(["'self'", stack.sandbox.baseUrl]);
    // The flow went through Canvas's auth endpoint with our nonce and state, and ended with no tool cookie left.
    expect(browser.history.some((p) => p.url.startsWith(`${stack.sandbox.baseUrl}/api/lti/authorize_redirect`))).toBe(true);
    expect(browser.cookies(new URL(stack.tool.url).host).filter((c) => c.name.startsWith('mc_state_'))).toHaveLength(0);
  });

  it('remembers the Canvas ids from the custom fields and the Canvas base URL of the tenant', async () => {
    await stack.launch('102');
    const { rows } = await stack.tool.db.sql.query<{ canvas_user_id: string; canvas_course_id: string; canvas_base_url: string }>(
      `SELECT u.canvas_user_id, c.canvas_course_id, t.canvas_base_url FROM users u JOIN tenants t ON t.id = u.tenant_id
         JOIN memberships m ON m.user_id = u.id JOIN courses c ON c.id = m.course_id WHERE t.issuer = $1 AND t.client_id = $2 AND u.name = 'Brian Okoye'`,
      [stack.sandbox.issuer, stack.clientId],
    );
    expect(rows).toEqual([{ canvas_user_id: '102', canvas_course_id: '101', canvas_base_url: stack.sandbox.baseUrl }]);
  });

  it('keeps working when third-party cookies are blocked, through Canvas Platform Storage', async () => {
    const browser = new Browser({ blockThirdPartyCookies: true, topLevelHost: new URL(stack.sandbox.baseUrl).host });
    const { page } = await stack.launch('103', { browser });
    expect(page.status).toBe(200);
    expect(page.body).toContain('My micro-credentials');
    // No cookie could be used: the state was proven through lti.put_data / lti.get_data.
    expect(browser.cookies(new URL(stack.tool.url).host)).toHaveLength(0);
    expect(browser.history.some((p) => p.body.includes('"action":"get"'))).toBe(true);
  });

  it('offers a new window when cookies are blocked and the platform has no storage', async () => {
    const browser = new Browser({ blockThirdPartyCookies: true, topLevelHost: new URL(stack.sandbox.baseUrl).host, platformStorage: false });
    const { page } = await stack.launch('104', { browser });
    expect(page.body).toContain('Open microcred in a new window');
    const link = /href="([^"]+\/lti\/login\?[^"]+)" target="_blank"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
    // A top-level window has first-party cookies: the same launch works there.
    const topLevel = new Browser();
    const retried = await topLevel.get(link);
    expect(retried.status).toBe(200);
    expect(retried.body).toContain('My micro-credentials');
  });

  it('keeps sessions apart and refuses one that expired', async () => {
    const a = await stack.launch('105');
    const b = await stack.launch('106');
    expect(a.page.url).not.toBe(b.page.url);
    expect(a.page.body).toContain('Emily Hargrove');
    expect(b.page.body).toContain('Carlos Benitez');
    await stack.tool.db.sql.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')", [new URL(a.page.url).pathname.split('/')[2]]);
    const expired = await a.browser.get(a.page.url);
    expect(expired.status).toBe(401);
    expect(expired.body).toContain('Your microcred session has ended');
  });

  it('denies a role home the launch did not grant', async () => {
    const { page, browser } = await stack.launch('107');
    const designerUrl = page.url.replace(/\/earner$/, '/designer');
    const res = await browser.get(designerUrl);
    expect(res.status).toBe(403);
    expect(res.body).toContain('Your role in this course does not allow this.');
  });
});
