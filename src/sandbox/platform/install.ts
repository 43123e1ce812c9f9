import type { SandboxContext } from '../context';
import { SUPPORTED_LTI_SCOPES } from '../context';
import { nowIso, sha1, type JsonWebKeyLike, type PlacementConfig, type PrivacyLevel, type Tool } from '../store';

/** Installing an LTI 1.3 tool: a developer key (client_id) plus a deployment in the root account. */
export interface InstallToolOptions {
  name?: string; oidcInitiationUrl: string; targetLinkUri: string; redirectUris: string[];
  /** The tool's JWKS URL (Canvas's `public_jwk_url`), fetched whenever the sandbox verifies a tool JWT. */
  jwksUrl?: string;
  /** Alternatively an inline public key or key set (Canvas's `public_jwk`). */
  publicJwk?: JsonWebKeyLike | { keys: JsonWebKeyLike[] };
  placements?: PlacementConfig[]; customFields?: Record<string, string>;
  /** Canvas's default is `anonymous`: no name or email in launches. */
  privacyLevel?: PrivacyLevel; scopes?: string[]; accountId?: number; domain?: string;
}

const PRIVACY: PrivacyLevel[] = ['anonymous', 'name_only', 'email_only', 'public'];

function assertUrl(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new Error(`${name} is required`);
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('bad protocol');
  } catch {
    throw new Error(`${name} must be an absolute http(s) URL, got "${v}"`);
  }
  return v;
}

export function installTool(ctx: SandboxContext, t: InstallToolOptions): { clientId: string; deploymentId: string; toolId: string } {
  assertUrl(t.oidcInitiationUrl, 'oidcInitiationUrl');
  assertUrl(t.targetLinkUri, 'targetLinkUri');
  if (!Array.isArray(t.redirectUris) || t.redirectUris.length === 0) throw new Error('redirectUris must list at least one URI');
  t.redirectUris.forEach((u, i) => assertUrl(u, `redirectUris[${i}]`));
  if (!t.jwksUrl && !t.publicJwk) throw new Error('jwksUrl (or publicJwk) is required');
  if (t.jwksUrl) assertUrl(t.jwksUrl, 'jwksUrl');
  const privacy = t.privacyLevel ?? 'anonymous';
  if (!PRIVACY.includes(privacy)) throw new Error(`privacyLevel must be one of ${PRIVACY.join(', ')}`);
  const scopes = t.scopes ?? [];
  const unknown = scopes.filter((s) => !SUPPORTED_LTI_SCOPES.includes(s));
  if (unknown.length) throw new Error(`Unsupported scopes: ${unknown.join(', ')}`);
  for (const p of t.placements ?? []) {
    if (!p.placement) throw new Error('every placement needs a placement name');
    if (p.message_type && !['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'].includes(p.message_type)) throw new Error(`placement ${p.placement}: message_type must be LtiResourceLinkRequest or LtiDeepLinkingRequest`);
    if (p.target_link_uri) assertUrl(p.target_link_uri, `placement ${p.placement} target_link_uri`);
  }
  for (const [k, v] of Object.entries(t.customFields ?? {})) if (typeof v !== 'string') throw new Error(`custom field ${k} must be a string`);
  const accountId = t.accountId ?? ctx.data.accounts[0]?.id ?? 1;
  const id = ctx.data.nextId('tool');
  // Canvas client ids are developer-key global ids; deployment ids are "<tool id>:<context lti id>".
  const clientId = ctx.globalId(id);
  const tool: Tool = {
    id, name: t.name ?? new URL(t.targetLinkUri).host, clientId, deploymentId: `${id}:${sha1(`shard:${ctx.shard}:account:${accountId}`)}`, accountId,
    oidcInitiationUrl: t.oidcInitiationUrl, targetLinkUri: t.targetLinkUri, redirectUris: [...t.redirectUris], jwksUrl: t.jwksUrl ?? null,
    publicJwk: (t.publicJwk as JsonWebKeyLike | undefined) ?? null, placements: (t.placements ?? []).map((p) => ({ ...p })), customFields: { ...(t.customFields ?? {}) },
    privacyLevel: privacy, scopes: [...scopes], domain: t.domain ?? new URL(t.targetLinkUri).host, installedAt: nowIso(), deleted: false,
  };
  ctx.data.tools.push(tool);
  return { clientId, deploymentId: tool.deploymentId, toolId: String(id) };
}

/** Install from a Canvas developer-key JSON configuration (canvas-lti.md §2.2), with Canvas's required fields. */
export function installFromJsonConfig(ctx: SandboxContext, json: unknown): { clientId: string; deploymentId: string; toolId: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('Invalid developer key JSON: expected an object');
  const j = json as Record<string, unknown>;
  const missing = ['title', 'description', 'oidc_initiation_url', 'target_link_uri'].filter((k) => typeof j[k] !== 'string' || (j[k] as string).trim() === '');
  if (!j.public_jwk && !j.public_jwk_url) missing.push('public_jwk or public_jwk_url');
  const extensions = Array.isArray(j.extensions) ? (j.extensions as Record<string, unknown>[]) : [];
  const ext = extensions.find((e) => e && e.platform === 'canvas.instructure.com');
  const privacy = ext?.privacy_level;
  if (privacy === undefined) missing.push('extensions[platform=canvas.instructure.com].privacy_level');
  if (missing.length) throw new Error(`Invalid developer key JSON: missing ${missing.join(', ')}`);
  if (!PRIVACY.includes(privacy as PrivacyLevel)) throw new Error(`Invalid developer key JSON: privacy_level must be one of ${PRIVACY.join(', ')}`);
  if (j.scopes !== undefined && (!Array.isArray(j.scopes) || j.scopes.some((s) => typeof s !== 'string'))) throw new Error('Invalid developer key JSON: scopes must be an array of strings');
  const settings = (ext?.settings ?? {}) as Record<string, unknown>;
  const placements = Array.isArray(settings.placements) ? (settings.placements as PlacementConfig[]) : [];
  for (const [i, p] of placements.entries()) {
    if (typeof p !== 'object' || p === null || typeof p.placement !== 'string') throw new Error(`Invalid developer key JSON: placements[${i}].placement is required`);
  }
  const redirectUris = Array.isArray(j.redirect_uris) ? (j.redirect_uris as string[]) : [j.target_link_uri as string];
  return installTool(ctx, {
    name: j.title as string, oidcInitiationUrl: j.oidc_initiation_url as string, targetLinkUri: j.target_link_uri as string, redirectUris,
    jwksUrl: typeof j.public_jwk_url === 'string' ? j.public_jwk_url : undefined,
    publicJwk: j.public_jwk && typeof j.public_jwk === 'object' ? (j.public_jwk as JsonWebKeyLike) : undefined,
    placements, customFields: (j.custom_fields as Record<string, string> | undefined) ?? {}, privacyLevel: privacy as PrivacyLevel,
    scopes: (j.scopes as string[] | undefined) ?? [], domain: typeof ext?.domain === 'string' ? ext.domain : undefined,
  });
}
