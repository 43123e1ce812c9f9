import type { SessionContext } from '../lti/sessions';
import type { AppRole } from '../lti/roles';
import { ForbiddenError } from '../web/errors';

/**
 * Who may do what, in one place. Each rule is a predicate over the session (and, where it matters, the
 * resource). Every route names one of these actions; the route table refuses a route without one.
 */
type Rule = (ctx: SessionContext, resource?: unknown) => boolean;

const anyOf =
  (...roles: AppRole[]): Rule =>
  (ctx) =>
    roles.some((r) => ctx.roles.includes(r));

export const RULES = {
  'home.view': () => true,
  'earner.home': anyOf('earner'),
  'designer.home': anyOf('designer', 'admin'),
  'reviewer.home': anyOf('reviewer', 'admin'),
  'admin.home': anyOf('admin'),
  'designer.deepLinking': anyOf('designer', 'admin'),
  // Anyone launched may connect their own Canvas account (the token only carries their own Canvas rights).
  'canvas.connect': () => true,
  'canvas.admin': anyOf('admin'),
} satisfies Record<string, Rule>;

export type Action = keyof typeof RULES;

export function can(ctx: SessionContext, action: Action, resource?: unknown): boolean {
  return RULES[action](ctx, resource);
}

export function authorize(ctx: SessionContext, action: Action, resource?: unknown): void {
  if (!can(ctx, action, resource)) throw new ForbiddenError();
}
