import crypto from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { aadFor, Secrets, SecretOpenError } from '../crypto/secrets';
import { canvasCredentials, canvasOauthStates, canvasUserTokens } from './schema';

/**
 * The SQL side of Canvas API access: the tenant's developer key and service token, users' token pairs and
 * OAuth2 states. Secrets are sealed on the way in and opened on the way out; nothing else sees them.
 */

const AAD = {
  clientSecret: (tenantId: string) => aadFor('canvas.client_secret', tenantId),
  serviceToken: (tenantId: string) => aadFor('canvas.service_token', tenantId),
  access: (tenantId: string, userId: string) => aadFor('canvas.user.access', tenantId, userId),
  refresh: (tenantId: string, userId: string) => aadFor('canvas.user.refresh', tenantId, userId),
};

export const STATE_TTL_MINUTES = 10;

export interface OpenedUserToken {
  clientId: string;
  canvasUserId: string | null;
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date;
  scopes: string[];
  revokedAt: Date | null;
  updatedAt: Date;
}

export interface CanvasSettings {
  clientId: string | null;
  hasClientSecret: boolean;
  serviceToken: { set: boolean; canvasUser: string | null; setAt: Date | null };
}

const hash = (v: string): string => crypto.createHash('sha256').update(v).digest('hex');

export class CanvasTokenStore {
  constructor(private readonly orm: Orm, private readonly secrets: Secrets) {}

  // ---- tenant: developer key and service token

  async apiKey(tenantId: string): Promise<{ clientId: string; clientSecret: string } | undefined> {
    const [row] = await this.orm.select().from(canvasCredentials).where(eq(canvasCredentials.tenantId, tenantId)).limit(1);
    if (!row?.clientId || !row.clientSecretSealed) return undefined;
    return { clientId: row.clientId, clientSecret: this.secrets.open(row.clientSecretSealed, AAD.clientSecret(tenantId)) };
  }

  async settings(tenantId: string): Promise<CanvasSettings> {
    const [row] = await this.orm.select().from(canvasCredentials).where(eq(canvasCredentials.tenantId, tenantId)).limit(1);
    return {
      clientId: row?.clientId ?? null,
      hasClientSecret: !!row?.clientSecretSealed,
      serviceToken: { set: !!row?.serviceTokenSealed, canvasUser: row?.serviceTokenUser ?? null, setAt: row?.serviceTokenSetAt ?? null },
    };
  }

  /** Sets the developer key; a blank secret keeps the stored one (the form never shows it). */
  async setApiKey(tenantId: string, clientId: string, clientSecret: string | undefined): Promise<void> {
    const sealed = clientSecret ? this.secrets.seal(clientSecret, AAD.clientSecret(tenantId)) : undefined;
    await this.orm
      .insert(canvasCredentials)
      .values({ tenantId, clientId, clientSecretSealed: sealed ?? null })
      .onConflictDoUpdate({ target: canvasCredentials.tenantId, set: { clientId, ...(sealed ? { clientSecretSealed: sealed } : {}), updatedAt: sql`now()` } });
  }

  async serviceToken(tenantId: string): Promise<string | undefined> {
    const [row] = await this.orm.select({ s: canvasCredentials.serviceTokenSealed }).from(canvasCredentials).where(eq(canvasCredentials.tenantId, tenantId)).limit(1);
    if (!row?.s) return undefined;
    try {
      return this.secrets.open(row.s, AAD.serviceToken(tenantId));
    } catch (err) {
      if (err instanceof SecretOpenError) return undefined;
      throw err;
    }
  }

  async setServiceToken(tenantId: string, token: string | null, o: { setBy: string; canvasUser: string | null }): Promise<void> {
    const values = token
      ? { serviceTokenSealed: this.secrets.seal(token, AAD.serviceToken(tenantId)), serviceTokenUser: o.canvasUser, serviceTokenSetBy: o.setBy, serviceTokenSetAt: new Date() }
      : { serviceTokenSealed: null, serviceTokenUser: null, serviceTokenSetBy: o.setBy, serviceTokenSetAt: null };
    await this.orm
      .insert(canvasCredentials)
      .values({ tenantId, ...values })
      .onConflictDoUpdate({ target: canvasCredentials.tenantId, set: { ...values, updatedAt: sql`now()` } });
  }

  // ---- users' tokens

  async userToken(tenantId: string, userId: string, orm: Orm = this.orm, forUpdate = false): Promise<OpenedUserToken | undefined> {
    const q = orm.select().from(canvasUserTokens).where(and(eq(canvasUserTokens.tenantId, tenantId), eq(canvasUserTokens.userId, userId))).limit(1);
    const [row] = forUpdate ? await q.for('update') : await q;
    if (!row) return undefined;
    try {
      return {
        clientId: row.clientId,
        canvasUserId: row.canvasUserId,
        accessToken: this.secrets.open(row.accessTokenSealed, AAD.access(tenantId, userId)),
        refreshToken: row.refreshTokenSealed ? this.secrets.open(row.refreshTokenSealed, AAD.refresh(tenantId, userId)) : null,
        expiresAt: row.expiresAt,
        scopes: row.scopes,
        revokedAt: row.revokedAt,
        updatedAt: row.updatedAt,
      };
    } catch (err) {
      // A row that no longer opens (key changed, row tampered) is as good as revoked: the user reconnects.
      if (err instanceof SecretOpenError) return { clientId: row.clientId, canvasUserId: row.canvasUserId, accessToken: '', refreshToken: null, expiresAt: row.expiresAt, scopes: row.scopes, revokedAt: row.revokedAt ?? new Date(), updatedAt: row.updatedAt };
      throw err;
    }
  }

  /** After the code exchange: a new pair, live again. */
  async saveUserToken(tenantId: string, userId: string, t: { clientId: string; canvasUserId: string | null; accessToken: string; refreshToken: string | null; expiresInSeconds: number; scopes: string[] }): Promise<void> {
    const values = {
      clientId: t.clientId,
      canvasUserId: t.canvasUserId,
      accessTokenSealed: this.secrets.seal(t.accessToken, AAD.access(tenantId, userId)),
      refreshTokenSealed: t.refreshToken ? this.secrets.seal(t.refreshToken, AAD.refresh(tenantId, userId)) : null,
      expiresAt: new Date(Date.now() + t.expiresInSeconds * 1000),
      scopes: t.scopes,
      revokedAt: null,
    };
    await this.orm
      .insert(canvasUserTokens)
      .values({ tenantId, userId, ...values })
      .onConflictDoUpdate({ target: [canvasUserTokens.tenantId, canvasUserTokens.userId], set: { ...values, updatedAt: sql`now()` } });
  }

  /** After a refresh: Canvas returns a new access token and (usually) no refresh token, so the old one stays. */
  async updateAccessToken(tenantId: string, userId: string, t: { accessToken: string; refreshToken?: string; expiresInSeconds: number }, orm: Orm = this.orm): Promise<void> {
    await orm
      .update(canvasUserTokens)
      .set({
        accessTokenSealed: this.secrets.seal(t.accessToken, AAD.access(tenantId, userId)),
        ...(t.refreshToken ? { refreshTokenSealed: this.secrets.seal(t.refreshToken, AAD.refresh(tenantId, userId)) } : {}),
        expiresAt: new Date(Date.now() + t.expiresInSeconds * 1000),
        updatedAt: sql`now()`,
      })
      .where(and(eq(canvasUserTokens.tenantId, tenantId), eq(canvasUserTokens.userId, userId)));
  }

  async markRevoked(tenantId: string, userId: string): Promise<void> {
    await this.orm
      .update(canvasUserTokens)
      .set({ revokedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(canvasUserTokens.tenantId, tenantId), eq(canvasUserTokens.userId, userId), sql`${canvasUserTokens.revokedAt} IS NULL`));
  }

  async deleteUserToken(tenantId: string, userId: string): Promise<void> {
    await this.orm.delete(canvasUserTokens).where(and(eq(canvasUserTokens.tenantId, tenantId), eq(canvasUserTokens.userId, userId)));
  }

  // ---- OAuth2 states

  /** A random single-use state bound to the tenant, the user and the session; only its hash is stored. */
  async createState(tenantId: string, userId: string, sessionToken: string): Promise<string> {
    const state = crypto.randomBytes(32).toString('base64url');
    await this.orm.insert(canvasOauthStates).values({
      stateHash: hash(state),
      tenantId,
      userId,
      sessionHash: hash(sessionToken),
      expiresAt: sql`now() + make_interval(mins => ${STATE_TTL_MINUTES})`,
    });
    return state;
  }

  /** Consumes a state: deleted on first use whatever happens next, so a replay finds nothing. */
  async consumeState(state: string): Promise<{ tenantId: string; userId: string; sessionHash: string } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(state)) return undefined;
    const [row] = await this.orm.delete(canvasOauthStates).where(eq(canvasOauthStates.stateHash, hash(state))).returning();
    if (!row || row.expiresAt.getTime() <= Date.now()) return undefined;
    return { tenantId: row.tenantId, userId: row.userId, sessionHash: row.sessionHash };
  }

  async sweepStates(): Promise<number> {
    const rows = await this.orm.delete(canvasOauthStates).where(lt(canvasOauthStates.expiresAt, sql`now()`)).returning({ h: canvasOauthStates.stateHash });
    return rows.length;
  }
}
