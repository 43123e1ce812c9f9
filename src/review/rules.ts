import type { PassingRule, Rubric } from '../catalog/model';
import { evaluate, type Evaluation } from '../catalog/rules';
import type { Scores } from './schema';

/**
 * The review's pure rules: agreement and Cohen's kappa, what counts as borderline, who needs a second review,
 * and whether a decision needs an override comment. Scoring itself is the catalog's `evaluate`.
 */

// ---- agreement --------------------------------------------------------------------------------------------

/** Two raters' labels for the same things (a level id per criterion per item, or a decision per item). */
export type Pair = readonly [string, string];

/** Share of pairs on which both raters gave the same label (null with no pairs). */
export function exactAgreement(pairs: readonly Pair[]): number | null {
  if (pairs.length === 0) return null;
  return pairs.filter(([a, b]) => a === b).length / pairs.length;
}

/**
 * Cohen's kappa for two raters and nominal labels:
 *
 *   κ = (p_o − p_e) / (1 − p_e)
 *
 * where p_o is the observed agreement (share of pairs with equal labels) and p_e the agreement expected by
 * chance, Σ_k (n_k,A / N)·(n_k,B / N): for each label k, how often rater A used it times how often rater B did.
 * κ = 1 is perfect agreement, 0 is what chance alone gives, negative is worse than chance. When chance agreement
 * is already total (both raters always used one and the same label) κ is undefined: we return 1 if they agree,
 * else null.
 */
export function cohensKappa(pairs: readonly Pair[]): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  const po = exactAgreement(pairs)!;
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  for (const [x, y] of pairs) {
    a.set(x, (a.get(x) ?? 0) + 1);
    b.set(y, (b.get(y) ?? 0) + 1);
  }
  let pe = 0;
  for (const [label, countA] of a) pe += (countA / n) * ((b.get(label) ?? 0) / n);
  if (pe >= 1) return po === 1 ? 1 : null;
  return (po - pe) / (1 - pe);
}

/** Agreement of a reviewer's scores with reference scores over the criteria the reference scored. */
export function scoreAgreement(scores: Scores, reference: Scores): number {
  const ids = Object.keys(reference);
  if (ids.length === 0) return 1;
  return ids.filter((id) => scores[id] === reference[id]).length / ids.length;
}

/** Pairs of level ids, one per criterion both scored. */
export function criterionPairs(a: Scores, b: Scores): { criterionId: string; pair: Pair }[] {
  return Object.keys(a)
    .filter((id) => b[id] !== undefined)
    .map((id) => ({ criterionId: id, pair: [a[id]!, b[id]!] as const }));
}

// ---- borderline and second reviews ------------------------------------------------------------------------

/**
 * Borderline: moving a single criterion one level up or down (levels ordered by points) would change the
 * result. An incomplete scoring is not borderline (it cannot be decided at all).
 */
export function isBorderline(rubric: Rubric, rule: PassingRule, scores: Scores): boolean {
  const base = evaluate(rubric, rule, scores);
  if (!base.complete) return false;
  for (const c of rubric.criteria) {
    const levels = [...c.levels].sort((x, y) => x.points - y.points);
    const i = levels.findIndex((l) => l.id === scores[c.id]);
    for (const j of [i - 1, i + 1]) {
      const neighbour = levels[j];
      if (!neighbour || neighbour.points === levels[i]!.points) continue;
      if (evaluate(rubric, rule, { ...scores, [c.id]: neighbour.id }).passed !== base.passed) return true;
    }
  }
  return false;
}

export type SecondReviewPolicy = { mode: 'none' | 'all' | 'random' | 'borderline'; share: number };

/**
 * Whether a first review needs a second, independent one. `random` is decided by a hash of the item id, so a
 * retry or a second instance gives the same answer and the share holds over many items.
 */
export function needsSecondReview(policy: SecondReviewPolicy, itemId: string, borderline: boolean): 'all' | 'random' | 'borderline' | null {
  if (policy.mode === 'all') return 'all';
  if (policy.mode === 'borderline') return borderline ? 'borderline' : null;
  if (policy.mode === 'random') return unitHash(itemId) < policy.share ? 'random' : null;
  return null;
}

/** A number in [0, 1) from a string, stable across processes (FNV-1a, 32 bits). */
export function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x100000000;
}

// ---- decisions --------------------------------------------------------------------------------------------

export type Decision = 'award' | 'not_yet';

/** A decision that differs from the passing rule's result is an override, and needs a comment saying why. */
export function checkDecision(evaluation: Evaluation, decision: Decision, overrideComment: string | undefined): { override: boolean; problem?: string } {
  const override = (decision === 'award') !== evaluation.passed;
  if (override && !overrideComment?.trim()) {
    return { override, problem: decision === 'award' ? 'The scores do not meet the passing rule. Say why you award it anyway.' : 'The scores meet the passing rule. Say why it is “not yet” anyway.' };
  }
  return { override };
}

/** The next round after a submitted review: done, or the next reviewer. */
export function nextRound(round: number, decisions: Decision[], second: 'all' | 'random' | 'borderline' | null): { done: true } | { done: false; round: number } {
  if (round === 1) return second ? { done: false, round: 2 } : { done: true };
  if (round === 2) return decisions[0] === decisions[1] ? { done: true } : { done: false, round: 3 };
  return { done: true };
}
