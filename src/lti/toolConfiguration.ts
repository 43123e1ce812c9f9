import type { Config } from '../config';

/**
 * What microcred asks of Canvas, in one place: the developer-key JSON configuration and the Dynamic
 * Registration request are both built from this, so the two install paths cannot drift apart.
 */
export const AGS_SCOPES = [
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/score',
];
export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
export const TOOL_SCOPES = [...AGS_SCOPES, NRPS_SCOPE];

/** Canvas fills these at launch; the ids let us call the Canvas REST API without depending on email. */
export const CUSTOM_FIELDS: Record<string, string> = {
  canvas_api_base_url: '$Canvas.api.baseUrl',
  canvas_user_id: '$Canvas.user.id',
  canvas_course_id: '$Canvas.course.id',
  canvas_module_id: '$Canvas.module.id',
  canvas_module_item_id: '$Canvas.moduleItem.id',
  canvas_assignment_id: '$Canvas.assignment.id',
  canvas_account_id: '$Canvas.account.id',
};

export const TOOL_NAME = 'microcred';
export const TOOL_DESCRIPTION = 'Competency-based micro-credentials for educators: evidence, rubric review, verifiable Open Badges 3.0 and CEU transcripts.';

export interface Placement {
  placement: string;
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  text: string;
}

export const PLACEMENTS: Placement[] = [
  { placement: 'course_navigation', messageType: 'LtiResourceLinkRequest', text: 'Micro-credentials' },
  { placement: 'link_selection', messageType: 'LtiDeepLinkingRequest', text: 'Micro-credential' },
  { placement: 'assignment_selection', messageType: 'LtiDeepLinkingRequest', text: 'Micro-credential (graded)' },
  { placement: 'module_index_menu_modal', messageType: 'LtiDeepLinkingRequest', text: 'Add a micro-credential' },
];

export function toolUrls(config: Config) {
  const base = config.publicUrl;
  return {
    login: `${base}/lti/login`,
    launch: `${base}/lti/launch`,
    keys: `${base}/lti/keys`,
    register: `${base}/lti/register`,
    jsonConfig: `${base}/lti/canvas-config.json`,
    icon: `${base}/assets/img/icon.svg`,
    domain: new URL(base).host,
  };
}

/** Canvas's LTI 1.3 developer-key JSON (Admin → Developer Keys → + LTI Key → Paste JSON / Enter URL). */
export function canvasDeveloperKeyJson(config: Config) {
  const u = toolUrls(config);
  return {
    title: TOOL_NAME,
    description: TOOL_DESCRIPTION,
    oidc_initiation_url: u.login,
    target_link_uri: u.launch,
    public_jwk_url: u.keys,
    scopes: TOOL_SCOPES,
    extensions: [
      {
        domain: u.domain,
        tool_id: TOOL_NAME,
        platform: 'canvas.instructure.com',
        privacy_level: 'public',
        settings: {
          text: TOOL_NAME,
          icon_url: u.icon,
          selection_height: 800,
          selection_width: 1000,
          placements: PLACEMENTS.map((p) => ({
            placement: p.placement,
            message_type: p.messageType,
            text: p.text,
            icon_url: u.icon,
            target_link_uri: `${u.launch}?placement=${p.placement}`,
            ...(p.placement === 'course_navigation' ? { default: 'enabled', visibility: 'members' } : {}),
          })),
        },
      },
    ],
    custom_fields: CUSTOM_FIELDS,
  };
}

/** The IMS Dynamic Registration request, with Canvas's extensions (privacy level, placements). */
export function registrationRequest(config: Config) {
  const u = toolUrls(config);
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: u.login,
    redirect_uris: [u.launch],
    client_name: TOOL_NAME,
    jwks_uri: u.keys,
    logo_uri: u.icon,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: TOOL_SCOPES.join(' '),
    'https://purl.imsglobal.org/spec/lti-tool-configuration': {
      domain: u.domain,
      description: TOOL_DESCRIPTION,
      target_link_uri: u.launch,
      custom_parameters: CUSTOM_FIELDS,
      claims: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email', 'picture'],
      messages: PLACEMENTS.map((p) => ({
        type: p.messageType,
        target_link_uri: `${u.launch}?placement=${p.placement}`,
        label: p.text,
        icon_uri: u.icon,
        placements: [p.placement],
        ...(p.placement === 'course_navigation' ? { 'https://canvas.instructure.com/lti/course_navigation/default_enabled': true, 'https://canvas.instructure.com/lti/visibility': 'members' } : {}),
      })),
      'https://canvas.instructure.com/lti/privacy_level': 'public',
      'https://canvas.instructure.com/lti/tool_id': TOOL_NAME,
    },
  };
}
