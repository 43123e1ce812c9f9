import type { LtiProvider } from '../lti/ltijsTypes';
import type { SessionContext } from '../lti/sessions';
import { InvalidInputError } from '../web/errors';

export interface ContentItem {
  type: 'ltiResourceLink' | 'link';
  title: string;
  text?: string;
  url?: string;
  custom?: Record<string, string>;
  lineItem?: { scoreMaximum: number; label: string; resourceId: string; tag?: string };
  window?: { targetName: string };
}

/**
 * Signs the LTI Deep Linking response with ltijs (the tool's key for this platform). The session holds what
 * the launch said; ltijs only needs the platform identity and the deep linking settings.
 */
export async function signDeepLinkingResponse(lti: LtiProvider, ctx: SessionContext, items: ContentItem[], message: string): Promise<{ returnUrl: string; jwt: string }> {
  const dl = ctx.launch.deepLinking;
  if (!dl) throw new InvalidInputError('This page only works from a Canvas “add content” launch.', {}, 'Open microcred from Canvas’s module or assignment menu.');
  const idtoken = {
    iss: ctx.tenant.issuer,
    clientId: ctx.tenant.clientId,
    deploymentId: ctx.tenant.deploymentId,
    user: ctx.user.ltiSub,
    platformContext: {
      deepLinkingSettings: { deep_link_return_url: dl.returnUrl, accept_types: dl.acceptTypes, accept_multiple: dl.acceptMultiple, data: dl.data },
    },
  };
  const jwt = await lti.DeepLinking.createDeepLinkingMessage(idtoken as never, items as never, { message });
  return { returnUrl: dl.returnUrl, jwt };
}
