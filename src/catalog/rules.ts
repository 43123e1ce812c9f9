import type { PassingRule, Rubric, RubricCriterion } from './model';
import { InvalidInputError } from '../web/errors';

/**
 * The catalog's rules as pure functions: no database, no HTTP. The review issue scores evidence with
 * `evaluate`; the portfolio issue counts CEUs with `ceus`; awards check stacks with `isStackEarned`.
 */

// ---- rubric -----------------------------------------------------------------------------------------------

export function maxPoints(rubric: Rubric): number {
  return rubric.criteria.reduce((sum, c) => sum + Math.max(0, ...c.levels.map((l) => l.points)), 0);
}

/** What is wrong with a rubric under a passing rule, by field; empty when it is usable. */
export function validateRubric(rubric: Rubric, rule: PassingRule): Record<string, string> {
  const fields: Record<string, string> = {};
  if (rubric.criteria.length === 0) {
    fields['rubric.criteria'] = 'Add at least one criterion to the rubric.';
    return fields;
  }
  const seen = new Set<string>();
  rubric.criteria.forEach((c, i) => {
    const at = `rubric.criteria.${i}`;
    if (seen.has(c.id)) fields[`${at}.id`] = `Two criteria share the id “${c.id}”.`;
    seen.add(c.id);
    const levelIds = new Set<string>();
    c.levels.forEach((l, j) => {
      if (levelIds.has(l.id)) fields[`${at}.levels.${j}.id`] = `Two levels of “${c.title}” share the id “${l.id}”.`;
      levelIds.add(l.id);
    });
    if (rule.kind === 'every_criterion') {
      if (!c.requiredLevelId) fields[`${at}.requiredLevelId`] = `Choose the level of “${c.title}” that meets the bar (its passing level).`;
      else if (!levelIds.has(c.requiredLevelId)) fields[`${at}.requiredLevelId`] = `The passing level of “${c.title}” is not one of its levels.`;
    } else if (c.requiredLevelId && !levelIds.has(c.requiredLevelId)) {
      fields[`${at}.requiredLevelId`] = `The passing level of “${c.title}” is not one of its levels.`;
    }
  });
  if (rule.kind === 'total') {
    const max = maxPoints(rubric);
    if (!(rule.threshold > 0 && rule.threshold <= max)) fields['passingRule.threshold'] = `Set a passing total above 0 and at most the rubric’s ${max} points.`;
  }
  return fields;
}

export type Scores = Record<string, string>;

export interface Evaluation {
  passed: boolean;
  /** Every criterion has a level. */
  complete: boolean;
  total: number;
  maxTotal: number;
  perCriterion: { criterionId: string; levelId: string | null; points: number; met: boolean | null }[];
}

/**
 * Scores a rubric: `scores` maps criterion id → the level a reviewer chose. A criterion is met when its level
 * has at least the points of its required level. Unknown criteria or levels are a reviewer's mistake (400).
 */
export function evaluate(rubric: Rubric, rule: PassingRule, scores: Scores): Evaluation {
  const known = new Map(rubric.criteria.map((c) => [c.id, c]));
  const unknown = Object.keys(scores).filter((id) => !known.has(id));
  if (unknown.length) throw new InvalidInputError('Some scores are for criteria this rubric does not have.', Object.fromEntries(unknown.map((id) => [`scores.${id}`, 'Not a criterion of this rubric.'])));
  const perCriterion = rubric.criteria.map((c) => {
    const levelId = scores[c.id] ?? null;
    if (levelId === null) return { criterionId: c.id, levelId, points: 0, met: c.requiredLevelId ? false : null };
    const level = c.levels.find((l) => l.id === levelId);
    if (!level) throw new InvalidInputError(`“${levelId}” is not a level of “${c.title}”.`, { [`scores.${c.id}`]: `Choose one of the levels of “${c.title}”.` });
    return { criterionId: c.id, levelId, points: level.points, met: meets(c, level.points) };
  });
  const complete = perCriterion.every((p) => p.levelId !== null);
  const total = perCriterion.reduce((s, p) => s + p.points, 0);
  const passed = complete && (rule.kind === 'total' ? total >= rule.threshold : perCriterion.every((p) => p.met === true));
  return { passed, complete, total, maxTotal: maxPoints(rubric), perCriterion };
}

function meets(c: RubricCriterion, points: number): boolean | null {
  const required = c.levels.find((l) => l.id === c.requiredLevelId);
  return required ? points >= required.points : null;
}

// ---- hours and CEUs ---------------------------------------------------------------------------------------

/** North Carolina's rate: 1 CEU per 10 hours of learning, to a tenth. Derived, never stored. */
export function ceus(hours: number): number {
  // hours / 10 to one decimal is the same as whole hours / 10, without floating-point drift (15 h → 1.5, 6.5 h → 0.7).
  return Math.round(hours) / 10;
}

// ---- versions ---------------------------------------------------------------------------------------------

export type CredentialState = 'draft' | 'published' | 'retired';

/**
 * What an edit does: a draft is edited in place (nobody can have earned it); a published credential gets a new
 * draft version, or its pending draft is edited; earned badges keep pointing at the version they were earned
 * under. A retired credential is not edited: copy it instead.
 */
export function editPlan(state: CredentialState, hasPendingDraft: boolean): 'edit_current' | 'edit_pending_draft' | 'new_version' | 'refuse' {
  if (state === 'retired') return 'refuse';
  if (state === 'draft') return 'edit_current';
  return hasPendingDraft ? 'edit_pending_draft' : 'new_version';
}

// ---- stacks -----------------------------------------------------------------------------------------------

export interface StackShape {
  kind: 'ordered' | 'n_of_m';
  requiredCount: number | null;
  members: { credentialId: string; prerequisiteIds: string[] }[];
}

/** What is wrong with a stack, by field. `names` only makes messages readable. */
export function validateStack(stack: StackShape, names: Record<string, string> = {}): Record<string, string> {
  const fields: Record<string, string> = {};
  const name = (id: string) => names[id] ?? id;
  if (stack.members.length === 0) {
    fields.members = 'Add at least one micro-credential to the stack.';
    return fields;
  }
  const ids = new Set<string>();
  stack.members.forEach((m, i) => {
    if (ids.has(m.credentialId)) fields[`members.${i}.credentialId`] = `“${name(m.credentialId)}” is in the stack twice.`;
    ids.add(m.credentialId);
  });
  stack.members.forEach((m, i) => {
    for (const p of m.prerequisiteIds) {
      if (p === m.credentialId) fields[`members.${i}.prerequisiteIds`] = `A stack cannot contain itself: “${name(p)}” cannot be its own prerequisite.`;
      else if (!ids.has(p)) fields[`members.${i}.prerequisiteIds`] = `“${name(p)}” is a prerequisite but not a member of the stack.`;
    }
  });
  if (Object.keys(fields).length) return fields;
  const cycle = findCycle(stack);
  if (cycle) {
    const i = stack.members.findIndex((m) => m.credentialId === cycle[0]);
    fields[`members.${i}.prerequisiteIds`] = `A stack cannot contain itself: ${cycle.map((id) => `“${name(id)}”`).join(' requires ')}.`;
  }
  if (stack.kind === 'n_of_m') {
    const n = stack.requiredCount;
    if (n === null || n < 1 || n > stack.members.length) fields.requiredCount = `Choose how many of the ${stack.members.length} micro-credentials earn the stack (1 to ${stack.members.length}).`;
  }
  return fields;
}

/** The prerequisites that hold: an ordered stack adds “the one before” to each member's own. */
export function prerequisitesOf(stack: StackShape): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  stack.members.forEach((m, i) => {
    const pre = new Set(m.prerequisiteIds);
    const before = stack.members[i - 1];
    if (stack.kind === 'ordered' && before) pre.add(before.credentialId);
    out.set(m.credentialId, pre);
  });
  return out;
}

/** A prerequisite chain that comes back to where it started, as credential ids (first repeated last). */
export function findCycle(stack: StackShape): string[] | null {
  const pre = prerequisitesOf(stack);
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const p of pre.get(id) ?? []) {
      const c = visit(p);
      if (c) return c;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const m of stack.members) {
    const c = visit(m.credentialId);
    if (c) return c;
  }
  return null;
}

/**
 * Whether the earned micro-credentials complete a stack: an ordered stack needs every member, an N-of-M stack
 * any N. Prerequisites decide what an earner may start (`availableMembers`), not what counts once earned.
 */
export function isStackEarned(stack: StackShape, earnedCredentialIds: Iterable<string>): boolean {
  const earned = new Set(earnedCredentialIds);
  const count = stack.members.filter((m) => earned.has(m.credentialId)).length;
  if (stack.members.length === 0) return false;
  return stack.kind === 'ordered' ? count === stack.members.length : count >= (stack.requiredCount ?? stack.members.length);
}

/** Members an earner may work on now: not yet earned, every prerequisite earned. */
export function availableMembers(stack: StackShape, earnedCredentialIds: Iterable<string>): string[] {
  const earned = new Set(earnedCredentialIds);
  const pre = prerequisitesOf(stack);
  return stack.members.filter((m) => !earned.has(m.credentialId) && [...(pre.get(m.credentialId) ?? [])].every((p) => earned.has(p))).map((m) => m.credentialId);
}

/** A URL-safe key from a name (“Tech Leader I” → “tech-leader-i”). */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s || 'micro-credential';
}
