import crypto from 'node:crypto';
import request from 'supertest';
import type { Sandbox } from '../../src/sandbox';
import { TOOL_URL, UA, install, launch, makeSandbox, startTool, type FakeTool } from './helpers';

const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim';
const C = 'https://purl.imsglobal.org/spec/lti/claim';

describe('sandbox deep linking', () => {
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

  async function dlLaunch(placement: string, extra: { assignmentId?: number; moduleId?: number } = {}) {
    const { claims } = await launch(sb, { userId: 3, courseId: 101, toolId: ids.toolId, placement, ...extra });
    return claims[`${DL}/deep_linking_settings`] as { deep_link_return_url: string; data: string; accept_types: string[]; accept_multiple: boolean };
  }
  function response(settings: { data?: string }, items: unknown[], o: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    return tool.sign({
      iss: ids.clientId, aud: sb.issuer, iat: now, exp: now + 60, nonce: crypto.randomUUID(),
      [`${C}/deployment_id`]: ids.deploymentId, [`${C}/message_type`]: 'LtiDeepLinkingResponse', [`${C}/version`]: '1.3.0',
      [`${DL}/data`]: settings.data, [`${DL}/content_items`]: items, ...o,
    });
  }
  const post = (url: string, jwtValue: string) => request(sb.app).post(new URL(url).pathname).type('form').send({ JWT: jwtValue });

  it('sends deep_linking_settings for a Deep Linking placement', async () => {
    const { claims } = await launch(sb, { userId: 3, courseId: 101, toolId: ids.toolId, placement: 'link_selection' });
    expect(claims[`${C}/message_type`]).toBe('LtiDeepLinkingRequest');
    expect(claims[`${C}/target_link_uri`]).toBe(`${TOOL_URL}/lti/deep`);
    expect(claims[`${C}/resource_link`]).toBeUndefined();
    expect(claims[`${DL}/deep_linking_settings`]).toMatchObject({
      deep_link_return_url: 'http://canvas.test/courses/101/deep_linking_response', accept_types: ['ltiResourceLink', 'link'],
      accept_presentation_document_targets: ['embed', 'iframe', 'window'], accept_multiple: true, auto_create: true, data: expect.any(String),
    });
  });

  it('creates an unpublished external-tool assignment with a tagged line item from an ltiResourceLink with lineItem', async () => {
    const settings = await dlLaunch('link_selection', { moduleId: 1006 });
    const res = await post(settings.deep_link_return_url, response(settings, [
      { type: 'ltiResourceLink', title: 'Tech Leader I badge review', url: `${TOOL_URL}/lti/award`, custom: { credential: 'tl1' }, lineItem: { scoreMaximum: 10, label: 'Tech Leader I badge', resourceId: 'cred-tl1', tag: 'microcred' } },
      { type: 'link', title: 'Badge criteria', url: 'https://example.org/criteria' },
    ]));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Content added');
    const a = sb.data.assignments.find((x) => x.name === 'Tech Leader I badge');
    expect(a).toMatchObject({ published: false, pointsPossible: 10, submissionTypes: ['external_tool'] });
    expect(a?.externalTool?.url).toBe(`${TOOL_URL}/lti/award`);
    const li = sb.data.lineItems.find((l) => l.assignmentId === a?.id);
    expect(li).toMatchObject({ resourceId: 'cred-tl1', tag: 'microcred', scoreMaximum: 10, clientId: ids.clientId, resourceLinkId: a?.externalTool?.resourceLinkId });
    const items = sb.data.itemsOf(1006);
    expect(items.slice(-2).map((i) => [i.type, i.title, i.published])).toEqual([['Assignment', 'Tech Leader I badge', false], ['ExternalUrl', 'Badge criteria', false]]);
    // The new link launches with the custom parameters and its line item.
    const { claims } = await launch(sb, { userId: 101, courseId: 101, toolId: ids.toolId, assignmentId: a?.id });
    expect((claims[`${C}/custom`] as Record<string, string>).credential).toBe('tl1');
    expect(claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint']).toMatchObject({ lineitem: `http://canvas.test/api/lti/courses/101/line_items/${li?.id}` });
  });

  it('links the assignment being edited for assignment_selection', async () => {
    const settings = await dlLaunch('assignment_selection', { assignmentId: 2005 });
    expect(settings.accept_multiple).toBe(false);
    const res = await post(settings.deep_link_return_url, response(settings, [{ type: 'ltiResourceLink', url: `${TOOL_URL}/lti/evidence`, title: 'Evidence' }]));
    expect(res.status).toBe(200);
    const a = sb.data.assignment(2005);
    expect(a?.externalTool).toMatchObject({ url: `${TOOL_URL}/lti/evidence`, toolId: Number(ids.toolId) });
    expect(sb.data.lineItems.filter((l) => l.assignmentId === 2005)).toHaveLength(1);
  });

  it('creates a module for module_index_menu_modal', async () => {
    const settings = await dlLaunch('module_index_menu_modal');
    const before = sb.data.courseModules(101).length;
    expect((await post(settings.deep_link_return_url, response(settings, [{ type: 'ltiResourceLink', title: 'Progress' }]))).status).toBe(200);
    const mods = sb.data.courseModules(101);
    expect(mods).toHaveLength(before + 1);
    expect(sb.data.itemsOf(mods[mods.length - 1]?.id ?? 0).map((i) => i.type)).toEqual(['ExternalTool']);
  });

  it.each([
    ['a wrong aud', { aud: 'https://elsewhere.example' }, /aud/],
    ['a wrong deployment_id', { [`${C}/deployment_id`]: 'other' }, /deployment_id/],
    ['a wrong message_type', { [`${C}/message_type`]: 'LtiResourceLinkRequest' }, /message_type/],
    ['no nonce', { nonce: undefined }, /nonce/],
    ['data that was not echoed', { [`${DL}/data`]: 'tampered' }, /data claim/],
    ['a stale iat', { iat: Math.floor(Date.now() / 1000) - 3600 }, /iat/],
  ])('rejects a response with %s with a 400 page', async (_n, o, message) => {
    const settings = await dlLaunch('link_selection');
    const res = await post(settings.deep_link_return_url, response(settings, [{ type: 'ltiResourceLink' }], o));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(message);
  });

  it('rejects unaccepted types, several items for assignment_selection, and a bad signature', async () => {
    const s1 = await dlLaunch('assignment_selection', { assignmentId: 2005 });
    expect((await post(s1.deep_link_return_url, response(s1, [{ type: 'link', url: 'https://x.example' }]))).status).toBe(400);
    expect((await post(s1.deep_link_return_url, response(s1, [{ type: 'ltiResourceLink' }, { type: 'ltiResourceLink' }]))).status).toBe(400);
    const s2 = await dlLaunch('link_selection');
    const other = await startTool();
    try {
      const now = Math.floor(Date.now() / 1000);
      const forged = other.sign({ iss: ids.clientId, aud: sb.issuer, iat: now, exp: now + 60, nonce: 'n', [`${C}/deployment_id`]: ids.deploymentId, [`${C}/message_type`]: 'LtiDeepLinkingResponse', [`${C}/version`]: '1.3.0', [`${DL}/data`]: s2.data }, { kid: tool.kid });
      const res = await post(s2.deep_link_return_url, forged);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/verification failed/);
    } finally {
      await other.close();
    }
    expect((await request(sb.app).post('/courses/101/deep_linking_response').type('form').send({})).status).toBe(400);
  });
});

describe('sandbox dynamic registration', () => {
  let sb: Sandbox;
  let tool: FakeTool;
  beforeAll(async () => {
    tool = await startTool();
  });
  afterAll(() => tool.close());
  beforeEach(() => {
    sb = makeSandbox();
  });

  const registration = (jwksUri: string) => ({
    application_type: 'web', grant_types: ['client_credentials', 'implicit'], response_types: ['id_token'], redirect_uris: [`${TOOL_URL}/lti`],
    initiate_login_uri: `${TOOL_URL}/lti/login`, client_name: 'Microcred', jwks_uri: jwksUri, token_endpoint_auth_method: 'private_key_jwt',
    scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/score https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    'https://purl.imsglobal.org/spec/lti-tool-configuration': {
      domain: 'tool.example.com', target_link_uri: `${TOOL_URL}/lti`, custom_parameters: { canvas_user_id: '$Canvas.user.id' }, claims: ['sub', 'name', 'email'],
      messages: [{ type: 'LtiResourceLinkRequest', placements: ['course_navigation'], label: 'Micro-credentials' }, { type: 'LtiDeepLinkingRequest', placements: ['link_selection', 'assignment_selection'] }],
      'https://canvas.instructure.com/lti/privacy_level': 'public',
    },
  });

  it('requires the registration token to read the OpenID configuration', async () => {
    const reg = sb.startRegistration(`${TOOL_URL}/lti/register`);
    expect(reg.url).toContain('openid_configuration=http%3A%2F%2Fcanvas.test%2Fapi%2Flti%2Fsecurity%2Fopenid-configuration');
    expect(reg.url).toContain(`registration_token=${reg.registrationToken}`);
    expect((await request(sb.app).get('/api/lti/security/openid-configuration').set('User-Agent', UA)).status).toBe(401);
    expect((await request(sb.app).get('/api/lti/security/openid-configuration').set('User-Agent', UA).set('Authorization', 'Bearer wrong')).status).toBe(401);
    const res = await request(sb.app).get('/api/lti/security/openid-configuration').set('User-Agent', UA).set('Authorization', `Bearer ${reg.registrationToken}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issuer: 'http://canvas.test', authorization_endpoint: 'http://canvas.test/api/lti/authorize_redirect', token_endpoint: 'http://canvas.test/login/oauth2/token',
      jwks_uri: 'http://canvas.test/api/lti/security/jwks', registration_endpoint: 'http://canvas.test/api/lti/registrations', authorization_server: 'canvas.test',
      'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'canvas', variables: expect.arrayContaining(['Canvas.user.id']) },
    });
    const msgs = res.body['https://purl.imsglobal.org/spec/lti-platform-configuration'].messages_supported as { type: string; placements: string[] }[];
    expect(msgs.find((m) => m.type === 'LtiDeepLinkingRequest')?.placements).toContain('assignment_selection');
  });

  it('installs the tool once per registration token and returns client_id and deployment_id', async () => {
    const reg = sb.startRegistration(`${TOOL_URL}/lti/register`);
    const post = (body: object, token = reg.registrationToken) => request(sb.app).post('/api/lti/registrations').set('User-Agent', UA).set('Authorization', `Bearer ${token}`).send(body);
    const bad = await post({ ...registration(tool.jwksUrl), token_endpoint_auth_method: 'client_secret_basic' });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('token_endpoint_auth_method');
    const res = await post(registration(tool.jwksUrl));
    expect(res.status).toBe(200);
    const config = res.body['https://purl.imsglobal.org/spec/lti-tool-configuration'] as { deployment_id: string };
    expect(res.body.client_id).toBeTruthy();
    const installed = sb.data.toolByClientId(res.body.client_id as string);
    expect(config.deployment_id).toBe(installed?.deploymentId);
    expect(installed).toMatchObject({ privacyLevel: 'public', redirectUris: [`${TOOL_URL}/lti`], jwksUrl: tool.jwksUrl });
    expect(installed?.placements.map((p) => p.placement)).toEqual(['course_navigation', 'link_selection', 'assignment_selection']);
    expect(installed?.scopes).toHaveLength(2);
    expect((await post(registration(tool.jwksUrl))).status).toBe(401);
    expect((await post(registration(tool.jwksUrl), 'nope')).status).toBe(401);
    const { claims } = await launch(sb, { userId: 101, courseId: 101, toolId: installed?.id ?? 0, placement: 'course_navigation' });
    expect(claims[`${C}/custom`]).toEqual({ canvas_user_id: '101' });
  });

  it('serves the admin registration page with the tool in an iframe', async () => {
    const res = await request(sb.app).get('/accounts/1/developer_keys/register').query({ url: `${TOOL_URL}/lti/register` });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<iframe class="tool-frame" title="Tool registration" src="https:\/\/tool\.example\.com\/lti\/register\?openid_configuration=[^"]+registration_token=/);
    expect(res.text).toContain('/sandbox-assets/registration.js');
  });

  it('installs from a Canvas developer key JSON configuration and rejects incomplete ones', () => {
    const json = {
      title: 'Microcred', description: 'Micro-credentials', oidc_initiation_url: `${TOOL_URL}/lti/login`, target_link_uri: `${TOOL_URL}/lti`, public_jwk_url: tool.jwksUrl,
      scopes: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'],
      extensions: [{ platform: 'canvas.instructure.com', privacy_level: 'name_only', settings: { placements: [{ placement: 'course_navigation', message_type: 'LtiResourceLinkRequest' }] } }],
      custom_fields: { canvas_course_id: '$Canvas.course.id' },
    };
    const out = sb.installFromJsonConfig(json);
    expect(sb.data.tool(out.toolId)).toMatchObject({ privacyLevel: 'name_only', redirectUris: [`${TOOL_URL}/lti`], scopes: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'] });
    expect(() => sb.installFromJsonConfig({ ...json, public_jwk_url: undefined })).toThrow(/public_jwk or public_jwk_url/);
    expect(() => sb.installFromJsonConfig({ ...json, extensions: [] })).toThrow(/privacy_level/);
    expect(() => sb.installFromJsonConfig({ ...json, title: '' })).toThrow(/missing title/);
    expect(() => sb.installFromJsonConfig('nope')).toThrow(/expected an object/);
  });
});
