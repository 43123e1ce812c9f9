import crypto from 'node:crypto';
import type { Request } from 'express';
import { PlatformKeys, randomToken } from './keys';
import { SandboxData } from './store';
import { bearer, parseCookies } from './http';

/** Everything the sandbox's routes share: configuration, Canvas's data, keys, and credentials Canvas has issued. */

export interface AccessToken {
  token: string; kind: 'oauth' | 'lti'; userId: number | null; clientId: string; scopes: string[];
  expiresAt: number; revoked: boolean; refreshToken: string | null;
}
export interface ApiKey { clientId: string; clientSecret: string; redirectUris: string[]; name: string }
export interface AuthCode { code: string; clientId: string; userId: number; redirectUri: string; scopes: string[]; expiresAt: number; used: boolean }
export interface RegistrationToken { token: string; accountId: number; expiresAt: number; used: boolean; toolUrl: string }
export interface RequestRecord {
  method: string; path: string; status: number; throttled: boolean; tokenKind: 'lti' | 'oauth' | 'none';
  at: string; durationMs: number; userId: number | null; clientId: string | null; faulted: boolean;
}
export interface SandboxConfig { baseUrl: string; issuer: string; issuerExplicit: boolean; latencyMs: number; tokenTtlSeconds: number }

export const AGS_SCOPES = {
  lineitem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineitemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
} as const;
export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
export const SUPPORTED_LTI_SCOPES = [
  ...Object.values(AGS_SCOPES), NRPS_SCOPE,
  'https://canvas.instructure.com/lti/public_jwk/scope/update',
  'https://canvas.instructure.com/lti/account_lookup/scope/show',
  'https://canvas.instructure.com/lti-ags/progress/scope/show',
];

export class SandboxContext {
  readonly data: SandboxData;
  readonly keys = new PlatformKeys();
  readonly tokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, AccessToken>();
  readonly apiKeys: ApiKey[] = [];
  readonly authCodes = new Map<string, AuthCode>();
  readonly registrationTokens = new Map<string, RegistrationToken>();
  readonly usedJtis = new Map<string, number>();
  readonly usedDeepLinkNonces = new Set<string>();
  readonly requests: RequestRecord[] = [];
  /** Signs Canvas-internal short-lived tokens (lti_message_hint, deep-linking data); never leaves the sandbox. */
  readonly secret = crypto.randomBytes(32);
  /**
   * Canvas developer-key ids are global (shard × 10^13 + local id), so two Canvases never share one. Each sandbox
   * picks its own shard, so tests that run several sandboxes against one database never see colliding ids.
   */
  readonly shard = crypto.randomInt(1, 9000);

  /** A Canvas global id, as a string (shard × 10^13 is past JavaScript's safe integers). */
  globalId(localId: number): string {
    return `${this.shard}${String(localId).padStart(13, '0')}`;
  }

  constructor(readonly cfg: SandboxConfig) {
    this.data = new SandboxData(() => this.cfg.baseUrl);
  }

  url(path: string): string {
    return this.cfg.baseUrl + path;
  }

  issueToken(t: Omit<AccessToken, 'token' | 'expiresAt' | 'revoked' | 'refreshToken'> & { withRefresh?: boolean; ttlSeconds?: number }): AccessToken {
    const at: AccessToken = {
      token: `${t.kind === 'lti' ? 'lti' : '1~'}${randomToken(30)}`, kind: t.kind, userId: t.userId, clientId: t.clientId, scopes: t.scopes,
      expiresAt: Date.now() + (t.ttlSeconds ?? this.cfg.tokenTtlSeconds) * 1000, revoked: false, refreshToken: t.withRefresh ? `1~${randomToken(40)}` : null,
    };
    this.tokens.set(at.token, at);
    if (at.refreshToken) this.refreshTokens.set(at.refreshToken, at);
    return at;
  }

  /** The token on a request, whatever its state (the API middleware decides whether it is usable). */
  tokenOf(req: Request): AccessToken | undefined {
    const b = bearer(req);
    return b ? this.tokens.get(b) : undefined;
  }

  /** The "logged-in" browser user of the Canvas-like pages (a cookie set by `?as=`). */
  browserUser(req: Request): number | undefined {
    const v = parseCookies(req.get('cookie')).sandbox_user;
    return v && /^\d+$/.test(v) ? Number(v) : undefined;
  }
}
