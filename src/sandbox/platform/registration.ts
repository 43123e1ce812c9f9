import express, { type Request } from 'express';
import { z } from 'zod';
import { SUPPORTED_LTI_SCOPES, type RegistrationToken, type SandboxContext } from '../context';
import { SandboxError, bearer, str } from '../http';
import { randomToken } from '../keys';
import type { PlacementConfig } from '../store';
import { installTool } from './install';

/** LTI Dynamic Registration as Canvas runs it (canvas-lti.md §1.9, §2.4). */

const RLR_PLACEMENTS = ['account_navigation', 'assignment_edit', 'assignment_group_menu', 'assignment_index_menu', 'assignment_menu', 'assignment_view', 'course_assignments_menu', 'course_home_sub_navigation', 'course_navigation', 'course_settings_sub_navigation', 'discussion_topic_menu', 'file_menu', 'global_navigation', 'module_group_menu', 'module_menu', 'user_navigation'];
const DL_PLACEMENTS = ['assignment_selection', 'link_selection', 'editor_button', 'homework_submission', 'migration_selection', 'module_index_menu_modal', 'module_menu_modal', 'course_assignments_menu'];
const VARIABLES = ['Canvas.api.baseUrl', 'Canvas.api.domain', 'Canvas.user.id', 'Canvas.user.loginId', 'Canvas.user.sisSourceId', 'Canvas.course.id', 'Canvas.course.name', 'Canvas.course.sisSourceId', 'Canvas.module.id', 'Canvas.moduleItem.id', 'Canvas.assignment.id', 'Canvas.assignment.title', 'Canvas.assignment.pointsPossible', 'Canvas.account.id', 'Canvas.rootAccount.id', 'Canvas.membership.roles', 'Person.name.full', 'Person.name.given', 'Person.name.family', 'Person.email.primary', 'Context.id', 'ToolConsumerInstance.guid'];
const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

const Url = z.url();
const MessageSchema = z.object({
  type: z.enum(['LtiResourceLinkRequest', 'LtiDeepLinkingRequest']),
  target_link_uri: Url.optional(), label: z.string().optional(), icon_uri: Url.optional(),
  custom_parameters: z.record(z.string(), z.string()).optional(), placements: z.array(z.string()).optional(),
  roles: z.array(z.string()).optional(),
}).loose();
const RegistrationSchema = z.object({
  application_type: z.literal('web').optional(),
  grant_types: z.array(z.string()).refine((g) => g.includes('client_credentials') && g.includes('implicit'), 'grant_types must include implicit and client_credentials'),
  response_types: z.array(z.string()).refine((r) => r.includes('id_token'), 'response_types must include id_token'),
  redirect_uris: z.array(Url).min(1),
  initiate_login_uri: Url,
  client_name: z.string().min(1),
  jwks_uri: Url,
  logo_uri: Url.optional(),
  token_endpoint_auth_method: z.literal('private_key_jwt'),
  scope: z.string().optional(),
  [TOOL_CONFIG]: z.object({
    domain: z.string().min(1),
    secondary_domains: z.array(z.string()).optional(),
    target_link_uri: Url,
    custom_parameters: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
    claims: z.array(z.string()).default([]),
    messages: z.array(MessageSchema).default([]),
    'https://canvas.instructure.com/lti/privacy_level': z.enum(['anonymous', 'name_only', 'email_only', 'public']).optional(),
    'https://canvas.instructure.com/lti/tool_id': z.string().optional(),
  }).loose(),
}).loose();

export function startRegistration(ctx: SandboxContext, toolUrl: string, accountId?: number): { url: string; openidConfiguration: string; registrationToken: string } {
  const token = randomToken(32);
  const rt: RegistrationToken = { token, accountId: accountId ?? ctx.data.accounts[0]?.id ?? 1, expiresAt: Date.now() + 3600_000, used: false, toolUrl };
  ctx.registrationTokens.set(token, rt);
  const openidConfiguration = ctx.url('/api/lti/security/openid-configuration');
  const url = new URL(toolUrl);
  url.searchParams.set('openid_configuration', openidConfiguration);
  url.searchParams.set('registration_token', token);
  return { url: url.toString(), openidConfiguration, registrationToken: token };
}

export function openidConfiguration(ctx: SandboxContext, accountId: number): Record<string, unknown> {
  const account = ctx.data.accounts.find((a) => a.id === accountId);
  return {
    issuer: ctx.cfg.issuer,
    authorization_endpoint: ctx.url('/api/lti/authorize_redirect'),
    registration_endpoint: ctx.url('/api/lti/registrations'),
    jwks_uri: ctx.url('/api/lti/security/jwks'),
    token_endpoint: ctx.url('/login/oauth2/token'),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', ...SUPPORTED_LTI_SCOPES],
    response_types_supported: ['id_token'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'picture', 'email', 'name', 'given_name', 'family_name', 'locale'],
    subject_types_supported: ['public'],
    // Canvas advertises its host here, not the token URL (a known trap for tools that use it as the assertion aud).
    authorization_server: new URL(ctx.cfg.baseUrl).host,
    'https://purl.imsglobal.org/spec/lti-platform-configuration': {
      product_family_code: 'canvas',
      version: 'OpenSource',
      messages_supported: [
        { type: 'LtiResourceLinkRequest', placements: RLR_PLACEMENTS },
        { type: 'LtiDeepLinkingRequest', placements: DL_PLACEMENTS },
      ],
      variables: VARIABLES,
      'https://canvas.instructure.com/lti/account_name': account?.name ?? 'Canvas Sandbox',
      'https://canvas.instructure.com/lti/account_lti_guid': account?.ltiGuid ?? 'sandbox:canvas-lms',
    },
  };
}

function registrationToken(ctx: SandboxContext, req: Request): RegistrationToken | undefined {
  const b = req.get('authorization') ? bearer(req) : undefined;
  const rt = b ? ctx.registrationTokens.get(b) : undefined;
  return rt && rt.expiresAt > Date.now() ? rt : undefined;
}

export function registrationRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();

  r.get('/api/lti/security/openid-configuration', (req, res) => {
    const rt = registrationToken(ctx, req);
    if (!rt) throw new SandboxError(401, { errors: [{ message: 'A valid registration token is required (Authorization: Bearer <registration_token>)' }] });
    res.json(openidConfiguration(ctx, rt.accountId));
  });

  r.post('/api/lti/registrations', (req, res) => {
    const rt = registrationToken(ctx, req);
    if (!rt || rt.used) throw new SandboxError(401, { errors: [{ message: 'Invalid, expired or already used registration token' }] });
    const parsed = RegistrationSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new SandboxError(422, { errors: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
    }
    const reg = parsed.data;
    const cfg = reg[TOOL_CONFIG];
    const requested = (reg.scope ?? '').split(/\s+/).filter(Boolean);
    const scopes = requested.filter((s) => SUPPORTED_LTI_SCOPES.includes(s));
    const placements: PlacementConfig[] = [];
    for (const m of cfg.messages) {
      for (const p of m.placements ?? (m.type === 'LtiDeepLinkingRequest' ? ['link_selection'] : ['course_navigation'])) {
        const allowed = m.type === 'LtiDeepLinkingRequest' ? DL_PLACEMENTS : [...RLR_PLACEMENTS, ...DL_PLACEMENTS];
        if (!allowed.includes(p)) throw new SandboxError(422, { errors: [{ field: 'messages.placements', message: `placement ${p} is not supported for ${m.type}` }] });
        placements.push({ placement: p, message_type: m.type, target_link_uri: m.target_link_uri, text: m.label, icon_url: m.icon_uri, custom_fields: m.custom_parameters });
      }
    }
    const installed = installTool(ctx, {
      name: reg.client_name, oidcInitiationUrl: reg.initiate_login_uri, targetLinkUri: cfg.target_link_uri, redirectUris: reg.redirect_uris, jwksUrl: reg.jwks_uri,
      placements, customFields: cfg.custom_parameters ?? {}, privacyLevel: cfg['https://canvas.instructure.com/lti/privacy_level'] ?? 'anonymous', scopes,
      accountId: rt.accountId, domain: cfg.domain,
    });
    rt.used = true;
    res.json({
      client_id: installed.clientId,
      application_type: 'web',
      grant_types: reg.grant_types,
      initiate_login_uri: reg.initiate_login_uri,
      redirect_uris: reg.redirect_uris,
      response_types: reg.response_types,
      client_name: reg.client_name,
      jwks_uri: reg.jwks_uri,
      logo_uri: reg.logo_uri,
      token_endpoint_auth_method: 'private_key_jwt',
      scope: scopes.join(' '),
      [TOOL_CONFIG]: { ...cfg, deployment_id: installed.deploymentId, 'https://canvas.instructure.com/lti/privacy_level': cfg['https://canvas.instructure.com/lti/privacy_level'] ?? 'anonymous' },
    });
  });

  r.get('/accounts/:accountId/developer_keys/register', (req, res) => {
    const toolUrl = str((req.query as Record<string, unknown>).url);
    if (!toolUrl || !/^https?:\/\//.test(toolUrl)) throw new SandboxError(400, 'Enter the tool\'s dynamic registration URL: ?url=https://…', true);
    const account = ctx.data.accounts.find((a) => String(a.id) === req.params.accountId);
    if (!account) throw new SandboxError(404, 'No such account', true);
    const reg = startRegistration(ctx, toolUrl, account.id);
    res.render('register', { account, iframeUrl: reg.url, toolUrl, user: undefined, nav: 'admin' });
  });
  return r;
}
