import express, { type NextFunction, type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import type { AccessToken, SandboxContext } from './context';
import { SandboxError, badRequestPage, str } from './http';
import { randomToken, verifyToolJwt } from './keys';

/**
 * Canvas's two credential systems (canvas-lti.md §2.1, §3.1):
 * - LTI Advantage client credentials (a tool's signed assertion) → tokens for `/api/lti/*` only;
 * - OAuth2 developer keys (authorization code + refresh) → user tokens for `/api/v1/*` only.
 */

const oauthError = (status: number, error: string, description: string): SandboxError => new SandboxError(status, { error, error_description: description });

function unauthenticated(res: Response, message: string, status = 'unauthenticated'): void {
  res.set('WWW-Authenticate', 'Bearer realm="canvas-lms"');
  res.status(401).json(status === 'invalid' ? { errors: [{ message }] } : { status, errors: [{ message }] });
}

/** `/api/v1` requires a live OAuth2 user token; `res.locals.userId` is set for the routes. */
export function requireUserToken(ctx: SandboxContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const raw = req.get('authorization') ?? str(req.query.access_token);
    if (!raw) return unauthenticated(res, 'user authorization required');
    const t = ctx.tokenOf(req);
    if (!t || t.revoked || t.kind !== 'oauth' || t.userId === null) return unauthenticated(res, 'Invalid access token.', 'invalid');
    if (t.expiresAt <= Date.now()) return unauthenticated(res, 'Invalid access token.', 'invalid');
    res.locals.userId = t.userId;
    next();
  };
}

/** `/api/lti/*` requires a live client-credentials token with one of `scopes`. */
export function requireLtiToken(ctx: SandboxContext, scopes: string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = ctx.tokenOf(req);
    const fail = (message: string): void => {
      res.set('WWW-Authenticate', 'Bearer realm="canvas-lms"');
      res.status(401).json({ errors: { type: 'unauthorized', message } });
    };
    if (!req.get('authorization')) return fail('Missing access token');
    if (!t || t.revoked || t.kind !== 'lti' || t.expiresAt <= Date.now()) return fail('Invalid access token');
    const tool = ctx.data.toolByClientId(t.clientId);
    if (!tool) return fail('Access Token not linked to a Tool associated with this Context');
    if (!t.scopes.some((s) => scopes.includes(s))) return fail('Insufficient permissions');
    res.locals.ltiToken = t;
    res.locals.tool = tool;
    next();
  };
}

export function revoke(ctx: SandboxContext, token: string): void {
  const t = ctx.tokens.get(token);
  if (!t) return;
  t.revoked = true;
  if (t.refreshToken) ctx.refreshTokens.delete(t.refreshToken);
}

function tokenResponse(ctx: SandboxContext, t: AccessToken, withRefresh: boolean): Record<string, unknown> {
  const user = t.userId === null ? undefined : ctx.data.user(t.userId);
  return {
    access_token: t.token, token_type: 'Bearer',
    user: user ? { id: user.id, name: user.name, global_id: String(user.id), effective_locale: 'en' } : undefined,
    ...(withRefresh && t.refreshToken ? { refresh_token: t.refreshToken } : {}),
    expires_in: Math.round((t.expiresAt - Date.now()) / 1000),
    canvas_region: 'us-east-1',
  };
}

/** Canvas accepts a redirect URI on the key's domain (or a subdomain), with the key's scheme. */
function redirectAllowed(uri: string, registered: string[]): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return registered.some((r) => {
    try {
      const k = new URL(r);
      return k.protocol === u.protocol && (u.hostname === k.hostname || u.hostname.endsWith(`.${k.hostname}`)) && (k.port === u.port);
    } catch {
      return false;
    }
  });
}

async function clientCredentials(ctx: SandboxContext, b: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (str(b.client_assertion_type) !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    throw oauthError(400, 'invalid_request', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  }
  const assertion = str(b.client_assertion);
  if (!assertion) throw oauthError(400, 'invalid_request', 'client_assertion is required');
  const decoded = jwt.decode(assertion);
  if (!decoded || typeof decoded === 'string') throw oauthError(400, 'invalid_request', 'client_assertion is not a JWT');
  const clientId = str(decoded.sub);
  const tool = clientId ? ctx.data.toolByClientId(clientId) : undefined;
  if (!tool) throw oauthError(401, 'invalid_client', 'unknown client');
  if (decoded.iss !== clientId) throw oauthError(400, 'invalid_request', "the 'iss' is invalid");
  const verified = await verifyToolJwt(assertion, tool);
  if (!verified.ok) throw oauthError(400, 'invalid_request', verified.error);
  const p = verified.payload;
  const expectedAud = ctx.url('/login/oauth2/token');
  const auds = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!auds.includes(expectedAud)) throw oauthError(400, 'invalid_request', "the 'aud' is invalid");
  const now = Math.floor(Date.now() / 1000);
  if (typeof p.iat !== 'number') throw oauthError(400, 'invalid_request', "the 'iat' is missing");
  if (p.iat < now - 300) throw oauthError(400, 'invalid_request', "the 'iat' must be less than 5 minutes old");
  if (p.iat > now + 30) throw oauthError(400, 'invalid_request', "the 'iat' must not be in the future");
  if (typeof p.exp !== 'number') throw oauthError(400, 'invalid_request', "the 'exp' is missing");
  if (!p.jti) throw oauthError(400, 'invalid_request', "the 'jti' is missing");
  for (const [j, until] of ctx.usedJtis) if (until < Date.now()) ctx.usedJtis.delete(j);
  const jtiKey = `${clientId}:${String(p.jti)}`;
  if (ctx.usedJtis.has(jtiKey)) throw oauthError(400, 'invalid_request', "the 'jti' is invalid");
  ctx.usedJtis.set(jtiKey, Date.now() + 10 * 60_000);
  const scopes = (str(b.scope) ?? '').split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw oauthError(400, 'invalid_request', 'scope is required');
  const bad = scopes.filter((s) => !tool.scopes.includes(s));
  if (bad.length) throw oauthError(400, 'invalid_scope', `Invalid scope: ${bad.join(' ')}`);
  const t = ctx.issueToken({ kind: 'lti', userId: null, clientId: tool.clientId, scopes, ttlSeconds: 3600 });
  return { access_token: t.token, token_type: 'Bearer', expires_in: 3600, scope: scopes.join(' ') };
}

export function oauthRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();

  r.get('/login/oauth2/auth', (req, res) => {
    const q = req.query as Record<string, unknown>;
    const key = ctx.apiKeys.find((k) => k.clientId === str(q.client_id));
    if (!key) throw badRequestPage('unknown client_id: no developer key with that id');
    if (str(q.response_type) !== 'code') throw badRequestPage('response_type must be "code"');
    const redirectUri = str(q.redirect_uri) ?? '';
    if (!redirectAllowed(redirectUri, key.redirectUris)) throw badRequestPage('redirect_uri does not match client settings');
    const as = str(q.as);
    if (as && ctx.data.user(as)) res.cookie('sandbox_user', as, { httpOnly: true, sameSite: 'lax', path: '/' });
    const userId = as && ctx.data.user(as) ? Number(as) : ctx.browserUser(req);
    res.render('consent', {
      key, user: userId === undefined ? undefined : ctx.data.user(userId), users: ctx.data.users,
      params: { client_id: key.clientId, redirect_uri: redirectUri, state: str(q.state) ?? '', scope: str(q.scope) ?? '' },
    });
  });

  r.post('/login/oauth2/confirm', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const key = ctx.apiKeys.find((k) => k.clientId === str(b.client_id));
    const redirectUri = str(b.redirect_uri) ?? '';
    if (!key || !redirectAllowed(redirectUri, key.redirectUris)) throw badRequestPage('invalid client or redirect_uri');
    const target = new URL(redirectUri);
    if (str(b.decision) === 'cancel') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied your request.');
    } else {
      const userId = str(b.user_id) && ctx.data.user(str(b.user_id) as string) ? Number(b.user_id) : ctx.browserUser(req);
      if (userId === undefined) throw badRequestPage('Log in first: choose a user');
      const code = randomToken(24);
      ctx.authCodes.set(code, { code, clientId: key.clientId, userId, redirectUri, scopes: (str(b.scope) ?? '').split(/\s+/).filter(Boolean), expiresAt: Date.now() + 600_000, used: false });
      target.searchParams.set('code', code);
    }
    if (str(b.state)) target.searchParams.set('state', str(b.state) as string);
    res.redirect(302, target.toString());
  });

  r.post('/login/oauth2/token', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const grant = str(b.grant_type);
    if (grant === 'client_credentials') {
      res.json(await clientCredentials(ctx, b));
      return;
    }
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw oauthError(400, 'unsupported_grant_type', `grant_type ${grant ?? '(missing)'} is not supported`);
    const key = ctx.apiKeys.find((k) => k.clientId === str(b.client_id));
    if (!key || key.clientSecret !== str(b.client_secret)) throw oauthError(401, 'invalid_client', 'unknown client');
    if (grant === 'authorization_code') {
      const code = ctx.authCodes.get(str(b.code) ?? '');
      if (!code || code.used || code.expiresAt < Date.now() || code.clientId !== key.clientId) throw oauthError(400, 'invalid_grant', 'authorization_code not found');
      if (str(b.redirect_uri) !== undefined && str(b.redirect_uri) !== code.redirectUri) throw oauthError(400, 'invalid_grant', 'redirect_uri does not match');
      code.used = true;
      const t = ctx.issueToken({ kind: 'oauth', userId: code.userId, clientId: key.clientId, scopes: code.scopes, withRefresh: true });
      res.json(tokenResponse(ctx, t, true));
      return;
    }
    const old = ctx.refreshTokens.get(str(b.refresh_token) ?? '');
    if (!old || old.clientId !== key.clientId) throw oauthError(400, 'invalid_grant', 'refresh_token not found');
    // Canvas regenerates the access token of the same grant; the refresh token stays the same and is not returned.
    old.revoked = true;
    const t = ctx.issueToken({ kind: 'oauth', userId: old.userId, clientId: old.clientId, scopes: old.scopes });
    t.refreshToken = old.refreshToken;
    if (t.refreshToken) ctx.refreshTokens.set(t.refreshToken, t);
    res.json(tokenResponse(ctx, t, false));
  });

  r.delete('/login/oauth2/token', (req, res) => {
    const t = ctx.tokenOf(req);
    if (!t || t.revoked) {
      unauthenticated(res, 'Invalid access token.', 'invalid');
      return;
    }
    revoke(ctx, t.token);
    res.json({});
  });
  return r;
}
