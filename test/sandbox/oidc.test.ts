import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Sandbox } from '../../src/sandbox';
import { TOOL_URL, install, launch, makeSandbox, startTool, type FakeTool } from './helpers';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2';
const C = 'https://purl.imsglobal.org/spec/lti/claim';

describe('sandbox LTI 1.3 launch (OIDC)', () => {
  let sb: Sandbox;
  let tool: FakeTool;
  let ids: { clientId: string; deploymentId: string; toolId: string };
  beforeAll(async () => {
    tool = await startTool();
  });
  afterAll(() => tool.close());
  beforeEach(() => {
    sb = makeSandbox();
    ids = install(sb, tool);
  });

  function authParams(o: Record<string, string | undefined> = {}): Record<string, string> {
    const init = sb.loginInitiation({ userId: 101, courseId: 101, toolId: ids.toolId, placement: 'course_navigation' });
    const base: Record<string, string | undefined> = {
      scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: ids.clientId, redirect_uri: `${TOOL_URL}/lti`,
      login_hint: init.params.login_hint, lti_message_hint: init.params.lti_message_hint, nonce: 'n-1', state: 's-1', ...o,
    };
    return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
  }

  it('publishes RS256 keys with kids and rotates them, keeping the old key published', async () => {
    const res = await request(sb.app).get('/api/lti/security/jwks');
    expect(res.status).toBe(200);
    const keys = (res.body as { keys: { kid: string; alg: string; kty: string }[] }).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    const newKid = sb.rotatePlatformKey();
    const after = (await request(sb.app).get('/api/lti/security/jwks')).body as { keys: { kid: string }[] };
    expect(after.keys.map((k) => k.kid)).toEqual([newKid, keys[0]?.kid]);
    const { idToken } = await launch(sb, { userId: 101, courseId: 101, toolId: ids.toolId });
    expect(jwt.decode(idToken, { complete: true })?.header.kid).toBe(newKid);
  });

  it('builds the login initiation URL with Canvas parameters', () => {
    const init = sb.loginInitiation({ userId: 101, courseId: 101, toolId: ids.toolId, placement: 'course_navigation' });
    const u = new URL(init.url);
    expect(`${u.origin}${u.pathname}`).toBe(`${TOOL_URL}/lti/login`);
    for (const k of ['iss', 'login_hint', 'target_link_uri', 'client_id', 'deployment_id', 'lti_message_hint', 'canvas_region', 'canvas_environment']) expect(u.searchParams.get(k)).toBeTruthy();
    expect(init.params).toMatchObject({ iss: 'http://canvas.test', client_id: ids.clientId, deployment_id: ids.deploymentId, target_link_uri: `${TOOL_URL}/lti`, lti_storage_target: 'post_message_forwarding' });
    expect(() => sb.loginInitiation({ userId: 101, courseId: 101, toolId: ids.toolId, placement: 'editor_button' })).toThrow(/no editor_button placement/);
  });

  it('answers a valid auth request with an auto-submitting form to the redirect URI', async () => {
    const res = await request(sb.app).post('/api/lti/authorize_redirect').type('form').send(authParams());
    expect(res.status).toBe(200);
    expect(res.text).toContain('<form id="lti-launch-form" action="https://tool.example.com/lti" method="post"');
    expect(res.text).toMatch(/<noscript>[\s\S]*<button type="submit">/);
    expect(res.text).toContain('name="state" value="s-1"');
    expect(res.text).toContain('name="id_token"');
  });

  it.each([
    ['a redirect_uri that is not registered', { redirect_uri: `${TOOL_URL}/lti/` }, /Invalid redirect_uri/],
    ['a missing nonce', { nonce: undefined }, /Missing required parameter: nonce/],
    ['a login_hint for another user', { login_hint: 'someone-else' }, /login_hint does not match/],
    ['response_mode=query', { response_mode: 'query' }, /response_mode/],
    ['prompt=login', { prompt: 'login' }, /prompt/],
    ['an unknown client_id', { client_id: '999' }, /Client not found/],
    ['a forged lti_message_hint', { lti_message_hint: jwt.sign({ u: 101, c: 101, t: 1 }, 'guess') }, /lti_message_hint is invalid/],
    ['a missing state', { state: undefined }, /Missing required parameter: state/],
  ])('rejects %s with a 400 page', async (_name, override, message) => {
    const res = await request(sb.app).get('/api/lti/authorize_redirect').query(authParams(override));
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toMatch(message);
  });

  it('rejects a launch for a user no longer in the course', async () => {
    const p = authParams();
    sb.actions.unenroll(101, 101);
    const res = await request(sb.app).get('/api/lti/authorize_redirect').query(p);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/not enrolled/);
  });

  it('signs an id_token with Canvas claims for a student', async () => {
    const { claims } = await launch(sb, { userId: 101, courseId: 101, toolId: ids.toolId, placement: 'course_navigation' });
    const student = sb.data.user(101);
    expect(claims.sub).toBe(student?.ltiId);
    expect(claims.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(claims.aud).toBe(ids.clientId);
    expect(claims.azp).toBe(ids.clientId);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(claims.nonce).toBeTruthy();
    expect(claims[`${C}/deployment_id`]).toBe(ids.deploymentId);
    expect(claims[`${C}/message_type`]).toBe('LtiResourceLinkRequest');
    expect(claims[`${C}/version`]).toBe('1.3.0');
    expect(claims[`${C}/target_link_uri`]).toBe(`${TOOL_URL}/lti`);
    expect(claims[`${C}/context`]).toMatchObject({ label: 'TL-I', title: 'Tech Leader I', type: [`${LIS}/course#CourseOffering`] });
    expect(claims[`${C}/tool_platform`]).toMatchObject({ product_family_code: 'canvas', version: 'cloud' });
    expect(claims[`${C}/launch_presentation`]).toMatchObject({ document_target: 'iframe', locale: 'en' });
    expect(claims[`${C}/roles`]).toEqual(expect.arrayContaining([`${LIS}/membership#Learner`, `${LIS}/institution/person#Student`, `${LIS}/system/person#User`]));
    expect(claims[`${C}/custom`]).toEqual({ canvas_user_id: '101', canvas_course_id: '101', canvas_assignment_id: '$Canvas.assignment.id', canvas_api_base_url: 'http://canvas.test' });
    expect(claims).toMatchObject({ name: 'Tamika Ellison', given_name: 'Tamika', family_name: 'Ellison', email: student?.email });
    expect(claims[`${C}/lti11_legacy_user_id`]).toBe(student?.lti11Id);
    expect(claims['https://www.instructure.com/placement']).toBe('course_navigation');
    expect(claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint']).toEqual({ scope: expect.any(Array), lineitems: 'http://canvas.test/api/lti/courses/101/line_items' });
    expect(claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice']).toEqual({ context_memberships_url: 'http://canvas.test/api/lti/courses/101/names_and_roles', service_versions: ['2.0'] });
    expect((claims[`${C}/resource_link`] as { id: string }).id).toBeTruthy();
  });

  it('maps TA, designer and admin roles like Canvas', async () => {
    const ta = (await launch(sb, { userId: 4, courseId: 101, toolId: ids.toolId })).claims[`${C}/roles`];
    expect(ta).toEqual(expect.arrayContaining([`${LIS}/membership#Instructor`, `${LIS}/membership/Instructor#TeachingAssistant`]));
    const designer = (await launch(sb, { userId: 2, courseId: 101, toolId: ids.toolId })).claims[`${C}/roles`];
    expect(designer).toEqual([`${LIS}/membership#ContentDeveloper`, `${LIS}/system/person#User`]);
    const admin = (await launch(sb, { userId: 1, courseId: 101, toolId: ids.toolId })).claims[`${C}/roles`];
    expect(admin).toEqual([`${LIS}/institution/person#Administrator`, `${LIS}/system/person#User`]);
  });

  it('honours the privacy level and scopes of the tool', async () => {
    const anon = install(sb, tool, { privacyLevel: 'anonymous', scopes: [] });
    const { claims } = await launch(sb, { userId: 101, courseId: 101, toolId: anon.toolId });
    expect(claims.name).toBeUndefined();
    expect(claims.email).toBeUndefined();
    expect(claims.picture).toBeUndefined();
    expect(claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint']).toBeUndefined();
    expect(claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice']).toBeUndefined();
    const emailOnly = install(sb, tool, { privacyLevel: 'email_only' });
    const c2 = (await launch(sb, { userId: 101, courseId: 101, toolId: emailOnly.toolId })).claims;
    expect(c2.email).toBe('tamika.ellison@qcps.example.org');
    expect(c2.name).toBeUndefined();
  });

  it('sends lineitem and assignment variables for an assignment launch', async () => {
    const linked = sb.actions.linkAssignmentToTool(101, 2005, ids.toolId);
    const { claims } = await launch(sb, { userId: 101, courseId: 101, toolId: ids.toolId, assignmentId: 2005 });
    expect(claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint']).toMatchObject({ lineitem: `http://canvas.test/api/lti/courses/101/line_items/${linked.lineItemId}` });
    expect(claims[`${C}/resource_link`]).toMatchObject({ id: linked.resourceLinkId, title: 'Tech Leader I: evidence of mastery' });
    expect((claims[`${C}/custom`] as Record<string, string>).canvas_assignment_id).toBe('2005');
  });

  it('expands module variables for a module item launch and marks must_view items viewed', async () => {
    const t2 = sb.installTool({
      name: 'Vars', oidcInitiationUrl: `${TOOL_URL}/lti/login`, targetLinkUri: `${TOOL_URL}/lti`, redirectUris: [`${TOOL_URL}/lti`], jwksUrl: tool.jwksUrl,
      customFields: { m: '$Canvas.module.id', mi: '$Canvas.moduleItem.id', login: '$Canvas.user.loginId', full: '$Person.name.full', unknown: '$Canvas.nothing.here', plain: 'literal' },
    });
    const item = sb.actions.addToolModuleItem(101, 1001, t2.toolId, { title: 'Badge progress', completionRequirement: { type: 'must_view' } });
    const { claims } = await launch(sb, { userId: 102, courseId: 101, toolId: t2.toolId, moduleItemId: item.id });
    expect(claims[`${C}/custom`]).toEqual({ m: '1001', mi: String(item.id), login: 'bokoye', full: 'Brian Okoye', unknown: '$Canvas.nothing.here', plain: 'literal' });
    expect(claims['https://www.instructure.com/placement']).toBeNull();
    expect(sb.data.itemCompletion(item, 102).completed).toBe(true);
  });

  it('renders a Canvas-like launch page with the tool iframe and the storage frame', async () => {
    const url = sb.launchUrl({ userId: 101, courseId: 101, toolId: ids.toolId, placement: 'course_navigation' });
    const res = await request(sb.app).get(new URL(url).pathname + new URL(url).search);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']?.[0]).toMatch(/sandbox_user=101/);
    expect(res.text).toMatch(/<nav class="global-nav" aria-label="Global navigation">/);
    expect(res.text).toMatch(/<nav class="course-nav" aria-label="Course navigation">/);
    expect(res.text).toMatch(/<iframe class="tool-frame"[^>]*title="Microcred"[^>]*src="https:\/\/tool\.example\.com\/lti\/login\?iss=/);
    expect(res.text).toMatch(/allow="[^"]*clipboard-write/);
    expect(res.text).toMatch(/<iframe name="post_message_forwarding"[^>]*src="\/post_message_forwarding"/);
    const fwd = await request(sb.app).get('/post_message_forwarding');
    expect(fwd.text).toContain('/sandbox-assets/platform-storage.js');
    const js = await request(sb.app).get('/sandbox-assets/platform-storage.js');
    expect(js.status).toBe(200);
    expect(js.text).toContain("'lti.put_data'");
    const home = await request(sb.app).get('/');
    expect(home.text).toContain('Launch as Tamika Ellison (Student)');
    expect(home.text).toContain('Launch as Rashad Greene (TA)');
  });

  it('refuses to run in production', () => {
    const prev = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => makeSandbox()).toThrow(/production/);
    } finally {
      process.env.NODE_ENV = prev;
    }
  });

  it('keeps sub stable per user, across launches and across sandboxes built from the same scenario', async () => {
    const a = await launch(sb, { userId: 103, courseId: 101, toolId: ids.toolId });
    const b = await launch(sb, { userId: 103, courseId: 101, toolId: ids.toolId });
    expect(a.claims.sub).toBe(b.claims.sub);
    expect(a.claims.nonce).not.toBe(b.claims.nonce);
    expect(makeSandbox().data.user(103)?.ltiId).toBe(a.claims.sub);
  });
});
