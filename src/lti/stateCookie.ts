import crypto from 'node:crypto';
import type { CookieOptions } from 'express';

/**
 * The browser-binding of an OIDC login: a cookie that only the browser which started the login holds.
 * SameSite=None so it rides Canvas's cross-site form_post; Partitioned (CHIPS) so Chrome keeps it in the
 * Canvas iframe with third-party cookies blocked. Where even that fails (Safari), LTI Platform Storage
 * carries the proof instead (see storage proof in launchGuard.ts).
 */
export const STATE_COOKIE_PREFIX = 'mc_state_';

export function stateCookieValue(secret: string, state: string): string {
  return crypto.createHmac('sha256', secret).update('lti-state:' + state).digest('base64url');
}

export function stateCookieOptions(): CookieOptions {
  return { httpOnly: true, secure: true, sameSite: 'none', partitioned: true, path: '/lti', maxAge: 10 * 60 * 1000 };
}

export function sameSecret(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/**
 * ltijs checks its own state cookie (`state<state>`, signed by cookie-parser with the ltijs secret) after our
 * stricter checks. We replaced ltijs's login, so we hand ltijs the cookie it expects, signed the same way.
 */
export function ltijsStateCookie(secret: string, state: string, issuer: string): string {
  const value = 's:' + issuer + '.' + crypto.createHmac('sha256', secret).update(issuer).digest('base64').replace(/=+$/, '');
  return `state${state}=${encodeURIComponent(value)}`;
}
