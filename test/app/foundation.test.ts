import request from 'supertest';
import { startServer, type RunningServer } from '../../src/server';
import { loadConfig } from '../../src/config';
import { freePort, testConfig } from '../support/stack';

describe('the app without any Canvas', () => {
  let tool: RunningServer;
  beforeAll(async () => {
    tool = await startServer(testConfig(await freePort()));
  });
  afterAll(() => tool.stop());

  it('reports a healthy database', async () => {
    const res = await request(tool.url).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok', database: expect.stringMatching(/^(postgres|pglite)$/) });
  });

  it('serves a Canvas developer-key JSON with every field Canvas requires', async () => {
    const res = await request(tool.url).get('/lti/canvas-config.json').expect(200).expect('Content-Type', /json/);
    const c = res.body;
    for (const field of ['title', 'description', 'oidc_initiation_url', 'target_link_uri', 'public_jwk_url', 'scopes', 'extensions']) expect(c).toHaveProperty(field);
    expect(c.oidc_initiation_url).toBe(`${tool.url}/lti/login`);
    expect(c.target_link_uri).toBe(`${tool.url}/lti/launch`);
    expect(c.public_jwk_url).toBe(`${tool.url}/lti/keys`);
    const ext = c.extensions[0];
    expect(ext.platform).toBe('canvas.instructure.com');
    expect(ext.privacy_level).toBe('public');
    expect(ext.domain).toBe(new URL(tool.url).host);
    const placements = ext.settings.placements.map((p: { placement: string; message_type: string }) => `${p.placement}:${p.message_type}`);
    expect(placements).toEqual(
      expect.arrayContaining(['course_navigation:LtiResourceLinkRequest', 'link_selection:LtiDeepLinkingRequest', 'assignment_selection:LtiDeepLinkingRequest']),
    );
    expect(c.scopes).toEqual(expect.arrayContaining(['https://purl.imsglobal.org/spec/lti-ags/scope/score', 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly']));
    expect(c.custom_fields).toMatchObject({ canvas_api_base_url: '$Canvas.api.baseUrl', canvas_user_id: '$Canvas.user.id', canvas_course_id: '$Canvas.course.id', canvas_module_id: '$Canvas.module.id', canvas_module_item_id: '$Canvas.moduleItem.id', canvas_assignment_id: '$Canvas.assignment.id' });
  });

  it('sends security headers: CSP limiting framing, no X-Frame-Options, no CORS reflection', async () => {
    const res = await request(tool.url).get('/').set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['x-request-id']).toMatch(/[0-9a-f-]{36}/);
    const keys = await request(tool.url).get('/lti/keys').set('Origin', 'https://evil.example').expect(200);
    expect(keys.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers unknown pages with a friendly 404 page, and JSON for API callers', async () => {
    const page = await request(tool.url).get('/nope').expect(404);
    expect(page.text).toContain('We could not find that page.');
    const api = await request(tool.url).get('/nope').set('Accept', 'application/json').expect(404);
    expect(api.body.error.code).toBe('not_found');
  });

  it('refuses a session link that does not exist', async () => {
    const res = await request(tool.url).get('/s/' + 'a'.repeat(43) + '/').expect(401);
    expect(res.text).toContain('Your microcred session has ended');
  });

  it('explains a login from an unregistered Canvas', async () => {
    const res = await request(tool.url).get('/lti/login').query({ iss: 'https://canvas.unknown.edu', login_hint: 'x', target_link_uri: `${tool.url}/lti/launch`, client_id: '1' }).expect(401);
    expect(res.text).toContain('This Canvas is not registered with microcred.');
    const missing = await request(tool.url).post('/lti/login').type('form').send({ iss: 'x' }).expect(400);
    expect(missing.text).toContain('missing login_hint, target_link_uri');
  });
});

describe('configuration', () => {
  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://x.example' })).toThrow(/SECRET_KEY: required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40), PUBLIC_URL: 'http://x.example' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40), PUBLIC_URL: 'https://x.example', SANDBOX: 'on' })).toThrow(/sandbox is never mounted/);
  });
});
