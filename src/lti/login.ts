import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import type { Config } from '../config';
import { InvalidInputError, UnauthorizedError } from '../web/errors';
import type { LoginRepository } from './loginRepository';
import type { Platforms } from './platforms';
import { STATE_COOKIE_PREFIX, stateCookieOptions, stateCookieValue } from './stateCookie';

export const LAUNCH_PATH = '/lti/launch';
const STORAGE_TARGET = /^(_parent|_top|[A-Za-z0-9_-]{1,64})$/;

/**
 * OIDC login initiation (third-party initiated login). We do this ourselves instead of ltijs so that the
 * nonce is bound to the state, the redirect goes only to our own launch URL (never to a `target_link_uri`
 * on another host), and the state can also be proven through LTI Platform Storage.
 */
export function loginInitiation(deps: { config: Config; platforms: Platforms; logins: LoginRepository }) {
  const launchUrl = deps.config.publicUrl + LAUNCH_PATH;
  return async (req: Request, res: Response): Promise<void> => {
    const p = stringParams({ ...(req.query as object), ...((req.body as object | undefined) ?? {}) });
    const missing = ['iss', 'login_hint', 'target_link_uri'].filter((k) => !p[k]);
    if (missing.length) throw new InvalidInputError(`The login request from Canvas is missing ${missing.join(', ')}.`, {}, 'Open microcred again from Canvas.');

    const platform = p.client_id ? await deps.platforms.find(p.iss!, p.client_id) : await onlyPlatform(deps.platforms, p.iss!);
    if (!platform)
      throw new UnauthorizedError('This Canvas is not registered with microcred.', {
        code: 'unregistered_platform',
        hint: 'An administrator registers it with Dynamic Registration, the JSON configuration, or `npm run platform -- add`.',
      });
    if (!platform.active) throw new UnauthorizedError('This Canvas registration is waiting for approval by the microcred administrator.', { code: 'inactive_platform' });

    const target = safeTarget(p.target_link_uri!, deps.config.publicUrl);
    if (!target) throw new InvalidInputError('The launch points outside microcred.', { target_link_uri: 'must be a microcred launch URL' });

    const storageTarget = p.lti_storage_target && STORAGE_TARGET.test(p.lti_storage_target) ? p.lti_storage_target : null;
    const state = crypto.randomBytes(32).toString('hex');
    const nonce = crypto.randomBytes(24).toString('base64url');
    const storageProof = storageTarget ? crypto.randomBytes(32).toString('base64url') : null;
    await deps.logins.create({
      state,
      nonce,
      issuer: platform.issuer,
      clientId: platform.clientId,
      platformKid: platform.kid,
      loginHint: p.login_hint!,
      messageHint: p.lti_message_hint ?? null,
      deploymentHint: p.lti_deployment_id ?? p.deployment_id ?? null,
      targetLinkUri: target,
      storageTarget,
      storageProofHash: storageProof ? sha256(storageProof) : null,
    });
    res.cookie(STATE_COOKIE_PREFIX + state, stateCookieValue(deps.config.secretKey, state), stateCookieOptions());

    const auth = new URL(platform.authEndpoint);
    const q: Record<string, string> = {
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: platform.clientId,
      redirect_uri: launchUrl,
      login_hint: p.login_hint!,
      state,
      nonce,
    };
    if (p.lti_message_hint) q.lti_message_hint = p.lti_message_hint;
    for (const [k, v] of Object.entries(q)) auth.searchParams.set(k, v);

    res.set('Cache-Control', 'no-store');
    if (!storageTarget || !storageProof) {
      res.redirect(302, auth.toString());
      return;
    }
    // Put the proof in the platform's storage first, then go on to Canvas (lti-storage.js).
    res.render('lti/storage-login', {
      title: 'Opening microcred',
      storage: { action: 'put', target: storageTarget, origin: auth.origin, key: storageKey(state), value: storageProof, next: auth.toString() },
    });
  };
}

export function storageKey(state: string): string {
  return 'microcred_state_' + state.slice(0, 32);
}

export function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

function stringParams(o: object): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string' && v.length <= 4096) out[k] = v;
  return out;
}

async function onlyPlatform(platforms: Platforms, issuer: string) {
  const list = await platforms.forIssuer(issuer);
  if (list.length > 1) throw new InvalidInputError('Canvas did not say which developer key launched microcred (client_id).');
  return list[0];
}

/** Only our own launch URL is a valid target; its query string (placement hints) is kept. */
function safeTarget(target: string, publicUrl: string): string | undefined {
  try {
    const t = new URL(target);
    const ours = new URL(publicUrl);
    if (t.origin !== ours.origin || t.pathname !== ours.pathname.replace(/\/$/, '') + LAUNCH_PATH) return undefined;
    return t.toString();
  } catch {
    return undefined;
  }
}
