import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startServer, type RunningServer } from '../../src/server';
import { freePort, testConfig } from '../support/stack';
import { ForgePlatform, CLAIMS, unsignedToken } from '../support/forge';

/**
 * Every hostile or broken launch gets a clear 4xx page and no session. The control case (a correct launch)
 * proves the harness itself can succeed, so the rejections mean something.
 */
describe('launch rejections', () => {
  let tool: RunningServer;
  const platform = new ForgePlatform();

  beforeAll(async () => {
    tool = await startServer(testConfig(await freePort()));
    await platform.start();
    await platform.register(tool);
  });
  afterAll(async () => {
    await platform.stop();
    await tool.stop();
  });

  async function sessionCount(): Promise<number> {
    const { rows } = await tool.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions s JOIN tenants t ON t.id = s.tenant_id WHERE t.client_id = $1', [platform.clientId]);
    return rows[0]!.n;
  }

  async function launchWith(mutate: (ctx: { nonce: string; state: string }) => { token: string; state?: string; omitState?: boolean }) {
    const { agent, state, nonce } = await platform.login(tool);
    const before = await sessionCount();
    const m = mutate({ nonce, state });
    const form: Record<string, string> = { id_token: m.token };
    if (!m.omitState) form.state = m.state ?? state;
    const res = await agent.post('/lti/launch').type('form').send(form);
    return { res, created: (await sessionCount()) - before };
  }

  it('accepts a correct launch (control)', async () => {
    const { res, created } = await launchWith(({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce)) }));
    expect({ status: res.status, message: /error-page__message">([^<]*)/.exec(res.text)?.[1] }).toEqual({ status: 303, message: undefined });
    expect(res.headers.location).toMatch(/^\/s\/[A-Za-z0-9_-]{43}\/earner$/);
    expect(created).toBe(1);
  });

  const cases: [string, (c: { nonce: string; state: string }) => { token: string; state?: string; omitState?: boolean }, number, RegExp][] = [
    ['a forged signature', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce), { key: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }) }), 401, /invalid signature/],
    ['alg: none', ({ nonce }) => ({ token: unsignedToken(platform.claims(tool, nonce)) }), 401, /RS256/],
    ['HS256 signed with the public key (key confusion)', ({ nonce }) => ({ token: jwt.sign(platform.claims(tool, nonce), platform.keys.publicKey.export({ type: 'spki', format: 'pem' }) as string, { algorithm: 'HS256', noTimestamp: true }) }), 401, /RS256/],
    ['a wrong aud', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { aud: '999', azp: undefined })) }), 401, /audience invalid/],
    ['several audiences and no azp', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { aud: [platform.clientId, 'other'], azp: undefined })) }), 401, /authorized party/],
    ['an azp naming another tool', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { azp: 'other' })) }), 401, /another tool/],
    ['a wrong iss', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { iss: 'https://evil.example' })) }), 401, /issuer invalid/],
    ['an expired token', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })) }), 401, /expired/],
    ['no exp', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { exp: undefined })) }), 401, /no expiry/],
    ['no iat', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { iat: undefined })) }), 401, /iat|issue time/],
    ['iat two hours in the future', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { iat: Math.floor(Date.now() / 1000) + 7200, exp: Math.floor(Date.now() / 1000) + 9000 })) }), 401, /future|iat/],
    ['a token older than the accepted age', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { iat: Math.floor(Date.now() / 1000) - 600 })) }), 401, /maxAge|too old/],
    ['a nonce other than the login sent', () => ({ token: platform.sign(platform.claims(tool, 'another-nonce')) }), 401, /nonce/],
    ['no nonce', () => ({ token: platform.sign(platform.claims(tool, '', { nonce: undefined })) }), 401, /nonce/],
    ['a missing state', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce)), omitState: true }), 401, /no valid state/],
    ['a state microcred never issued', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce)), state: 'f'.repeat(64) }), 401, /not started by microcred/],
    ['an unknown deployment', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.deploymentId]: 'not-registered' })) }), 403, /deployment \(not-registered\) is not registered/],
    ['an unsupported message type', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.messageType]: 'LtiSubmissionReviewRequest' })) }), 400, /does not handle .{1,6}LtiSubmissionReviewRequest/],
    ['a deep linking request without its settings', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.messageType]: 'LtiDeepLinkingRequest' })) }), 401, /deep linking settings/],
    ['a resource link request without a resource link', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.resourceLink]: undefined })) }), 401, /resource link/],
    ['LTI version 1.1', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.version]: '1.1' })) }), 401, /1\.3\.0/],
    ['no sub', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { sub: undefined })) }), 401, /no user/],
    ['a target_link_uri of another tool', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { [CLAIMS.targetLinkUri]: 'https://evil.example/launch' })) }), 401, /another tool/],
    ['a key id the platform does not publish', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce), { kid: 'unknown-kid' }) }), 401, /no key/],
    ['an oversized token', ({ nonce }) => ({ token: platform.sign(platform.claims(tool, nonce, { padding: 'x'.repeat(40_000) })) }), 413, /larger/],
    ['a token that is not a JWT', () => ({ token: 'not-a-jwt' }), 401, /not a valid JWT/],
  ];

  it.each(cases)('refuses %s with a clear %i page and no session', async (_name, mutate, status, message) => {
    const { res, created } = await launchWith(mutate);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(message);
    expect(created).toBe(0);
  });

  it('refuses a replayed launch (same id_token and state) after it succeeded once', async () => {
    const { agent, state, nonce } = await platform.login(tool);
    const token = platform.sign(platform.claims(tool, nonce));
    await agent.post('/lti/launch').type('form').send({ id_token: token, state }).expect(303);
    const before = await sessionCount();
    const replay = await agent.post('/lti/launch').type('form').send({ id_token: token, state }).expect(401);
    expect(replay.text).toMatch(/already used/);
    expect(await sessionCount()).toBe(before);
  });

  it('lets exactly one of several concurrent replays through', async () => {
    const { agent, state, nonce } = await platform.login(tool);
    const token = platform.sign(platform.claims(tool, nonce));
    const results = await Promise.all(Array.from({ length: 8 }, () => agent.post('/lti/launch').type('form').send({ id_token: token, state })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(7);
  });

  it('refuses a launch whose browser did not start the login (no state cookie, no platform storage)', async () => {
    const { state, nonce } = await platform.login(tool);
    const { default: request } = await import('supertest');
    const res = await request(tool.url).post('/lti/launch').type('form').send({ id_token: platform.sign(platform.claims(tool, nonce)), state });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Open microcred in a new window');
  });

  it('refuses a login whose target_link_uri points at another host (no open redirect)', async () => {
    const { default: request } = await import('supertest');
    const res = await request(tool.url).get('/lti/login').query({ iss: platform.issuer, client_id: platform.clientId, login_hint: 'u', target_link_uri: 'https://evil.example/steal' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('The launch points outside microcred.');
  });

  it('refuses launches from an unknown platform and from a deactivated one', async () => {
    const { default: request } = await import('supertest');
    const unknown = await request(tool.url).get('/lti/login').query({ iss: platform.issuer, client_id: 'nope', login_hint: 'u', target_link_uri: `${tool.url}/lti/launch` });
    expect(unknown.status).toBe(401);
    const { agent, state, nonce } = await platform.login(tool);
    await tool.app.admin.setActive(platform.issuer, platform.clientId, false);
    try {
      const res = await agent.post('/lti/launch').type('form').send({ id_token: platform.sign(platform.claims(tool, nonce)), state });
      expect(res.status).toBe(401);
      expect(res.text).toContain('not active');
    } finally {
      await tool.app.admin.setActive(platform.issuer, platform.clientId, true);
    }
  });
});
