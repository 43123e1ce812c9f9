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

/** A catalog item owned by a course (a micro-credential or a stack). */
interface Owned {
  courseId: string;
  state: 'draft' | 'published' | 'retired';
}
const isOwned = (r: unknown): r is Owned => typeof r === 'object' && r !== null && typeof (r as Owned).courseId === 'string' && typeof (r as Owned).state === 'string';

/** Only the owning course's designers, and the tenant's admins, change a catalog item. */
const changesCatalogItem: Rule = (ctx, r) => isOwned(r) && (ctx.roles.includes('admin') || (ctx.roles.includes('designer') && ctx.course?.id === r.courseId));

/**
 * Earners and reviewers see published items; designers also see retired ones and their own course's drafts;
 * admins see everything. Another tenant's items are never loaded at all (queries filter by tenant).
 */
const seesCatalogItem: Rule = (ctx, r) => {
  if (!isOwned(r)) return false;
  if (r.state === 'published' || ctx.roles.includes('admin')) return true;
  if (!ctx.roles.includes('designer')) return false;
  return r.state === 'retired' || ctx.course?.id === r.courseId;
};

/** An item under review (its course) and the courses the person reviews (see review/service.ts: reviewScope). */
interface ReviewTarget {
  courseId: string;
  scope: { all: boolean; courseIds: string[] };
}
const isReviewTarget = (r: unknown): r is ReviewTarget => typeof r === 'object' && r !== null && typeof (r as ReviewTarget).courseId === 'string' && typeof (r as ReviewTarget).scope === 'object';

/** Admins review anything in the tenant; reviewers the courses they review (all of them for district reviewers). */
const reviewsItem: Rule = (ctx, r) => {
  if (!isReviewTarget(r)) return false;
  if (ctx.roles.includes('admin')) return true;
  return ctx.roles.includes('reviewer') && (r.scope.all || r.scope.courseIds.includes(r.courseId));
};

export const RULES = {
  'home.view': () => true,
  // The catalog (docs/catalog.md). Route-level actions first, then the per-item ones commands check.
  'catalog.browse': () => true,
  'catalog.design': anyOf('designer', 'admin'),
  'catalog.administer': anyOf('admin'),
  'credential.view': seesCatalogItem,
  'credential.change': changesCatalogItem,
  'stack.view': seesCatalogItem,
  'stack.change': changesCatalogItem,
  'earner.home': anyOf('earner'),
  'designer.home': anyOf('designer', 'admin'),
  'reviewer.home': anyOf('reviewer', 'admin'),
  'admin.home': anyOf('admin'),
  'designer.deepLinking': anyOf('designer', 'admin'),
  // Anyone launched may connect their own Canvas account (the token only carries their own Canvas rights).
  'canvas.connect': () => true,
  'canvas.admin': anyOf('admin'),
  // Progress (docs/progress.md): an earner sees their own; designers and admins see and sync the course's.
  'progress.mine': anyOf('earner'),
  'progress.course': anyOf('designer', 'admin'),
  'progress.sync': anyOf('designer', 'admin'),
  'progress.settings': anyOf('admin'),
  // The review (docs/review.md).
  'review.queue': anyOf('reviewer', 'admin'),
  'review.item': reviewsItem,
  /** Review settings, exemplars, sections: the credential's designers (checked per credential) and admins. */
  'review.configure': anyOf('designer', 'admin'),
  /** Agreement figures: admins and designers see everyone's; reviewers their own. */
  'review.calibration': anyOf('reviewer', 'designer', 'admin'),
  'review.audit': anyOf('admin'),
  'review.assign': anyOf('admin'),
  /** An earner's own decisions and feedback (what they see is filtered to themselves). */
  'review.feedback': () => true,
  /** Privacy (docs/privacy.md): deleting a person's data, the evidence-access audit, the privacy log. */
  'privacy.admin': anyOf('admin'),
  // The portfolio (docs/portfolio.md): anyone launched sees, shares and exports their own (handlers read only the
  // session user's rows), whatever their role in the course they launched from.
  'portfolio.mine': () => true,
  'portfolio.export': () => true,
  /** Reports: admins and recognizers see the district; a course's designers see their course (scoped by the handler). */
  'reports.view': anyOf('recognizer', 'admin', 'designer'),
  // Awards (docs/awards.md): the course's awards and their passbacks, award modes, next levels (per-credential
  // and per-course checks in the commands); bulk awards; everyone's own notification choices.
  'awards.course': anyOf('designer', 'admin'),
  'awards.bulk': anyOf('designer', 'admin'),
  'earner.preferences': () => true,
} satisfies Record<string, Rule>;

export type Action = keyof typeof RULES;

export function can(ctx: SessionContext, action: Action, resource?: unknown): boolean {
  return RULES[action](ctx, resource);
}

export function authorize(ctx: SessionContext, action: Action, resource?: unknown): void {
  if (!can(ctx, action, resource)) throw new ForbiddenError();
}
