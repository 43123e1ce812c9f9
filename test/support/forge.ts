/**
 * A platform whose signing key the test holds, so it can sign id_tokens that are right in every way but one.
 * It serves its JWKS over HTTP like Canvas; the tool is registered with it like any Canvas.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import request from 'supertest';
import type { RunningServer } from '../../src/server';
import { CLAIM } from '../../src/lti/launchGuard';

/** The claim names the guard checks, under the name the tests use. */
export const CLAIMS = { ...CLAIM, dl: CLAIM.deepLinkingSettings };

export class ForgePlatform {
  readonly keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly kid = 'forge-' + crypto.randomBytes(4).toString('hex');
  issuer = '';
  readonly clientId = String(10000000000000 + crypto.randomInt(1e9));
  readonly deploymentId = '7:' + crypto.randomBytes(8).toString('hex');
  private server?: http.Server;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (req.url?.startsWith('/jwks')) {
        const jwk = { ...this.keys.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const { port } = this.server.address() as { port: number };
    this.issuer = `http://localhost:${port}`;
  }

  async register(tool: RunningServer, opts: { deployments?: string[] } = {}): Promise<void> {
    await tool.app.admin.register({
      issuer: this.issuer,
      clientId: this.clientId,
      name: 'Forge District',
      authEndpoint: `${this.issuer}/auth`,
      tokenEndpoint: `${this.issuer}/token`,
      jwksUrl: `${this.issuer}/jwks`,
      deploymentIds: opts.deployments ?? [this.deploymentId],
      active: true,
    });
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /**
   * Starts a login at the tool like Canvas does; returns the state and nonce the tool chose, and a client that
   * sends the login's cookies back (as a browser on localhost does with Secure cookies; superagent would not).
   */
  async login(tool: RunningServer, extra: Record<string, string> = {}) {
    const res = await request(tool.url)
      .get('/lti/login')
      .query({ iss: this.issuer, client_id: this.clientId, login_hint: 'u1', lti_message_hint: 'm1', target_link_uri: `${tool.url}/lti/launch`, ...extra })
      .expect(302);
    const auth = new URL(res.headers.location as string);
    const cookie = ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split(';')[0]).join('; ');
    const agent = { post: (path: string) => request(tool.url).post(path).set('Cookie', cookie) };
    return { agent, cookie, state: auth.searchParams.get('state')!, nonce: auth.searchParams.get('nonce')!, redirectUri: auth.searchParams.get('redirect_uri')!, auth };
  }

  claims(tool: RunningServer, nonce: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.issuer,
      aud: this.clientId,
      azp: this.clientId,
      sub: 'user-1',
      iat: now,
      exp: now + 3600,
      nonce,
      name: 'Ada Educator',
      [CLAIMS.messageType]: 'LtiResourceLinkRequest',
      [CLAIMS.version]: '1.3.0',
      [CLAIMS.deploymentId]: this.deploymentId,
      [CLAIMS.targetLinkUri]: `${tool.url}/lti/launch`,
      [CLAIMS.resourceLink]: { id: 'rl-1', title: 'Tech Leader I' },
      [CLAIMS.context]: { id: 'ctx-1', title: 'Tech Leader I', label: 'TL1' },
      [CLAIMS.roles]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
      [CLAIMS.custom]: { canvas_user_id: '42', canvas_course_id: '7' },
      ...overrides,
    };
  }

  /** Signs exactly the claims given (jsonwebtoken would add or drop `iat`). */
  sign(claims: Record<string, unknown>, opts: { key?: crypto.KeyObject; kid?: string } = {}): string {
    const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const data = `${b64({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? this.kid })}.${b64(payload)}`;
    return `${data}.${crypto.sign('sha256', Buffer.from(data), opts.key ?? this.keys.privateKey).toString('base64url')}`;
  }
}

/** `alg: none`: a header and a payload, no signature. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}
