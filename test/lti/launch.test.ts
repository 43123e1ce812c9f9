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

  it("fetches Canvas's key set once for many launches, and again when Canvas rotates its key", async () => {
    const jwksFetches = () => stack.sandbox.requests.filter((r) => r.path === '/api/lti/security/jwks').length;
    await stack.launch('101');
    const before = jwksFetches();
    for (const user of ['102', '103', '2']) expect((await stack.launch(user)).page.status).toBe(200);
    // Neither launchGuard nor ltijs's own verification went back to Canvas: both used the cached set.
    expect(jwksFetches()).toBe(before);

    stack.sandbox.rotatePlatformKey();
    // An unknown kid refreshes the set at most every 10 s (a flood of forged kids must not hammer Canvas): move the
    // clock past that, for Canvas and microcred alike (one process).
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 11_000);
    let page;
    try {
      ({ page } = await stack.launch('104'));
    } finally {
      clock.mockRestore();
    }
    expect(page.status).toBe(200);
    expect(page.body).toContain('My micro-credentials');
    // The unknown kid made the cache fetch once; ltijs verified the new key from that same fetch.
    expect(jwksFetches()).toBe(before + 1);
  });

  it('records a launch in one statement: user, course, membership, Canvas URL and the grants that apply', async () => {
    const tenants = stack.tool.app.repos.tenants;
    const tenant = (await tenants.findByLtiKey(stack.sandbox.issuer, stack.clientId, stack.deploymentId))!;
    const sub = `sub-${Date.now()}`;
    const course = { ltiContextId: `ctx-${Date.now()}`, canvasCourseId: '9001', title: 'Record test', label: 'RT' };
    const first = await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub, canvasUserId: '77', name: 'Rita Record', email: 'rita@example.test' }, course, ltiRoles: ['a', 'b"c'] });
    expect(first).toEqual({ userId: expect.any(String), courseId: expect.any(String), grants: [] });

    // A later launch that says less keeps what was known; the roles are replaced.
    const second = await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course: { ...course, canvasCourseId: null, title: 'Renamed' }, ltiRoles: ['Learner'] });
    expect(second.userId).toBe(first.userId);
    expect(second.courseId).toBe(first.courseId);
    const { rows } = await stack.tool.db.sql.query<Record<string, unknown>>(
      `SELECT u.canvas_user_id, u.name, u.email, c.canvas_course_id, c.title, m.lti_roles FROM users u
         JOIN memberships m ON m.user_id = u.id JOIN courses c ON c.id = m.course_id WHERE u.id = $1`,
      [first.userId],
    );
    expect(rows).toEqual([{ canvas_user_id: '77', name: 'Rita Record', email: 'rita@example.test', canvas_course_id: '9001', title: 'Renamed', lti_roles: ['Learner'] }]);

    // Grants: district-wide and this course's apply, another course's does not.
    const otherCourse = (await tenants.upsertCourse(tenant.id, { ltiContextId: `other-${Date.now()}`, title: 'Other' })).id;
    await tenants.grant(tenant.id, first.userId, 'admin', otherCourse, null);
    expect((await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course, ltiRoles: [] })).grants).toEqual([]);
    await tenants.grant(tenant.id, first.userId, 'reviewer', first.courseId, null);
    await tenants.grant(tenant.id, first.userId, 'recognizer', null, null);
    expect((await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course, ltiRoles: [] })).grants.sort()).toEqual(['recognizer', 'reviewer']);

    // Without a course: no course, no membership, only district-wide grants.
    const courseless = await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course: null, ltiRoles: [] });
    expect(courseless).toEqual({ userId: first.userId, courseId: null, grants: ['recognizer'] });

    // The tenant's Canvas URL changes only when a launch names another one.
    await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course: null, ltiRoles: [], canvasBaseUrl: 'https://elsewhere.instructure.com' });
    expect((await tenants.findById(tenant.id))!.canvasBaseUrl).toBe('https://elsewhere.instructure.com');
    await tenants.recordLaunch(tenant.id, { user: { ltiSub: sub }, course: null, ltiRoles: [], canvasBaseUrl: stack.sandbox.baseUrl });
    expect((await tenants.findById(tenant.id))!.canvasBaseUrl).toBe(stack.sandbox.baseUrl);
  });

  it("gives a launch the roles microcred granted, on top of Canvas's", async () => {
    const tenants = stack.tool.app.repos.tenants;
    const tenant = (await tenants.findByLtiKey(stack.sandbox.issuer, stack.clientId, stack.deploymentId))!;
    expect((await stack.launch('108')).page.status).toBe(200);
    const { rows } = await stack.tool.db.sql.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 AND canvas_user_id = '108'`, [tenant.id]);
    await tenants.grant(tenant.id, rows[0]!.id, 'reviewer', null, null);
    const { page } = await stack.launch('108');
    expect(new URL(page.url).pathname).toMatch(/\/reviewer$/);
  });
});
