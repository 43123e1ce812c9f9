import type { Request, Response } from 'express';
import axios from 'axios';
import { z } from 'zod';
import type { Config } from '../config';
import { USER_AGENT } from '../canvas/userAgent';
import { InvalidInputError, UpstreamError } from '../web/errors';
import { allowFraming } from '../web/security';
import type { PlatformAdmin } from './platformAdmin';
import { registrationRequest } from './toolConfiguration';

const OpenIdConfiguration = z.object({
  issuer: z.url(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  registration_endpoint: z.url(),
  authorization_server: z.string().optional(),
  'https://purl.imsglobal.org/spec/lti-platform-configuration': z
    .object({ product_family_code: z.string().optional(), 'https://canvas.instructure.com/lti/account_name': z.string().optional() })
    .loose()
    .optional(),
});

const RegistrationResponse = z.object({
  client_id: z.string().min(1),
  'https://purl.imsglobal.org/spec/lti-tool-configuration': z.object({ deployment_id: z.string().optional() }).loose().optional(),
});

/**
 * LTI Dynamic Registration, Canvas flavour. ltijs 5.9 fetches the platform's configuration without the
 * registration token (Canvas asks for it) and sends no privacy level or placements, so this is ours.
 */
export function dynamicRegistration(deps: { config: Config; admin: PlatformAdmin; autoActivate: boolean }) {
  return async (req: Request, res: Response): Promise<void> => {
    const configUrl = typeof req.query.openid_configuration === 'string' ? req.query.openid_configuration : '';
    const token = typeof req.query.registration_token === 'string' ? req.query.registration_token : '';
    if (!configUrl) {
      res.render('lti/register-info', { title: 'Register microcred in Canvas' });
      return;
    }
    if (!isAllowedUrl(configUrl, deps.config)) throw new InvalidInputError('The platform configuration URL must use https.', { openid_configuration: 'must be an https URL' });

    const http = axios.create({ timeout: 10_000, headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' } });
    const auth = token ? { Authorization: `Bearer ${token}` } : {};
    let platformConfig: z.infer<typeof OpenIdConfiguration>;
    try {
      platformConfig = OpenIdConfiguration.parse((await http.get(configUrl, { headers: auth })).data);
    } catch (err) {
      throw new UpstreamError(`Could not read the platform's configuration: ${describe(err)}`, err);
    }
    let registered: z.infer<typeof RegistrationResponse>;
    try {
      const r = await http.post(platformConfig.registration_endpoint, registrationRequest(deps.config), { headers: { ...auth, 'Content-Type': 'application/json' } });
      registered = RegistrationResponse.parse(r.data);
    } catch (err) {
      throw new UpstreamError(`The platform refused the registration: ${describe(err)}`, err);
    }
    const lp = platformConfig['https://purl.imsglobal.org/spec/lti-platform-configuration'];
    const name = lp?.['https://canvas.instructure.com/lti/account_name'] ?? `${lp?.product_family_code ?? 'LMS'} ${new URL(platformConfig.issuer).host}`;
    const deploymentId = registered['https://purl.imsglobal.org/spec/lti-tool-configuration']?.deployment_id;
    await deps.admin.register({
      issuer: platformConfig.issuer,
      clientId: registered.client_id,
      name,
      authEndpoint: platformConfig.authorization_endpoint,
      tokenEndpoint: platformConfig.token_endpoint,
      jwksUrl: platformConfig.jwks_uri,
      deploymentIds: deploymentId ? [deploymentId] : [],
      active: deps.autoActivate,
    });
    allowFraming(res, { frameAncestors: [configUrl, platformConfig.issuer] });
    res.render('lti/registered', { title: 'microcred is registered', name, clientId: registered.client_id, deploymentId, active: deps.autoActivate });
  };
}

function isAllowedUrl(url: string, config: Config): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') return true;
    return config.env !== 'production' && u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1');
  } catch {
    return false;
  }
}

function describe(err: unknown): string {
  if (axios.isAxiosError(err)) return err.response ? `HTTP ${err.response.status}` : err.message;
  if (err instanceof z.ZodError) return 'unexpected answer (' + err.issues.map((i) => i.path.join('.') || 'body').slice(0, 3).join(', ') + ')';
  return (err as Error).message;
}
