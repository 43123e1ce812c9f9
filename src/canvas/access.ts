import axios from 'axios';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Orm } from '../db/database';
import { Secrets } from '../crypto/secrets';
import { logger as rootLogger, type Logger } from '../log';
import type { SessionContext } from '../lti/sessions';
import { sessions } from '../lti/schema';
import { users } from '../tenants/schema';
import { AppError } from '../web/errors';
import { CanvasClient, type CanvasClientOptions, type TokenSource } from './client';
import { CanvasAuthorizationRequired, CanvasResponseError, CanvasUnavailable } from './errors';
import { ConcurrencyLimiter } from './limiter';
import { CanvasTokenStore } from './tokens';
import { TokenResponseSchema, type TokenResponse } from './types';
import { USER_AGENT } from './userAgent';

/** The tenant fields Canvas access needs (a `SessionContext['tenant']` fits). */
export interface CanvasTenant { id: string; canvasBaseUrl: string | null }

/** Refresh this long before Canvas's expiry, so a token does not die mid-request. */
const EXPIRY_SKEW_MS = 60_000;

/** The OAuth callback could not complete: shown as a page with what to do. */
export class CanvasConnectError extends AppError {
  constructor(message: string, hint = 'Go back to microcred in Canvas and choose “Connect microcred to Canvas” again.') {
    super(400, message, { title: 'Canvas was not connected', hint, code: 'canvas_connect_failed' });
  }
}

/**
 * Per-user Canvas API access: the OAuth2 developer-key flow (canvas-lti.md §3.1), tokens sealed at rest,
 * refresh, re-authorization, and the tenant's service token; hands out `CanvasClient`s.
 *
 * Token lookup for a request: the acting user's token, else the tenant's service token, else
 * `CanvasAuthorizationRequired`. A service token may have more rights in Canvas than the person acting:
 * features authorize with microcred's policies before they call Canvas, and can check `client.actingAs`.
 */
export class CanvasAccess {
  readonly store: CanvasTokenStore;
  private readonly limiters = new Map<string, ConcurrencyLimiter>();
  private readonly refreshing = new Map<string, Promise<string>>();
  private readonly log: Logger;

  constructor(private readonly deps: { orm: Orm; config: Config; log?: Logger; clientOptions?: Partial<CanvasClientOptions> }) {
    this.store = new CanvasTokenStore(deps.orm, new Secrets(deps.config.secretKey));
    this.log = (deps.log ?? rootLogger).child({ component: 'canvas-access' });
  }

  redirectUri(): string {
    return `${this.deps.config.publicUrl}/canvas/oauth/callback`;
  }

  /** A client for the person in this session (their token, else the service token). */
  forSession(ctx: SessionContext): Promise<CanvasClient> {
    return this.forUser(ctx.tenant, ctx.user.id);
  }

  async forUser(tenant: CanvasTenant, userId: string, o: { serviceFallback?: boolean } = {}): Promise<CanvasClient> {
    const baseUrl = requireBaseUrl(tenant);
    const row = await this.store.userToken(tenant.id, userId);
    if (row && !row.revokedAt) return this.client(baseUrl, this.userSource(tenant, userId, row.accessToken, row.expiresAt));
    if (o.serviceFallback !== false) {
      const service = await this.serviceSource(tenant);
      if (service) return this.client(baseUrl, service);
    }
    const configured = await this.store.apiKey(tenant.id);
    throw new CanvasAuthorizationRequired(!configured ? 'not_configured' : row?.revokedAt ? 'revoked' : 'not_connected');
  }

  /** The tenant's service token alone (background jobs that act for the district). */
  async forService(tenant: CanvasTenant): Promise<CanvasClient> {
    const baseUrl = requireBaseUrl(tenant);
    const service = await this.serviceSource(tenant);
    if (!service) throw new CanvasAuthorizationRequired('not_configured', 'No Canvas service token is set for your district.');
    return this.client(baseUrl, service);
  }

  /** A client for a token that is not stored (checking a service token before saving it). */
  clientWithToken(tenant: CanvasTenant, token: string): CanvasClient {
    return this.client(requireBaseUrl(tenant), { id: `check:${tenant.id}`, kind: 'static', token: () => Promise.resolve(token), refresh: () => Promise.reject(new CanvasAuthorizationRequired('unauthorized')) });
  }

  // ---------------------------------------------------------------- OAuth2 developer-key flow

  /** Starts authorization: a fresh single-use state bound to this session, and Canvas's authorize URL. */
  async authorizeUrl(ctx: SessionContext): Promise<string> {
    const baseUrl = requireBaseUrl(ctx.tenant);
    const key = await this.store.apiKey(ctx.tenant.id);
    if (!key) throw new CanvasAuthorizationRequired('not_configured');
    const state = await this.store.createState(ctx.tenant.id, ctx.user.id, ctx.token);
    const u = new URL('/login/oauth2/auth', baseUrl);
    u.searchParams.set('client_id', key.clientId);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('redirect_uri', this.redirectUri());
    u.searchParams.set('state', state);
    // Shown in the user's Canvas settings next to the token.
    u.searchParams.set('purpose', 'microcred');
    return u.toString();
  }

  /** The callback: checks the state (single use, 10 minutes, session still open), exchanges the code, stores the pair. */
  async completeAuthorization(q: { state?: string; code?: string; error?: string }): Promise<{ canvasUserName: string | null }> {
    const bound = q.state ? await this.store.consumeState(q.state) : undefined;
    if (!bound) throw new CanvasConnectError('This Canvas sign-in link has expired or was already used.');
    const [live] = await this.deps.orm
      .select({ tenantId: sessions.tenantId, userId: sessions.userId, canvasBaseUrl: sql<string | null>`(SELECT canvas_base_url FROM tenants WHERE id = ${sessions.tenantId})`, canvasUserId: users.canvasUserId })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, bound.sessionHash), gt(sessions.expiresAt, sql`now()`)))
      .limit(1);
    if (!live || live.tenantId !== bound.tenantId || live.userId !== bound.userId) throw new CanvasConnectError('Your microcred session ended before Canvas answered.', 'Open microcred again from Canvas, then connect.');
    if (q.error) throw new CanvasConnectError(q.error === 'access_denied' ? 'You chose not to let microcred use your Canvas account.' : 'Canvas did not authorize microcred.');
    if (!q.code) throw new CanvasConnectError('Canvas did not send an authorization code.');
    const key = await this.store.apiKey(bound.tenantId);
    if (!key || !live.canvasBaseUrl) throw new CanvasAuthorizationRequired('not_configured');
    const t = await tokenRequest(live.canvasBaseUrl, { grant_type: 'authorization_code', client_id: key.clientId, client_secret: key.clientSecret, redirect_uri: this.redirectUri(), code: q.code }, 'exchange');
    const canvasUserId = t.user?.id ?? null;
    // The session's user must be the Canvas user who consented: a session link opened by someone else
    // must not attach their Canvas account to this microcred user.
    if (live.canvasUserId && canvasUserId && canvasUserId !== live.canvasUserId) {
      await deleteToken(live.canvasBaseUrl, t.access_token).catch(() => undefined);
      throw new CanvasConnectError('You signed in to Canvas as a different person than the one using microcred.', 'Sign in to Canvas as yourself, then connect again.');
    }
    await this.store.saveUserToken(bound.tenantId, bound.userId, {
      clientId: key.clientId,
      canvasUserId,
      accessToken: t.access_token,
      refreshToken: t.refresh_token ?? null,
      expiresInSeconds: t.expires_in ?? 3600,
      scopes: t.scope ? t.scope.split(/\s+/).filter(Boolean) : [],
    });
    this.log.info({ tenant: bound.tenantId, user: bound.userId }, 'canvas account connected');
    return { canvasUserName: t.user?.name ?? null };
  }

  /** Forgets the user's tokens (and asks Canvas to delete the grant, best effort). */
  async disconnect(ctx: SessionContext): Promise<void> {
    const row = await this.store.userToken(ctx.tenant.id, ctx.user.id);
    if (row?.accessToken && ctx.tenant.canvasBaseUrl && !row.revokedAt) await deleteToken(ctx.tenant.canvasBaseUrl, row.accessToken).catch(() => undefined);
    await this.store.deleteUserToken(ctx.tenant.id, ctx.user.id);
  }

  // ---------------------------------------------------------------- token sources

  private client(baseUrl: string, tokens: TokenSource): CanvasClient {
    let limiter = this.limiters.get(tokens.id);
    if (!limiter) {
      // One limiter per token owner: Canvas's bucket is per token, whichever request uses it.
      limiter = new ConcurrencyLimiter();
      this.limiters.set(tokens.id, limiter);
    }
    return new CanvasClient({ baseUrl, tokens, limiter, log: this.deps.log, ...this.deps.clientOptions });
  }

  private async serviceSource(tenant: CanvasTenant): Promise<TokenSource | undefined> {
    const token = await this.store.serviceToken(tenant.id);
    if (!token) return undefined;
    return {
      id: `service:${tenant.id}`,
      kind: 'service',
      token: () => Promise.resolve(token),
      refresh: () => {
        this.log.warn({ tenant: tenant.id }, 'canvas service token refused');
        return Promise.reject(new CanvasAuthorizationRequired('revoked', 'Canvas no longer accepts the district’s service token.'));
      },
    };
  }

  private userSource(tenant: CanvasTenant, userId: string, initial: string, expiresAt: Date): TokenSource {
    let current = initial;
    let expires = expiresAt.getTime();
    const refresh = async (rejected: string): Promise<string> => {
      const got = await this.refreshOnce(tenant, userId, rejected);
      current = got.accessToken;
      expires = got.expiresAt;
      return current;
    };
    return {
      id: `user:${tenant.id}:${userId}`,
      kind: 'user',
      token: () => (expires - EXPIRY_SKEW_MS <= Date.now() ? refresh(current) : Promise.resolve(current)),
      refresh,
    };
  }

  /** One refresh at a time per user in this process; across processes the row lock decides. */
  private async refreshOnce(tenant: CanvasTenant, userId: string, rejected: string): Promise<{ accessToken: string; expiresAt: number }> {
    const key = `${tenant.id}:${userId}`;
    let p = this.refreshing.get(key);
    if (!p) {
      p = this.refresh(tenant, userId, rejected).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, p);
    }
    const accessToken = await p;
    const row = await this.store.userToken(tenant.id, userId);
    return { accessToken, expiresAt: row?.expiresAt.getTime() ?? Date.now() + 3600_000 };
  }

  private async refresh(tenant: CanvasTenant, userId: string, rejected: string): Promise<string> {
    const baseUrl = requireBaseUrl(tenant);
    const key = await this.store.apiKey(tenant.id);
    type Outcome = { token: string } | { revoked: 'revoked' | 'refresh_failed' };
    const outcome = await this.deps.orm.transaction(async (tx): Promise<Outcome> => {
      const row = await this.store.userToken(tenant.id, userId, tx as unknown as Orm, true);
      if (!row || row.revokedAt) return { revoked: 'revoked' as const };
      // Another request (or instance) refreshed while we waited for the lock: use its token.
      if (row.accessToken !== rejected && row.expiresAt.getTime() - EXPIRY_SKEW_MS > Date.now()) return { token: row.accessToken };
      // A new developer key cannot refresh tokens of the old one.
      if (!row.refreshToken || !key || key.clientId !== row.clientId) return { revoked: 'refresh_failed' as const };
      try {
        const t = await tokenRequest(baseUrl, { grant_type: 'refresh_token', client_id: key.clientId, client_secret: key.clientSecret, refresh_token: row.refreshToken }, 'refresh');
        await this.store.updateAccessToken(tenant.id, userId, { accessToken: t.access_token, refreshToken: t.refresh_token, expiresInSeconds: t.expires_in ?? 3600 }, tx as unknown as Orm);
        return { token: t.access_token };
      } catch (err) {
        if (err instanceof CanvasAuthorizationRequired) return { revoked: 'refresh_failed' as const };
        throw err;
      }
    });
    if ('token' in outcome) return outcome.token;
    await this.store.markRevoked(tenant.id, userId);
    this.log.info({ tenant: tenant.id, user: userId, reason: outcome.revoked }, 'canvas token no longer usable; the user must reconnect');
    throw new CanvasAuthorizationRequired(outcome.revoked);
  }
}

function requireBaseUrl(tenant: CanvasTenant): string {
  if (!tenant.canvasBaseUrl) throw new CanvasAuthorizationRequired('not_configured', 'microcred does not know your Canvas address yet. Open microcred from Canvas once, then try again.');
  return tenant.canvasBaseUrl;
}

/** `POST /login/oauth2/token`: an `invalid_grant`/`invalid_client` answer means the grant is gone. */
async function tokenRequest(baseUrl: string, form: Record<string, string>, what: 'exchange' | 'refresh'): Promise<TokenResponse> {
  const path = '/login/oauth2/token';
  let res;
  try {
    res = await axios.post(new URL(path, baseUrl).toString(), new URLSearchParams(form).toString(), {
      headers: { 'User-Agent': USER_AGENT, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      timeout: 20_000,
      validateStatus: () => true,
      transformResponse: [(d: unknown) => d],
      maxRedirects: 0,
    });
  } catch (err) {
    throw new CanvasUnavailable('POST', path, (err as { code?: string }).code ?? 'network error');
  }
  if (res.status >= 500) throw new CanvasUnavailable('POST', path, `HTTP ${res.status}`);
  if (res.status >= 400) {
    if (what === 'exchange') throw new CanvasConnectError('Canvas did not accept the sign-in (the code expired or the API key is wrong).');
    throw new CanvasAuthorizationRequired('refresh_failed');
  }
  let json: unknown;
  try {
    json = JSON.parse(String(res.data));
  } catch {
    throw new CanvasResponseError('POST', path, 'malformed JSON');
  }
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) throw new CanvasResponseError('POST', path, 'no access token in the answer');
  return parsed.data;
}

/** `DELETE /login/oauth2/token`: Canvas forgets the grant. */
async function deleteToken(baseUrl: string, token: string): Promise<void> {
  await axios.delete(new URL('/login/oauth2/token', baseUrl).toString(), { headers: { 'User-Agent': USER_AGENT, Authorization: `Bearer ${token}` }, timeout: 10_000, validateStatus: () => true });
}
