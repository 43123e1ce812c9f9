import type { App } from '../app';
import type { Config } from '../config';
import { canvasDeveloperKeyJson, toolUrls } from '../lti/toolConfiguration';
import type { Sandbox } from './index';

/**
 * Installs microcred in the sandbox from its own developer-key JSON (as a Canvas admin would) and registers
 * the sandbox with microcred (as `npm run platform -- add` would). Used by the demo and the test stack.
 */
export async function connectToolToSandbox(app: App, config: Config, sandbox: Sandbox, name: string): Promise<{ clientId: string; deploymentId: string; toolId: string }> {
  const installed = sandbox.installFromJsonConfig({ ...canvasDeveloperKeyJson(config), redirect_uris: [toolUrls(config).launch] });
  await app.admin.register({
    issuer: sandbox.issuer,
    clientId: installed.clientId,
    name,
    authEndpoint: `${sandbox.baseUrl}/api/lti/authorize_redirect`,
    tokenEndpoint: `${sandbox.baseUrl}/login/oauth2/token`,
    jwksUrl: `${sandbox.baseUrl}/api/lti/security/jwks`,
    deploymentIds: [installed.deploymentId],
    active: true,
  });
  return installed;
}
