import type { TenantRepository } from '../tenants/repository';
import type { LtiProvider } from './ltijsTypes';
import type { Platforms, PlatformInfo } from './platforms';

export interface PlatformRegistration {
  issuer: string;
  clientId: string;
  name: string;
  authEndpoint: string;
  tokenEndpoint: string;
  jwksUrl: string;
  deploymentIds: string[];
  active: boolean;
}

/**
 * Registering a Canvas: the platform (in ltijs, which makes its signing key pair) and its deployments
 * (our tenants). Used by the CLI and by Dynamic Registration.
 */
export class PlatformAdmin {
  private readonly listeners: (() => Promise<void> | void)[] = [];

  constructor(private readonly lti: LtiProvider, private readonly platforms: Platforms, private readonly tenants: TenantRepository) {}

  /** Called after any registration change (the CSP's list of Canvas hosts that may frame us listens). */
  onChange(listener: () => Promise<void> | void): void {
    this.listeners.push(listener);
  }

  private async changed(): Promise<void> {
    this.platforms.forget();
    for (const l of this.listeners) await l();
  }

  async register(r: PlatformRegistration): Promise<PlatformInfo> {
    const platform = await this.lti.registerPlatform({
      url: r.issuer,
      name: r.name,
      clientId: r.clientId,
      authenticationEndpoint: r.authEndpoint,
      accesstokenEndpoint: r.tokenEndpoint,
      // Canvas checks the client assertion's `aud` against its token URL exactly.
      authorizationServer: r.tokenEndpoint,
      authConfig: { method: 'JWK_SET', key: r.jwksUrl },
    });
    if (!platform) throw new Error('ltijs did not register the platform');
    await platform.platformActive(r.active);
    const kid = await platform.platformKid();
    for (const deploymentId of r.deploymentIds) await this.tenants.addDeployment({ issuer: r.issuer, clientId: r.clientId, deploymentId, platformKid: kid, name: r.name });
    await this.changed();
    const info = await this.platforms.find(r.issuer, r.clientId);
    if (!info) throw new Error('the platform vanished after registration');
    return info;
  }

  async addDeployment(issuer: string, clientId: string, deploymentId: string, name?: string): Promise<void> {
    const p = await this.platforms.find(issuer, clientId);
    if (!p) throw new Error(`No platform is registered for ${issuer} with client id ${clientId}.`);
    await this.tenants.addDeployment({ issuer, clientId, deploymentId, platformKid: p.kid, name: name ?? p.name });
    await this.changed();
  }

  async setActive(issuer: string, clientId: string, active: boolean): Promise<void> {
    const platform = await this.lti.getPlatform(issuer, clientId);
    if (!platform) throw new Error(`No platform is registered for ${issuer} with client id ${clientId}.`);
    await platform.platformActive(active);
    await this.changed();
  }

  /** Removes the platform, its keys and every tenant of it (their data goes with them). */
  async remove(issuer: string, clientId: string): Promise<boolean> {
    const existed = !!(await this.lti.getPlatform(issuer, clientId));
    if (existed) await this.lti.deletePlatform(issuer, clientId);
    await this.tenants.removePlatform(issuer, clientId);
    await this.changed();
    return existed;
  }

  async list(): Promise<(PlatformInfo & { deployments: string[] })[]> {
    const all = await this.platforms.all();
    return Promise.all(all.map(async (p) => ({ ...p, deployments: (await this.tenants.listForPlatform(p.issuer, p.clientId)).map((t) => t.deploymentId) })));
  }
}
