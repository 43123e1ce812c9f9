import type { Request, Response } from 'express';
import type { Config } from '../config';
import type { SqlPool } from '../db/database';
import { logger } from '../log';
import { AppError, UnauthorizedError } from '../web/errors';
import { LtijsPostgresStore } from './ltijsStore';
import { createLtiProvider, type LtiProvider } from './ltijsTypes';

export type RenderError = (res: Response, err: unknown) => void;

/**
 * ltijs 5.9.9, configured for how microcred uses it:
 * - `ltiaas: true`: no ltijs session cookie and no ltik redirect; after validating a launch ltijs calls our
 *   handler in the same request and we open our own session (cookies are unreliable in Canvas's iframe).
 * - login initiation, dynamic registration and the first validation pass are ours (lti/login.ts,
 *   lti/registration.ts, lti/launchGuard.ts); ltijs validates again, stores its tokens, serves the JWKS
 *   and gives us its AGS, NRPS and Deep Linking services.
 * - `cors: false`: ltijs would otherwise reflect any origin with credentials.
 * - The store's setup runs before `deploy`, so a database failure is an error here, not ltijs's process.exit.
 * - Per launch, ltijs costs one query (inserting the nonce): its idtoken, contexttoken and state are not
 *   stored (see below), its platform reads are cached for 5 s, and app.ts lets it take the platform's JWKS from
 *   our cache (`serveLtijsKeySets`) instead of fetching it.
 */
export async function startLti(deps: {
  config: Config;
  sql: SqlPool;
  onLaunch: (req: Request, res: Response) => Promise<string>;
  renderError: RenderError;
}): Promise<{ lti: LtiProvider; store: LtijsPostgresStore }> {
  const { config } = deps;
  const store = new LtijsPostgresStore(deps.sql, {
    nonceTtlSeconds: Math.max(3600, config.ltiTokenMaxAgeSeconds * 2),
    // ltijs reads the platform and its status on every launch; launchGuard's Platforms cache has the same 5 s.
    registrationCacheMs: 5000,
    // idtoken and contexttoken are read back only for ltik requests, which microcred never makes (its sessions
    // replace ltiks); state only by ltijs's login, which lti/login.ts replaces (its lti_logins rows hold the state).
    notStored: ['idtoken', 'contexttoken', 'state'],
    // A replayed nonce is refused by the insert; launchGuard has already refused the replay by the login anyway.
    nonceCheckedByInsert: true,
  });
  const lti = createLtiProvider();
  lti.setup(
    config.secretKey,
    { plugin: store },
    {
      appRoute: '/launch',
      loginRoute: '/login',
      keysetRoute: '/keys',
      dynRegRoute: '/ltijs-register',
      ltiaas: true,
      cors: false,
      cookies: { secure: true, sameSite: 'None' },
      tokenMaxAge: config.ltiTokenMaxAgeSeconds + 60,
    },
  );
  const launched = async (_token: unknown, req: Request, res: Response) => {
    try {
      res.redirect(303, await deps.onLaunch(req, res));
    } catch (err) {
      deps.renderError(res, err);
    }
  };
  lti.onConnect(launched);
  lti.onDeepLinking(launched);
  const refused = (code: string, message: string) => (req: Request, res: Response) => {
    const detail = (res.locals.err as { details?: { message?: string } } | undefined)?.details?.message;
    logger.info({ code, detail }, 'ltijs refused a request');
    deps.renderError(res, new UnauthorizedError(message, { code, hint: 'Open microcred again from Canvas.' }));
  };
  lti.onInvalidToken(refused('invalid_token', 'The launch could not be verified.'));
  lti.onSessionTimeout(refused('session_timeout', 'Your session has ended.'));
  lti.onUnregisteredPlatform(refused('unregistered_platform', 'This Canvas is not registered with microcred.'));
  lti.onInactivePlatform(refused('inactive_platform', 'This Canvas registration is not active.'));

  await store.setup();
  await lti.deploy({ serverless: true, silent: true });
  return { lti, store };
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
