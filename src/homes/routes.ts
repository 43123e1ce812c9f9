import type { Response } from 'express';
import { defineRoutes } from '../web/routeTable';
import { ROLE_LABELS, type AppRole } from '../lti/roles';
import { HOME_PATH, homePath } from './paths';
import type { SessionContext } from '../lti/sessions';
import type { TenantRepository } from '../tenants/repository';


/** The role homes a launch lands on: who you are, where, and what comes next. */
export function homeRoutes(deps: { tenants: TenantRepository }) {
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
      handler: (ctx, _req, res) => render(res, ctx, 'homes/earner', 'earner', 'My micro-credentials'),
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
  const items: { role: AppRole; label: string }[] = [
    { role: 'earner', label: 'My micro-credentials' },
    { role: 'designer', label: 'Design' },
    { role: 'reviewer', label: 'Review' },
    { role: 'admin', label: 'Administer' },
  ];
  return items
    .filter((i) => ctx.roles.includes(i.role) || (i.role !== 'earner' && ctx.roles.includes('admin')))
    .map((i) => ({ href: HOME_PATH[i.role], label: i.label, current: currentPath.startsWith(HOME_PATH[i.role]) }));
}
