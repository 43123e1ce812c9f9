import express, { type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import type { SandboxContext } from '../context';
import { badRequestPage, str } from '../http';
import { idTokenClaims, type LaunchContext } from './claims';

/** What a Canvas page launching a tool knows: who, where, which tool and placement, and which resource. */
export interface LaunchOptions {
  userId: string | number; courseId: string | number; toolId: string | number; placement?: string;
  messageType?: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest'; assignmentId?: string | number; moduleItemId?: string | number;
  /** The module a link_selection deep link adds to (defaults to the course's first module). */
  moduleId?: string | number;
}

interface HintPayload { u: number; c: number; t: number; p: string | null; m: LaunchContext['messageType']; a?: number; mi?: number; mo?: number; rl?: string }

const DL_PLACEMENTS = ['link_selection', 'assignment_selection', 'module_index_menu_modal', 'editor_button', 'course_assignments_menu', 'module_menu_modal', 'homework_submission'];

/** Resolve launch options to Canvas objects; throws a plain Error for impossible launches (a test bug, not a Canvas answer). */
export function resolveLaunch(ctx: SandboxContext, o: LaunchOptions): LaunchContext {
  const d = ctx.data;
  const user = d.user(o.userId);
  if (!user) throw new Error(`No user ${o.userId}`);
  const course = d.course(o.courseId);
  if (!course) throw new Error(`No course ${o.courseId}`);
  const tool = d.tool(o.toolId);
  if (!tool) throw new Error(`No installed tool ${o.toolId}`);
  const messageType = o.messageType ?? (o.placement && DL_PLACEMENTS.includes(o.placement) && tool.placements.find((p) => p.placement === o.placement)?.message_type !== 'LtiResourceLinkRequest' ? 'LtiDeepLinkingRequest' : 'LtiResourceLinkRequest');
  const lc: LaunchContext = { user, course, tool, placement: o.placement ?? null, messageType };
  if (o.placement && tool.placements.length && !tool.placements.some((p) => p.placement === o.placement && p.enabled !== false)) {
    throw new Error(`Tool ${tool.id} has no ${o.placement} placement (it has ${tool.placements.map((p) => p.placement).join(', ')})`);
  }
  if (o.moduleItemId !== undefined) {
    const item = d.moduleItem(o.moduleItemId);
    if (!item || item.courseId !== course.id) throw new Error(`No module item ${o.moduleItemId} in course ${course.id}`);
    lc.moduleItem = item;
    lc.moduleId = item.moduleId;
    if (item.type === 'Assignment' && item.contentId !== null) lc.assignment = d.assignment(item.contentId);
    if (item.type === 'ExternalTool') {
      if (item.toolId !== tool.id) throw new Error(`Module item ${item.id} does not launch tool ${tool.id}`);
      lc.resourceLink = d.resourceLinks.find((r) => r.id === item.resourceLinkId);
    }
  }
  if (o.assignmentId !== undefined) {
    const a = d.assignment(o.assignmentId, course.id);
    if (!a) throw new Error(`No assignment ${o.assignmentId} in course ${course.id}`);
    lc.assignment = a;
  }
  if (lc.assignment && messageType === 'LtiResourceLinkRequest') {
    const ext = lc.assignment.externalTool;
    if (!ext || ext.toolId !== tool.id) throw new Error(`Assignment ${lc.assignment.id} is not an external tool assignment of tool ${tool.id}`);
    lc.resourceLink = d.resourceLinks.find((r) => r.id === ext.resourceLinkId);
  }
  if (o.moduleId !== undefined) lc.moduleId = Number(o.moduleId);
  return lc;
}

/** The tool's OIDC login initiation URL with the parameters Canvas sends (canvas-lti.md §2.1). */
export function loginInitiation(ctx: SandboxContext, o: LaunchOptions): { url: string; params: Record<string, string> } {
  const lc = resolveLaunch(ctx, o);
  const hint: HintPayload = {
    u: lc.user.id, c: lc.course.id, t: lc.tool.id, p: lc.placement, m: lc.messageType,
    ...(lc.assignment ? { a: lc.assignment.id } : {}), ...(lc.moduleItem ? { mi: lc.moduleItem.id } : {}), ...(lc.moduleId ? { mo: lc.moduleId } : {}),
    ...(lc.resourceLink ? { rl: lc.resourceLink.id } : {}),
  };
  const pc = lc.tool.placements.find((p) => p.placement === lc.placement);
  const target = (lc.messageType === 'LtiResourceLinkRequest' ? lc.resourceLink?.url : undefined) ?? pc?.target_link_uri ?? lc.tool.targetLinkUri;
  const params: Record<string, string> = {
    iss: ctx.cfg.issuer,
    login_hint: lc.user.lti11Id,
    target_link_uri: target,
    client_id: lc.tool.clientId,
    deployment_id: lc.tool.deploymentId,
    lti_message_hint: jwt.sign(hint, ctx.secret, { algorithm: 'HS256', expiresIn: 300 }),
    canvas_region: 'us-east-1',
    canvas_environment: 'prod',
    lti_storage_target: 'post_message_forwarding',
  };
  const url = new URL(lc.tool.oidcInitiationUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.toString(), params };
}

/** The LTI message hint, verified and turned back into a launch (null when invalid or expired). */
function readHint(ctx: SandboxContext, token: string): { lc: LaunchContext } | { error: string } {
  let p: HintPayload;
  try {
    p = jwt.verify(token, ctx.secret, { algorithms: ['HS256'] }) as HintPayload;
  } catch (e) {
    return { error: `lti_message_hint is invalid or expired (${(e as Error).message})` };
  }
  try {
    const lc = resolveLaunch(ctx, { userId: p.u, courseId: p.c, toolId: p.t, placement: p.p ?? undefined, messageType: p.m, moduleItemId: p.mi, moduleId: p.mo, assignmentId: p.a });
    return { lc };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export function oidcRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();

  r.get('/api/lti/security/jwks', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(ctx.keys.jwks());
  });

  const authorize = (req: Request, res: Response): void => {
    const q: Record<string, unknown> = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
    const p = (k: string): string | undefined => str(q[k]);
    const need: [string, string | undefined][] = [['scope', 'openid'], ['response_type', 'id_token'], ['response_mode', 'form_post'], ['prompt', 'none']];
    for (const [k, v] of need) {
      if (p(k) !== v) throw badRequestPage(`Invalid or missing ${k}: expected "${v}", got "${p(k) ?? ''}"`);
    }
    for (const k of ['client_id', 'redirect_uri', 'login_hint', 'nonce', 'state', 'lti_message_hint']) {
      if (!p(k)) throw badRequestPage(`Missing required parameter: ${k}`);
    }
    const tool = ctx.data.toolByClientId(p('client_id') as string);
    if (!tool) throw badRequestPage('Client not found: the client_id does not match an installed developer key');
    const redirectUri = p('redirect_uri') as string;
    if (!tool.redirectUris.includes(redirectUri)) throw badRequestPage(`Invalid redirect_uri: "${redirectUri}" is not one of the developer key's redirect URIs`);
    const hint = readHint(ctx, p('lti_message_hint') as string);
    if ('error' in hint) throw badRequestPage(hint.error);
    const { lc } = hint;
    if (lc.tool.id !== tool.id) throw badRequestPage('lti_message_hint was issued for a different tool');
    if (p('login_hint') !== lc.user.lti11Id) throw badRequestPage('login_hint does not match the user of the launch');
    if (!ctx.data.isAdmin(lc.user.id, lc.course.id) && ctx.data.activeEnrollments(lc.course.id, lc.user.id).length === 0) {
      throw badRequestPage('The user is not enrolled in this course');
    }
    let dlData: string | undefined;
    if (lc.messageType === 'LtiDeepLinkingRequest') {
      dlData = jwt.sign(
        { u: lc.user.id, c: lc.course.id, t: lc.tool.id, p: lc.placement, a: lc.assignment?.id, mo: lc.moduleId },
        ctx.secret, { algorithm: 'HS256', expiresIn: 3600 },
      );
    }
    if (lc.moduleItem?.completionRequirement?.type === 'must_view' && ctx.data.isStudent(lc.course.id, lc.user.id)) {
      ctx.data.completeItem(lc.moduleItem.id, lc.user.id, 'viewed');
    }
    const idToken = ctx.keys.sign(idTokenClaims(ctx, lc, p('nonce') as string, dlData));
    res.set('Cache-Control', 'no-store').render('form_post', {
      action: redirectUri, fields: { id_token: idToken, state: p('state') as string, lti_storage_target: 'post_message_forwarding' }, toolName: tool.name,
    });
  };
  r.get('/api/lti/authorize_redirect', authorize);
  r.post('/api/lti/authorize_redirect', authorize);
  return r;
}
