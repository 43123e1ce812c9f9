/**
 * Canvas API access over HTTP: an admin sets the API developer key and a service token; a designer connects
 * their Canvas account through the OAuth2 developer-key flow (new tab → Canvas consent → callback); tokens are
 * sealed at rest, refreshed on expiry and on a 401, and a revoked grant asks the person to reconnect.
 * Everything the app logs is captured (pino at trace level) and searched for secrets.
 */
import { startStack, TEST_SECRET, type Stack } from '../support/stack';
import { Browser, parseForm, type Page } from '../support/browser';
import { sessionOf } from '../support/session';
import { Secrets, aadFor } from '../../src/crypto/secrets';

jest.mock('../../src/log', () => {
  const actual = jest.requireActual('../../src/log');
  const pino = jest.requireActual('pino');
  const { Writable } = jest.requireActual('node:stream');
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc: string, cb: () => void) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { ...actual, logger: pino({ level: 'trace' }, stream), capturedLines: lines };
});
const logLines = (): string => (jest.requireMock('../../src/log') as { capturedLines: string[] }).capturedLines.join('');

type Session = ReturnType<typeof sessionOf>;

describe('Canvas API access (OAuth2 developer key, service token)', () => {
  let stack: Stack;
  let key: { clientId: string; clientSecret: string };
  const secrets = new Secrets(TEST_SECRET);
  /** Every secret seen during the story: none may appear in the log. */
  const seen = new Set<string>();
  let designer: Session;
  let tenantId: string;
  let designerUserId: string;

  const q = <R extends Record<string, unknown>>(text: string, params: unknown[] = []) => stack.tool.db.sql.query<R>(text, params);
  const tokenRow = async (userId: string) => (await q<{ access_token_sealed: string; refresh_token_sealed: string | null; expires_at: Date; revoked_at: Date | null; canvas_user_id: string }>('SELECT * FROM canvas_user_tokens WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId])).rows[0];
  const openRow = async (userId: string) => {
    const row = (await tokenRow(userId))!;
    const access = secrets.open(row.access_token_sealed, aadFor('canvas.user.access', tenantId, userId));
    const refresh = row.refresh_token_sealed ? secrets.open(row.refresh_token_sealed, aadFor('canvas.user.refresh', tenantId, userId)) : null;
    seen.add(access);
    if (refresh) seen.add(refresh);
    return { row, access, refresh };
  };
  const tokenCalls = () => stack.sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/login/oauth2/token').length;

  async function launch(userId: string): Promise<{ page: Page; session: Session }> {
    const { page } = await stack.launch(userId);
    return { page, session: sessionOf(page) };
  }

  /** The new-tab part: start → Canvas consent as `canvasUserId` → callback. Returns the callback page. */
  async function consent(session: Session, canvasUserId: string, decision: 'authorize' | 'cancel' = 'authorize'): Promise<{ page: Page; browser: Browser }> {
    const tab = new Browser();
    const login = await tab.get(`${session.base}/canvas/connect/start`);
    expect(login.url.startsWith(`${stack.sandbox.baseUrl}/login/oauth2/auth?`)).toBe(true);
    const auth = new URL(login.url);
    expect(auth.searchParams.get('client_id')).toBe(key.clientId);
    expect(auth.searchParams.get('redirect_uri')).toBe(`${stack.tool.url}/canvas/oauth/callback`);
    expect(auth.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Canvas's login: "Log in as" (a GET form), then the consent form.
    const loginForm = parseForm(login.body)!;
    const asUser = new URL(loginForm.action, login.url);
    for (const [k, v] of Object.entries({ ...loginForm.fields, as: canvasUserId })) asUser.searchParams.set(k, v);
    const consentPage = await tab.get(asUser.toString());
    const form = parseForm(consentPage.body)!;
    expect(form.method).toBe('POST');
    const page = await tab.post(new URL(form.action, consentPage.url).toString(), { ...form.fields, decision });
    const callback = tab.history.find((p) => p.url.startsWith(`${stack.tool.url}/canvas/oauth/callback`))!;
    const cb = new URL(callback.url);
    for (const k of ['code', 'state']) if (cb.searchParams.get(k)) seen.add(cb.searchParams.get(k)!);
    return { page, browser: tab };
  }

  beforeAll(async () => {
    stack = await startStack();
    key = stack.sandbox.createApiKey({ redirectUris: [`${stack.tool.url}/canvas/oauth/callback`], name: 'microcred API' });
    seen.add(key.clientSecret);
  });
  afterAll(() => stack.stop());

  it('lets an admin set the API developer key (page and JSON), stored sealed; others may not', async () => {
    const { page, session: admin } = await launch('1');
    const adminPage = await new Browser().get(`${admin.base}/admin/canvas`);
    expect(adminPage.status).toBe(200);
    expect(adminPage.body).toContain(`${stack.tool.url}/canvas/oauth/callback`);
    expect(adminPage.body).toContain('Not set');
    expect(page.status).toBe(200);

    // The form: a missing secret is a field error on the page.
    const browser = new Browser();
    const bad = await browser.post(`${admin.base}/admin/canvas/api-key`, { _csrf: admin.csrf, client_id: key.clientId, client_secret: '' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('Enter the developer key’s client secret.');
    expect(bad.body).toContain('aria-invalid="true"');
    const saved = await browser.post(`${admin.base}/admin/canvas/api-key`, { _csrf: admin.csrf, client_id: key.clientId, client_secret: 'first-secret-to-be-replaced' });
    expect(saved.status).toBe(200);
    expect(saved.url).toContain('/admin/canvas?saved=api-key');
    expect(saved.body).toContain('The Canvas API key was saved.');
    expect(saved.body).not.toContain('first-secret-to-be-replaced');
    // Without the CSRF token, nothing changes.
    expect((await browser.post(`${admin.base}/admin/canvas/api-key`, { client_id: 'x', client_secret: 'y' })).status).toBe(403);

    const invalid = await admin.api('/api/canvas/api-key', { method: 'PUT', json: { clientId: 'has spaces', clientSecret: 's' } });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error.fields.clientId).toMatch(/letters, digits/);
    const ok = await admin.api('/api/canvas/api-key', { method: 'PUT', json: { clientId: key.clientId, clientSecret: key.clientSecret } });
    expect(ok.status).toBe(200);
    const settings = await (await admin.api('/api/canvas/settings')).json();
    expect(settings).toMatchObject({ apiKey: { clientId: key.clientId, hasClientSecret: true }, serviceToken: { set: false }, redirectUri: `${stack.tool.url}/canvas/oauth/callback`, canvasBaseUrl: stack.sandbox.baseUrl });

    const { rows } = await q<{ tenant_id: string; client_secret_sealed: string }>('SELECT c.tenant_id, c.client_secret_sealed FROM canvas_credentials c JOIN tenants t ON t.id = c.tenant_id WHERE t.client_id = $1', [stack.clientId]);
    expect(rows).toHaveLength(1);
    tenantId = rows[0]!.tenant_id;
    expect(rows[0]!.client_secret_sealed).toMatch(/^v1\./);
    expect(rows[0]!.client_secret_sealed).not.toContain(key.clientSecret);
    expect(secrets.open(rows[0]!.client_secret_sealed, aadFor('canvas.client_secret', tenantId))).toBe(key.clientSecret);

    const { session: teacher } = await launch('3');
    expect((await teacher.api('/api/canvas/api-key', { method: 'PUT', json: { clientId: 'x', clientSecret: 'y' } })).status).toBe(403);
    expect((await teacher.api('/api/canvas/settings')).status).toBe(403);
  });

  it('tells a designer who has not connected to connect, with the link (JSON) and a new-tab button (page)', async () => {
    ({ session: designer } = await launch('2'));
    designerUserId = (await q<{ id: string }>("SELECT id FROM users WHERE tenant_id = $1 AND canvas_user_id = '2'", [tenantId])).rows[0]!.id;
    const res = await designer.api('/api/canvas/connection');
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'canvas_authorization_required', reason: 'not_connected', connectUrl: `${new URL(designer.base).pathname}/canvas/connect` });
    const page = await new Browser().get(`${designer.base}/canvas/connect?next=/designer`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/href="\/s\/[A-Za-z0-9_-]{43}\/canvas\/connect\/start" target="_blank" rel="noopener">Connect to Canvas/);
    expect(page.body).toMatch(/href="\/s\/[A-Za-z0-9_-]{43}\/designer">Continue/);
  });

  it('connects through Canvas consent in a new tab; the tokens are stored sealed and an API call works', async () => {
    const { page } = await consent(designer, '2');
    expect(page.status).toBe(200);
    expect(page.body).toContain('microcred is connected to Canvas');
    expect(page.body).toContain('connected as Devon Achebe');
    expect(page.body).toContain('close this tab');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');

    const { row, access, refresh } = await openRow(designerUserId);
    expect(access).toMatch(/^1~/);
    expect(refresh).toMatch(/^1~/);
    expect(row.canvas_user_id).toBe('2');
    expect(row.revoked_at).toBeNull();
    expect(row.access_token_sealed).not.toContain(access);
    expect(row.refresh_token_sealed).not.toContain(refresh!);
    expect(new Date(row.expires_at).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    // Nothing in clear anywhere in the table.
    const dump = JSON.stringify((await q('SELECT * FROM canvas_user_tokens')).rows);
    expect(dump).not.toContain(access);
    expect(dump).not.toContain(refresh!);

    const res = await designer.api('/api/canvas/connection');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ connected: true, actingAs: 'user', canvasUser: { id: '2', name: 'Devon Achebe' } });
    const connect = await new Browser().get(`${designer.base}/canvas/connect`);
    expect(connect.body).toContain('pill--success');
  });

  it('refuses a replayed, unknown or cancelled callback, and a consent given by another Canvas user', async () => {
    const { browser } = await consent(designer, '2');
    const used = browser.history.find((p) => p.url.startsWith(`${stack.tool.url}/canvas/oauth/callback`))!.url;
    const replay = await new Browser().get(used);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('This Canvas sign-in link has expired or was already used.');
    const bogus = await new Browser().get(`${stack.tool.url}/canvas/oauth/callback?code=abc&state=${'x'.repeat(43)}`);
    expect(bogus.status).toBe(400);
    expect((await new Browser().get(`${stack.tool.url}/canvas/oauth/callback?code=abc`)).status).toBe(400);

    // An expired state (older than 10 minutes) is refused too.
    const tab = new Browser();
    const login = await tab.get(`${designer.base}/canvas/connect/start`);
    const state = new URL(login.url).searchParams.get('state')!;
    await q("UPDATE canvas_oauth_states SET expires_at = now() - interval '1 second'");
    const expired = await new Browser().get(`${stack.tool.url}/canvas/oauth/callback?code=abc&state=${state}`);
    expect(expired.status).toBe(400);

    const cancelled = await consent(designer, '2', 'cancel');
    expect(cancelled.page.status).toBe(400);
    expect(cancelled.page.body).toContain('You chose not to let microcred use your Canvas account.');

    // Someone else opening this session's connect link and consenting as themselves does not attach their account.
    const before = await openRow(designerUserId);
    const other = await consent(designer, '3');
    expect(other.page.status).toBe(400);
    expect(other.page.body).toContain('different person');
    expect((await openRow(designerUserId)).access).toBe(before.access);
  });

  it('refreshes an expired token before the call, keeping the refresh token Canvas does not reissue', async () => {
    const before = await openRow(designerUserId);
    await q("UPDATE canvas_user_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1", [designerUserId]);
    const calls = tokenCalls();
    const res = await designer.api('/api/canvas/connection');
    expect(res.status).toBe(200);
    expect(tokenCalls()).toBe(calls + 1);
    const after = await openRow(designerUserId);
    expect(after.access).not.toBe(before.access);
    expect(after.refresh).toBe(before.refresh);
    expect(new Date(after.row.expires_at).getTime()).toBeGreaterThan(Date.now() + 3000_000);
  });

  it('refreshes once when Canvas answers 401 to a token that has not expired yet', async () => {
    const before = await openRow(designerUserId);
    // Another client refreshing the same grant makes Canvas drop the stored access token.
    const r = await fetch(`${stack.sandbox.baseUrl}/login/oauth2/token`, {
      method: 'POST',
      headers: { 'User-Agent': 'test', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: key.clientId, client_secret: key.clientSecret, refresh_token: before.refresh! }).toString(),
    });
    expect(r.status).toBe(200);
    seen.add(((await r.json()) as { access_token: string }).access_token);
    const mark = stack.sandbox.requests.length;
    const res = await designer.api('/api/canvas/connection');
    expect(res.status).toBe(200);
    const selfCalls = stack.sandbox.requests.slice(mark).filter((x) => x.path.endsWith('/users/self')).map((x) => x.status);
    expect(selfCalls).toEqual([401, 200]);
    expect((await openRow(designerUserId)).access).not.toBe(before.access);
  });

  it('asks to reconnect when the grant was revoked in Canvas, and reconnecting works', async () => {
    const { access } = await openRow(designerUserId);
    stack.sandbox.revokeToken(access);
    const res = await designer.api('/api/canvas/connection');
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatchObject({ code: 'canvas_authorization_required', reason: 'refresh_failed' });
    expect((await tokenRow(designerUserId))!.revoked_at).not.toBeNull();
    const again = await designer.api('/api/canvas/connection');
    expect((await again.json()).error.reason).toBe('revoked');
    const page = await new Browser().get(`${designer.base}/canvas/connect`);
    expect(page.body).toContain('Connect to Canvas');
    expect(page.body).not.toContain('pill--success');

    await consent(designer, '2');
    expect((await tokenRow(designerUserId))!.revoked_at).toBeNull();
    expect((await designer.api('/api/canvas/connection')).status).toBe(200);
  });

  it('falls back to the tenant service token set by an admin (checked with Canvas first), and disconnects', async () => {
    const { session: admin } = await launch('1');
    const refused = await admin.api('/api/canvas/service-token', { method: 'PUT', json: { token: '1~not-a-real-token' } });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.fields.token).toMatch(/does not accept/);
    const service = stack.sandbox.issueUserToken({ userId: 1, clientId: key.clientId }).accessToken;
    seen.add(service);
    const set = await admin.api('/api/canvas/service-token', { method: 'PUT', json: { token: service } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ serviceToken: { set: true, canvasUser: 'Marisol Whitaker' } });
    const sealed = (await q<{ service_token_sealed: string }>('SELECT service_token_sealed FROM canvas_credentials WHERE tenant_id = $1', [tenantId])).rows[0]!.service_token_sealed;
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(service);
    expect((await new Browser().get(`${admin.base}/admin/canvas`)).body).toContain('acts as Marisol Whitaker (1)');

    // An educator who never connected acts through the service token.
    const { session: educator } = await launch('101');
    const res = await educator.api('/api/canvas/connection');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ connected: true, actingAs: 'service', canvasUser: { id: '1', name: 'Marisol Whitaker' } });
    // The designer's own token still comes first.
    expect((await (await designer.api('/api/canvas/connection')).json()).actingAs).toBe('user');

    // Disconnecting forgets the designer's tokens (and Canvas's grant); the service token then applies.
    const { access } = await openRow(designerUserId);
    const out = await new Browser().post(`${designer.base}/canvas/disconnect`, { _csrf: designer.csrf });
    expect(out.status).toBe(200);
    expect(await tokenRow(designerUserId)).toBeUndefined();
    const canvasSide = await fetch(`${stack.sandbox.baseUrl}/api/v1/users/self`, { headers: { 'User-Agent': 'test', Authorization: `Bearer ${access}` } });
    expect(canvasSide.status).toBe(401);
    expect((await (await designer.api('/api/canvas/connection')).json()).actingAs).toBe('service');

    expect((await admin.api('/api/canvas/service-token', { method: 'DELETE' })).status).toBe(204);
    expect((await educator.api('/api/canvas/connection')).status).toBe(401);
  });

  it('never wrote a token, secret, code or state to the log', () => {
    const log = logLines();
    expect(log).toContain('"msg":"request"');
    expect(log).toContain('/canvas/oauth/callback');
    expect(log).toContain('canvas account connected');
    expect(seen.size).toBeGreaterThan(10);
    for (const s of seen) expect(log.includes(s) ? s : 'absent').toBe('absent');
    expect(log).not.toMatch(/Bearer [A-Za-z0-9~]/);
  });
});
