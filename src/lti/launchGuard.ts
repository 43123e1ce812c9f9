import type { NextFunction, Request, Response } from 'express';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import type { Config } from '../config';
import { logger } from '../log';
import { InvalidInputError, NotFoundError, PayloadTooLargeError, UnauthorizedError, ForbiddenError } from '../web/errors';
import type { TenantRepository } from '../tenants/repository';
import type { LoginRepository } from './loginRepository';
import type { Platforms } from './platforms';
import { KeyError, type PlatformKeys } from './platformKeys';
import { STATE_COOKIE_PREFIX, ltijsStateCookie, sameSecret, stateCookieOptions, stateCookieValue } from './stateCookie';
import { sha256, storageKey } from './login';

export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  launchPresentation: 'https://purl.imsglobal.org/spec/lti/claim/launch_presentation',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
} as const;

/** Canvas id_tokens are a few KB; anything far larger is an attack or a mistake. */
export const MAX_ID_TOKEN_BYTES = 32 * 1024;
const CLOCK_SKEW_SECONDS = 60;

/** What the guard proved, for the launch handler (no feature reads raw claims). */
export interface VerifiedLaunch {
  claims: JwtPayload;
  tenantId: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
}

/**
 * Validates every id_token before ltijs sees it, closing what a bare ltijs 5.9.9 accepts (see
 * shared/research/ltijs-gaps.md): the login must be ours, unused and fresh; the nonce must be the one
 * bound to that login; the browser must prove it started the login (cookie or Platform Storage);
 * signature RS256 only; exp, iat, aud and azp checked; deployment registered; message type and its
 * required claims present. Only then is the login consumed and the request handed to ltijs.
 */
export function launchGuard(deps: { config: Config; platforms: Platforms; keys: PlatformKeys; logins: LoginRepository; tenants: TenantRepository }) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (req.method !== 'POST' || body.id_token === undefined) return next();
    if (req.path !== '/launch') throw new NotFoundError('launch address');
    const idToken = body.id_token;
    const state = body.state;
    if (typeof idToken !== 'string' || !idToken) throw reject('Canvas sent no id_token.', 'missing_id_token');
    if (Buffer.byteLength(idToken) > MAX_ID_TOKEN_BYTES) throw new PayloadTooLargeError('The launch token is far larger than any Canvas sends.');
    if (typeof state !== 'string' || !/^[0-9a-f]{64}$/.test(state)) throw reject('The launch has no valid state.', 'missing_state');

    const login = await deps.logins.find(state);
    if (!login) throw reject('This launch was not started by microcred.', 'unknown_state');
    if (login.usedAt) throw reject('This launch was already used. Each launch works once.', 'state_replayed');
    if (login.expired) throw reject('This launch took too long and expired.', 'state_expired');

    const platform = await deps.platforms.find(login.issuer, login.clientId);
    if (!platform || platform.kid !== login.platformKid) throw reject('This Canvas is no longer registered.', 'unregistered_platform');
    if (!platform.active) throw reject('This Canvas registration is not active.', 'inactive_platform');

    const decoded = jwt.decode(idToken, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw reject('The launch token is not a valid JWT.', 'malformed_token');
    if (decoded.header.alg !== 'RS256') throw reject(`Launch tokens must be signed with RS256 (got ${String(decoded.header.alg).slice(0, 16)}).`, 'bad_alg');

    let claims: JwtPayload;
    try {
      const key = await deps.keys.keyFor(platform.authConfig, decoded.header.kid);
      claims = jwt.verify(idToken, key, {
        algorithms: ['RS256'],
        issuer: login.issuer,
        audience: login.clientId,
        clockTolerance: CLOCK_SKEW_SECONDS,
        maxAge: deps.config.ltiTokenMaxAgeSeconds + CLOCK_SKEW_SECONDS,
      }) as JwtPayload;
    } catch (err) {
      if (err instanceof KeyError) throw reject(err.message, 'key_unavailable');
      throw reject(`The launch token was refused: ${(err as Error).message}.`, 'invalid_token');
    }
    if (typeof claims.exp !== 'number') throw reject('The launch token has no expiry (exp).', 'missing_exp');
    if (typeof claims.iat !== 'number') throw reject('The launch token has no issue time (iat).', 'missing_iat');
    if (claims.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) throw reject('The launch token was issued in the future.', 'future_iat');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (aud.length > 1 && !claims.azp) throw reject('The launch token names several audiences but no authorized party (azp).', 'missing_azp');
    if (claims.azp !== undefined && claims.azp !== login.clientId) throw reject('The launch token was issued for another tool (azp).', 'bad_azp');
    if (typeof claims.nonce !== 'string' || !sameSecret(claims.nonce, login.nonce)) throw reject('The launch token does not answer this login (nonce).', 'bad_nonce');
    if (typeof claims.sub !== 'string' || !claims.sub) throw reject('The launch has no user (sub). Anonymous launches are not supported.', 'missing_sub');
    if (claims[CLAIM.version] !== '1.3.0') throw reject('Only LTI 1.3.0 launches are supported.', 'bad_version');
    if (!Array.isArray(claims[CLAIM.roles])) throw reject('The launch has no roles.', 'missing_roles');

    const messageType = claims[CLAIM.messageType];
    if (messageType === 'LtiResourceLinkRequest') {
      const link = claims[CLAIM.resourceLink] as { id?: unknown } | undefined;
      if (!link || typeof link.id !== 'string') throw reject('The launch has no resource link.', 'missing_resource_link');
    } else if (messageType === 'LtiDeepLinkingRequest') {
      const dl = claims[CLAIM.deepLinkingSettings] as { deep_link_return_url?: unknown; accept_types?: unknown } | undefined;
      if (!dl || typeof dl.deep_link_return_url !== 'string' || !Array.isArray(dl.accept_types))
        throw reject('The deep linking launch has no deep linking settings.', 'missing_deep_linking_settings');
    } else {
      throw new InvalidInputError(`microcred does not handle ${JSON.stringify(String(messageType ?? 'unknown')).slice(0, 60)} launches.`, {}, 'Only resource link and deep linking launches are supported.');
    }
    const target = claims[CLAIM.targetLinkUri];
    if (typeof target !== 'string' || !target.startsWith(deps.config.publicUrl + '/')) throw reject('The launch targets another tool.', 'bad_target_link_uri');

    const deploymentId = claims[CLAIM.deploymentId];
    if (typeof deploymentId !== 'string' || !deploymentId) throw reject('The launch has no deployment id.', 'missing_deployment');
    const tenant = await deps.tenants.findForLaunch(login.issuer, login.clientId, deploymentId);
    if (!tenant)
      throw new ForbiddenError(
        `This Canvas deployment (${deploymentId.slice(0, 80)}) is not registered with microcred.`,
        'An administrator adds it with `npm run platform -- add-deployment`, or registers the tool again.',
      );

    // The browser must prove it started this login: our state cookie, or the Platform Storage proof.
    const cookie = readCookie(req.headers.cookie, STATE_COOKIE_PREFIX + state);
    const cookieOk = sameSecret(cookie, stateCookieValue(deps.config.secretKey, state));
    const proof = typeof body.lti_storage_proof === 'string' ? body.lti_storage_proof : undefined;
    const storageOk = !!proof && !!login.storageProofHash && sameSecret(sha256(proof), login.storageProofHash);
    if (!cookieOk && !storageOk) {
      if (login.storageTarget && proof === undefined) {
        // Cookies were blocked: fetch the proof from Canvas's storage in the browser and post again.
        const auth = new URL(platform.authEndpoint);
        res.set('Cache-Control', 'no-store');
        res.render('lti/storage-launch', {
          title: 'Opening microcred',
          storage: { action: 'get', target: login.storageTarget, origin: auth.origin, key: storageKey(state) },
          form: { action: req.originalUrl, id_token: idToken, state },
          retryUrl: newWindowUrl(deps.config.publicUrl, login),
        });
        return;
      }
      res.status(401).render('lti/blocked', { title: 'Open microcred in a new window', retryUrl: newWindowUrl(deps.config.publicUrl, login) });
      return;
    }

    if (!(await deps.logins.consume(state))) throw reject('This launch was already used. Each launch works once.', 'state_replayed');
    res.clearCookie(STATE_COOKIE_PREFIX + state, { ...stateCookieOptions(), maxAge: undefined });

    // Hand over to ltijs, which validates again in its own way and stores its idtoken/contexttoken.
    req.headers.cookie = [req.headers.cookie, ltijsStateCookie(deps.config.secretKey, state, login.issuer)].filter(Boolean).join('; ');
    (req as Request & { _body?: boolean })._body = true; // ltijs's body-parser 1.x must not read the stream again
    res.locals.verifiedLaunch = { claims, tenantId: tenant.id, issuer: login.issuer, clientId: login.clientId, deploymentId } satisfies VerifiedLaunch;
    logger.debug({ tenant: tenant.id, messageType }, 'launch verified');
    next();
  };
}

/**
 * Reads one cookie without parsing them all onto `req`: ltijs's cookie-parser must be the first to parse, with
 * its secret, or its signed cookie calls throw.
 */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function reject(message: string, code: string): UnauthorizedError {
  return new UnauthorizedError(message, { code, hint: 'Open microcred again from Canvas. If this keeps happening, tell your Canvas administrator.' });
}

/** A top-level window has first-party cookies: re-running the login there works when the iframe could not. */
function newWindowUrl(publicUrl: string, login: { issuer: string; clientId: string; loginHint: string; messageHint: string | null; targetLinkUri: string; deploymentHint: string | null }): string {
  const u = new URL(publicUrl + '/lti/login');
  u.searchParams.set('iss', login.issuer);
  u.searchParams.set('client_id', login.clientId);
  u.searchParams.set('login_hint', login.loginHint);
  u.searchParams.set('target_link_uri', login.targetLinkUri);
  if (login.messageHint) u.searchParams.set('lti_message_hint', login.messageHint);
  if (login.deploymentHint) u.searchParams.set('lti_deployment_id', login.deploymentHint);
  return u.toString();
}
