import crypto from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import type { SandboxContext } from '../context';
import { badRequestPage, str } from '../http';
import { verifyToolJwt } from '../keys';
import { nowIso, type Assignment, type Module, type ResourceLink, type Tool } from '../store';
import { ensurePrimaryLineItem } from './claims';

/**
 * The Deep Linking return endpoint (canvas-lti.md §2.8): verifies the tool's LtiDeepLinkingResponse and
 * creates what Canvas creates for the placement that launched it.
 */

const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim';
interface DlData { u: number; c: number; t: number; p: string | null; a?: number; mo?: number }
interface ContentItem { type?: unknown; url?: unknown; title?: unknown; text?: unknown; custom?: unknown; lineItem?: unknown; window?: unknown; iframe?: unknown; available?: unknown; submission?: unknown }

function acceptTypes(placement: string | null): string[] {
  if (placement === 'link_selection') return ['ltiResourceLink', 'link'];
  if (placement === 'editor_button') return ['link', 'file', 'html', 'ltiResourceLink', 'image'];
  return ['ltiResourceLink'];
}

export function createResourceLink(ctx: SandboxContext, o: Omit<ResourceLink, 'id'>): ResourceLink {
  const rl: ResourceLink = { id: crypto.randomUUID(), ...o };
  ctx.data.resourceLinks.push(rl);
  return rl;
}

/** Link an assignment to a tool as Canvas does when a teacher picks "External Tool" (creates its resource link and line item). */
export function linkAssignmentToTool(ctx: SandboxContext, a: Assignment, tool: Tool, o: { url?: string; title?: string; custom?: Record<string, string>; lineItem?: { resourceId?: string | null; tag?: string | null; label?: string } } = {}): ResourceLink {
  const rl = createResourceLink(ctx, { courseId: a.courseId, toolId: tool.id, title: o.title ?? a.name, url: o.url ?? tool.targetLinkUri, custom: o.custom ?? {}, assignmentId: a.id, moduleItemId: null });
  a.externalTool = { url: rl.url ?? tool.targetLinkUri, toolId: tool.id, newTab: false, resourceLinkId: rl.id };
  a.submissionTypes = ['external_tool'];
  a.updatedAt = nowIso();
  ensurePrimaryLineItem(ctx, a, tool, { resourceLinkId: rl.id, resourceId: o.lineItem?.resourceId ?? null, tag: o.lineItem?.tag ?? null, label: o.lineItem?.label ?? a.name, scoreMaximum: a.pointsPossible });
  return rl;
}

export function deepLinkingRoutes(ctx: SandboxContext): express.Router {
  const r = express.Router();
  const d = ctx.data;

  r.post('/courses/:course_id/deep_linking_response', async (req, res) => {
    const token = str((req.body as Record<string, unknown> | undefined)?.JWT);
    if (!token) throw badRequestPage('Missing JWT parameter: the deep linking response must be POSTed as form field "JWT"');
    const decoded = jwt.decode(token);
    if (!decoded || typeof decoded === 'string') throw badRequestPage('The JWT is malformed');
    const tool = d.toolByClientId(str(decoded.iss) ?? '');
    if (!tool) throw badRequestPage("Client not found: the JWT's iss must be the tool's client_id");
    const v = await verifyToolJwt(token, tool);
    if (!v.ok) throw badRequestPage(`JWT verification failed: ${v.error}`);
    const p = v.payload;
    const auds = Array.isArray(p.aud) ? p.aud : [p.aud];
    if (!auds.includes(ctx.cfg.issuer)) throw badRequestPage(`The JWT's aud must be the platform issuer ${ctx.cfg.issuer}`);
    if (p['https://purl.imsglobal.org/spec/lti/claim/deployment_id'] !== tool.deploymentId) throw badRequestPage('The deployment_id claim does not match the tool deployment');
    if (p['https://purl.imsglobal.org/spec/lti/claim/message_type'] !== 'LtiDeepLinkingResponse') throw badRequestPage('message_type must be LtiDeepLinkingResponse');
    if (p['https://purl.imsglobal.org/spec/lti/claim/version'] !== '1.3.0') throw badRequestPage('version must be 1.3.0');
    const now = Math.floor(Date.now() / 1000);
    if (typeof p.iat !== 'number' || p.iat < now - 300 || p.iat > now + 30) throw badRequestPage('iat is missing or not recent');
    if (typeof p.exp !== 'number') throw badRequestPage('exp is missing');
    const nonce = str(p.nonce);
    if (!nonce) throw badRequestPage('nonce is missing');
    if (ctx.usedDeepLinkNonces.has(`${tool.clientId}:${nonce}`)) throw badRequestPage('nonce has already been used');
    let ctxData: DlData;
    try {
      ctxData = jwt.verify(str(p[`${DL}/data`]) ?? '', ctx.secret, { algorithms: ['HS256'] }) as DlData;
    } catch {
      throw badRequestPage('The data claim must echo the deep_linking_settings.data of the request');
    }
    const course = d.course(str(req.params.course_id) ?? '');
    if (!course || ctxData.c !== course.id || ctxData.t !== tool.id) throw badRequestPage('This deep linking response does not belong to this course and tool');
    ctx.usedDeepLinkNonces.add(`${tool.clientId}:${nonce}`);

    const items = p[`${DL}/content_items`] ?? [];
    if (!Array.isArray(items)) throw badRequestPage('content_items must be an array');
    const accepted = acceptTypes(ctxData.p);
    if (ctxData.p === 'assignment_selection' && items.length > 1) throw badRequestPage('This placement accepts a single content item (accept_multiple is false)');
    for (const [i, it] of (items as ContentItem[]).entries()) {
      if (typeof it !== 'object' || it === null || typeof it.type !== 'string') throw badRequestPage(`content_items[${i}] has no type`);
      if (!accepted.includes(it.type)) throw badRequestPage(`content_items[${i}]: type ${it.type} is not accepted by the ${ctxData.p ?? ''} placement (accepts ${accepted.join(', ')})`);
      if (it.type === 'link' && typeof it.url !== 'string') throw badRequestPage(`content_items[${i}]: a link needs a url`);
      if (it.lineItem !== undefined) {
        const li = it.lineItem as { scoreMaximum?: unknown };
        if (typeof li !== 'object' || li === null || typeof li.scoreMaximum !== 'number' || li.scoreMaximum < 0) throw badRequestPage(`content_items[${i}].lineItem.scoreMaximum is required`);
      }
    }

    const created: { kind: string; title: string; id: number }[] = [];
    let module: Module | undefined;
    const targetModule = (): Module => {
      if (module) return module;
      if (ctxData.p === 'module_index_menu_modal') {
        module = { id: d.nextId('module'), courseId: course.id, name: tool.name, position: d.courseModules(course.id).length + 1, published: false, requireSequentialProgress: false, requirementType: 'all', prerequisiteModuleIds: [], unlockAt: null, deleted: false };
        d.modules.push(module);
        created.push({ kind: 'module', title: module.name, id: module.id });
        return module;
      }
      module = (ctxData.mo !== undefined ? d.module(ctxData.mo, course.id) : undefined) ?? d.courseModules(course.id)[0];
      if (!module) throw badRequestPage('The course has no module to add the content to');
      return module;
    };
    for (const it of items as ContentItem[]) {
      const title = str(it.title) ?? str(it.url) ?? tool.name;
      const custom = typeof it.custom === 'object' && it.custom !== null ? Object.fromEntries(Object.entries(it.custom).map(([k, x]) => [k, String(x)])) : {};
      const newTab = str((it.window as { targetName?: unknown } | undefined)?.targetName) === '_blank';
      if (it.type === 'link') {
        const mi = d.addModuleItem(targetModule().id, { title, type: 'ExternalUrl', externalUrl: str(it.url) ?? null, newTab, published: false });
        created.push({ kind: 'module item (link)', title, id: mi.id });
        continue;
      }
      if (it.type !== 'ltiResourceLink') continue; // html/image/file go into the rich content editor, which the sandbox does not model
      const lineItem = it.lineItem as { scoreMaximum: number; label?: unknown; resourceId?: unknown; tag?: unknown } | undefined;
      const url = str(it.url) ?? tool.targetLinkUri;
      if (ctxData.p === 'assignment_selection') {
        let a = ctxData.a !== undefined ? d.assignment(ctxData.a, course.id) : undefined;
        if (!a) {
          a = newAssignment(ctx, course.id, title, lineItem?.scoreMaximum ?? 0, true);
          created.push({ kind: 'assignment', title: a.name, id: a.id });
        }
        if (lineItem) a.pointsPossible = lineItem.scoreMaximum;
        linkAssignmentToTool(ctx, a, tool, { url, title, custom, lineItem: { resourceId: str(lineItem?.resourceId) ?? null, tag: str(lineItem?.tag) ?? null, label: str(lineItem?.label) ?? a.name } });
        created.push({ kind: 'assignment link', title: a.name, id: a.id });
        continue;
      }
      if (lineItem) {
        // An ltiResourceLink with a lineItem becomes an unpublished external-tool assignment with a tagged line item.
        const a = newAssignment(ctx, course.id, str(lineItem.label) ?? title, lineItem.scoreMaximum, false);
        const avail = it.available as { startDateTime?: unknown; endDateTime?: unknown } | undefined;
        a.unlockAt = str(avail?.startDateTime) ?? null;
        a.dueAt = str((it.submission as { endDateTime?: unknown } | undefined)?.endDateTime) ?? null;
        linkAssignmentToTool(ctx, a, tool, { url, title, custom, lineItem: { resourceId: str(lineItem.resourceId) ?? null, tag: str(lineItem.tag) ?? null, label: str(lineItem.label) ?? a.name } });
        const mi = d.addModuleItem(targetModule().id, { title: a.name, type: 'Assignment', contentId: a.id, published: false });
        created.push({ kind: 'assignment', title: a.name, id: a.id }, { kind: 'module item (assignment)', title: a.name, id: mi.id });
      } else {
        const m = targetModule();
        const mi = d.addModuleItem(m.id, { title, type: 'ExternalTool', toolId: tool.id, externalUrl: url, newTab, published: false });
        const rl = createResourceLink(ctx, { courseId: course.id, toolId: tool.id, title, url, custom, assignmentId: null, moduleItemId: mi.id });
        mi.resourceLinkId = rl.id;
        created.push({ kind: 'module item (external tool)', title, id: mi.id });
      }
    }
    res.render('dl_done', {
      course, tool, created, msg: str(p[`${DL}/msg`]), errormsg: str(p[`${DL}/errormsg`]),
      user: d.user(ctxData.u), base: ctx.cfg.baseUrl,
    });
  });
  return r;
}

function newAssignment(ctx: SandboxContext, courseId: number, name: string, points: number, published: boolean): Assignment {
  const a: Assignment = {
    id: ctx.data.nextId('assignment'), courseId, name, description: '', pointsPossible: points, gradingType: 'points', submissionTypes: ['external_tool'], published,
    dueAt: null, unlockAt: null, lockAt: null, position: ctx.data.courseAssignments(courseId).length + 1, rubricId: null, rubricAssociationId: null, externalTool: null,
    allowedAttempts: -1, createdAt: nowIso(), updatedAt: nowIso(), deleted: false,
  };
  ctx.data.assignments.push(a);
  return a;
}
