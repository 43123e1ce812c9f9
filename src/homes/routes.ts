import type { Response } from 'express';
import { defineRoutes } from '../web/routeTable';
import { ROLE_LABELS, type AppRole } from '../lti/roles';
import { HOME_PATH, homePath } from './paths';
import type { SessionContext } from '../lti/sessions';
import type { TenantRepository } from '../tenants/repository';


/** The role homes a launch lands on: who you are, where, and what comes next. */
export function homeRoutes(deps: { tenants: TenantRepository; earnerHome?: (ctx: SessionContext) => Promise<Record<string, unknown>> }) {
  return defineRoutes([
    {
      method: 'get',
      path: '/',
      action: 'home.view',
      handler: (ctx, _req, res) => {
        res.redirect(303, ctx.base + homePath(ctx.roles));
      },
    },
    {
      method: 'get',
      path: '/earner',
      action: 'earner.home',
      handler: async (ctx, _req, res) => render(res, ctx, 'homes/earner', 'earner', 'My micro-credentials', deps.earnerHome ? await deps.earnerHome(ctx) : {}),
    },
    {
      method: 'get',
      path: '/designer',
      action: 'designer.home',
      handler: (ctx, _req, res) => render(res, ctx, 'homes/designer', 'designer', 'Design micro-credentials'),
    },
    {
      method: 'get',
      path: '/reviewer',
      action: 'reviewer.home',
      handler: (ctx, _req, res) => render(res, ctx, 'homes/reviewer', 'reviewer', 'Review evidence'),
    },
    {
      method: 'get',
      path: '/admin',
      action: 'admin.home',
      handler: async (ctx, _req, res) => {
        const deployments = await deps.tenants.listForPlatform(ctx.tenant.issuer, ctx.tenant.clientId);
        render(res, ctx, 'homes/admin', 'admin', 'Administer microcred', { deployments });
      },
    },
  ]);
}

function render(res: Response, ctx: SessionContext, view: string, role: AppRole, title: string, extra: Record<string, unknown> = {}): void {
  res.render(view, { title, role, roleLabel: ROLE_LABELS[role], ...extra });
}

/** The role navigation: one entry per home this person may open. */
export function navFor(ctx: SessionContext, currentPath: string): { href: string; label: string; current: boolean }[] {
  const staff = ctx.roles.includes('designer') || ctx.roles.includes('admin');
  const items: { show: boolean; href: string; label: string; also?: string[] }[] = [
    { show: ctx.roles.includes('earner'), href: HOME_PATH.earner, label: 'My micro-credentials' },
    { show: ctx.roles.includes('earner'), href: '/portfolio', label: 'My portfolio' },
    { show: staff, href: HOME_PATH.designer, label: 'Design', also: ['/catalog'] },
    { show: staff, href: '/progress', label: 'Progress' },
    { show: staff, href: '/awards', label: 'Awards' },
    { show: ctx.roles.includes('reviewer') || ctx.roles.includes('admin'), href: HOME_PATH.reviewer, label: 'Review' },
    { show: ctx.roles.includes('admin') || ctx.roles.includes('recognizer') || ctx.roles.includes('designer'), href: '/reports', label: 'Reports' },
    { show: ctx.roles.includes('admin'), href: HOME_PATH.admin, label: 'Administer' },
  ];
  return items
    .filter((i) => i.show)
    .map((i) => ({ href: i.href, label: i.label, current: [i.href, ...(i.also ?? [])].some((p) => currentPath.startsWith(p)) }));
}
