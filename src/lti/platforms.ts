import type { LtiProvider } from './ltijsTypes';
import type { AuthConfig } from './platformKeys';

export interface PlatformInfo {
  kid: string;
  issuer: string;
  clientId: string;
  name: string;
  authEndpoint: string;
  tokenEndpoint: string;
  authConfig: AuthConfig;
  active: boolean;
}

/**
 * Reads ltijs's platform registrations as plain data. Launches read the same few rows over and over, so
 * answers are cached briefly (5 s): a deactivation takes effect within that time on every instance.
 */
export class Platforms {
  private readonly cache = new Map<string, { at: number; value: PlatformInfo | undefined }>();

  constructor(private readonly lti: LtiProvider, private readonly ttlMs = 5000) {}

  async find(issuer: string, clientId: string): Promise<PlatformInfo | undefined> {
    const key = issuer + '\u0000' + clientId;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const platform = await this.lti.getPlatform(issuer, clientId);
    const value = platform ? await describe(platform) : undefined;
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  /** Every platform registered for an issuer (login initiation without client_id). */
  async forIssuer(issuer: string): Promise<PlatformInfo[]> {
    const list = await this.lti.getPlatform(issuer);
    return Promise.all((Array.isArray(list) ? list : list ? [list] : []).map(describe));
  }

  async all(): Promise<PlatformInfo[]> {
    const list = await this.lti.getAllPlatforms();
    return Promise.all(list.map(describe));
  }

  forget(): void {
    this.cache.clear();
  }
}

async function describe(p: Awaited<ReturnType<LtiProvider['getAllPlatforms']>>[number]): Promise<PlatformInfo> {
  const [kid, issuer, clientId, name, authEndpoint, tokenEndpoint, authConfig, active] = await Promise.all([
    p.platformKid(),
    p.platformUrl(),
    p.platformClientId(),
    p.platformName(),
    p.platformAuthenticationEndpoint(),
    p.platformAccessTokenEndpoint(),
    p.platformAuthConfig(),
    p.platformActive(),
  ]);
  return { kid, issuer, clientId, name, authEndpoint, tokenEndpoint, authConfig: authConfig as AuthConfig, active };
}
