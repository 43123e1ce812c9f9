import crypto from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createSandbox, loadScenario, type Sandbox, type SandboxOptions } from '../../src/sandbox';

/** A fake LTI tool for the sandbox tests: an RSA key, a JWKS served over HTTP, and JWT helpers. */
export interface FakeTool {
  jwksUrl: string; kid: string; privateKey: crypto.KeyObject;
  sign(payload: Record<string, unknown>, o?: { kid?: string }): string;
  close(): Promise<void>;
}

export const UA = 'microcred-sandbox-tests/1.0';
export const BASE = 'http://canvas.test';
export const SCENARIO = loadScenario(`${__dirname}/../../config/scenarios/tech-leader-1.json`);

export async function startTool(): Promise<FakeTool> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `tool-${crypto.randomBytes(4).toString('hex')}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    jwksUrl: `http://127.0.0.1:${port}/keys`, kid, privateKey,
    sign: (payload, o = {}) => jwt.sign(payload, privateKey, { algorithm: 'RS256', keyid: o.kid ?? kid }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const TOOL_URL = 'https://tool.example.com';
export const ALL_SCOPES = [
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
];

export function makeSandbox(o: Partial<SandboxOptions> = {}): Sandbox {
  return createSandbox({ baseUrl: BASE, scenario: SCENARIO, ...o });
}

export function install(sb: Sandbox, tool: FakeTool, o: { scopes?: string[]; privacyLevel?: 'anonymous' | 'name_only' | 'email_only' | 'public'; customFields?: Record<string, string> } = {}): { clientId: string; deploymentId: string; toolId: string } {
  return sb.installTool({
    name: 'Microcred', oidcInitiationUrl: `${TOOL_URL}/lti/login`, targetLinkUri: `${TOOL_URL}/lti`, redirectUris: [`${TOOL_URL}/lti`], jwksUrl: tool.jwksUrl,
    placements: [
      { placement: 'course_navigation', message_type: 'LtiResourceLinkRequest', text: 'Micro-credentials' },
      { placement: 'link_selection', message_type: 'LtiDeepLinkingRequest', target_link_uri: `${TOOL_URL}/lti/deep` },
      { placement: 'assignment_selection', message_type: 'LtiDeepLinkingRequest', target_link_uri: `${TOOL_URL}/lti/deep` },
      { placement: 'module_index_menu_modal', message_type: 'LtiDeepLinkingRequest', target_link_uri: `${TOOL_URL}/lti/deep` },
    ],
    customFields: o.customFields ?? { canvas_user_id: '$Canvas.user.id', canvas_course_id: '$Canvas.course.id', canvas_assignment_id: '$Canvas.assignment.id', canvas_api_base_url: '$Canvas.api.baseUrl' },
    privacyLevel: o.privacyLevel ?? 'public', scopes: o.scopes ?? ALL_SCOPES,
  });
}

/** Run the OIDC dance as a browser would and return the verified id_token claims. */
export async function launch(sb: Sandbox, o: Parameters<Sandbox['loginInitiation']>[0]): Promise<{ claims: jwt.JwtPayload; html: string; idToken: string }> {
  const init = sb.loginInitiation(o);
  const p = init.params;
  const res = await request(sb.app).get('/api/lti/authorize_redirect').query({
    scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: p.client_id, redirect_uri: `${TOOL_URL}/lti`,
    login_hint: p.login_hint, lti_message_hint: p.lti_message_hint, nonce: crypto.randomUUID(), state: 'st-1',
  });
  if (res.status !== 200) throw new Error(`authorize_redirect answered ${res.status}: ${res.text}`);
  const m = /name="id_token" value="([^"]+)"/.exec(res.text);
  if (!m?.[1]) throw new Error('no id_token in the form');
  const idToken = m[1];
  const header = jwt.decode(idToken, { complete: true })?.header;
  const jwk = sb.platformJwks().keys.find((k) => k.kid === header?.kid);
  const key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
  const claims = jwt.verify(idToken, key, { algorithms: ['RS256'], issuer: sb.issuer, audience: p.client_id }) as jwt.JwtPayload;
  return { claims, html: res.text, idToken };
}

/** A client-credentials access token for the LTI services. */
export async function ltiToken(sb: Sandbox, tool: FakeTool, clientId: string, scopes: string[] = ALL_SCOPES): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = tool.sign({ iss: clientId, sub: clientId, aud: `${sb.baseUrl}/login/oauth2/token`, iat: now, exp: now + 60, jti: crypto.randomUUID() });
  const res = await request(sb.app).post('/login/oauth2/token').set('User-Agent', UA).type('form').send({
    grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: scopes.join(' '),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.text}`);
  return (res.body as { access_token: string }).access_token;
}
