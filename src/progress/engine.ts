import type { CanvasModule, CanvasSubmission } from '../canvas/types';
import type { EvidenceState, ProgressState } from './schema';

/**
 * The progress engine: pure functions from what Canvas says (the earner's modules with completion, their
 * submission to the evidence assignment) to the earner's state and a sentence they can read. No I/O here.
 */

export interface Requirement {
  /** Canvas module ids the micro-credential requires, in the designer's order. */
  moduleIds: string[];
  /** The Canvas assignment whose submission is the evidence. */
  assignmentId: string;
}

export interface EvidenceFacts {
  state: EvidenceState;
  submissionId: string | null;
  attempt: number | null;
  submittedAt: string | null;
}

export interface Evaluation {
  state: ProgressState;
  modulesDone: number;
  modulesTotal: number;
  doneModuleIds: string[];
  /** Required modules Canvas did not list (deleted, or unpublished for the earner). */
  missingModuleIds: string[];
  evidence: EvidenceFacts;
  summary: string;
}

/** States a later step (review, award) owns: a sync never moves an earner out of them by itself. */
const OWNED_LATER: ProgressState[] = ['in_review', 'awarded'];

/** A module counts as done when Canvas says so for this student (`state: completed` with `student_id`). */
export function moduleDone(m: Pick<CanvasModule, 'state' | 'completed_at'>): boolean {
  return m.state === 'completed';
}

/**
 * The evidence as submitted: a submission with a `submitted_at` that is not excused. Canvas lists only published
 * assignments in `students/submissions`, and keeps an `unsubmitted` row per student, which counts as missing.
 */
export function evidenceOf(sub: Pick<CanvasSubmission, 'id' | 'attempt' | 'submitted_at' | 'workflow_state' | 'excused'> | undefined): EvidenceFacts {
  if (!sub) return { state: 'missing', submissionId: null, attempt: null, submittedAt: null };
  if (sub.excused) return { state: 'excused', submissionId: sub.id, attempt: sub.attempt ?? null, submittedAt: sub.submitted_at ?? null };
  const handedIn = !!sub.submitted_at && sub.workflow_state !== 'unsubmitted' && (sub.attempt ?? 0) > 0;
  if (!handedIn) return { state: 'missing', submissionId: sub.id, attempt: null, submittedAt: null };
  return { state: 'submitted', submissionId: sub.id, attempt: sub.attempt ?? 1, submittedAt: sub.submitted_at ?? null };
}

/**
 * `previous` is the stored state and the evidence attempt it was computed from: “in review” and “awarded” belong to
 * the review, and “returned” (not yet) stays until Canvas has a newer attempt, which is a resubmission.
 */
export function evaluate(req: Requirement, modules: Pick<CanvasModule, 'id' | 'state' | 'completed_at'>[], evidence: EvidenceFacts, previous?: { state: ProgressState; evidenceAttempt: number | null }): Evaluation {
  const byId = new Map(modules.map((m) => [m.id, m]));
  const required = [...new Set(req.moduleIds)];
  const doneModuleIds = required.filter((id) => {
    const m = byId.get(id);
    return m !== undefined && moduleDone(m);
  });
  const missingModuleIds = required.filter((id) => !byId.has(id));
  const modulesDone = doneModuleIds.length;
  const modulesTotal = required.length;
  const allDone = modulesDone === modulesTotal && missingModuleIds.length === 0;
  const submitted = evidence.state === 'submitted';
  let state: ProgressState;
  if (previous && OWNED_LATER.includes(previous.state)) state = previous.state;
  else if (previous?.state === 'returned' && (evidence.attempt ?? 0) <= (previous.evidenceAttempt ?? 0)) state = 'returned';
  else if (allDone && submitted) state = 'ready_for_review';
  else if (modulesDone === 0 && !submitted) state = 'not_started';
  else state = 'in_progress';
  return { state, modulesDone, modulesTotal, doneModuleIds, missingModuleIds, evidence, summary: summarize({ state, modulesDone, modulesTotal, missing: missingModuleIds.length, evidence }) };
}

/** "3 of 4 modules done; evidence not submitted yet". */
export function summarize(p: { state: ProgressState; modulesDone: number; modulesTotal: number; missing?: number; evidence: Pick<EvidenceFacts, 'state' | 'attempt'> }): string {
  if (p.state === 'awarded') return 'Awarded';
  const modules =
    p.modulesTotal === 0 ? 'No modules required' : p.modulesDone === p.modulesTotal ? `All ${p.modulesTotal} ${p.modulesTotal === 1 ? 'module' : 'modules'} done` : `${p.modulesDone} of ${p.modulesTotal} modules done`;
  const evidence =
    p.evidence.state === 'submitted'
      ? `evidence submitted${p.evidence.attempt && p.evidence.attempt > 1 ? ` (attempt ${p.evidence.attempt})` : ''}`
      : p.evidence.state === 'excused'
        ? 'evidence excused in Canvas, so it cannot be reviewed'
        : 'evidence not submitted yet';
  const parts = [modules, evidence];
  if (p.missing) parts.push(`${p.missing === 1 ? 'a required module is' : `${p.missing} required modules are`} no longer in Canvas`);
  let s = parts.join('; ');
  if (p.state === 'ready_for_review') s += ' — ready for review';
  if (p.state === 'in_review') s += ' — being reviewed';
  if (p.state === 'returned') s += ' — not yet: read the feedback and submit again in Canvas';
  return s;
}

/**
 * A snapshot is due when the earner is ready for review (or further) with submitted evidence whose attempt has
 * not been captured yet: the first time they become ready, and for every new attempt after that.
 */
export function snapshotDue(e: Pick<Evaluation, 'state' | 'evidence'>, snapshotAttempt: number | null): boolean {
  if (e.evidence.state !== 'submitted' || e.evidence.attempt === null) return false;
  if (e.state !== 'ready_for_review' && e.state !== 'in_review' && e.state !== 'returned') return false;
  return snapshotAttempt === null || e.evidence.attempt > snapshotAttempt;
}

/** The fingerprint of Canvas's course-wide progress counts (`bulk_user_progress`) for one student. */
export function progressFingerprint(p: { requirement_count: number; requirement_completed_count: number; completed_at?: string | null }): string {
  return `${p.requirement_completed_count}/${p.requirement_count}/${p.completed_at ?? ''}`;
}

/** Canvas global ids are shard × 10^13 + local id (canvas-lti.md §3.9); local ids pass through. `1~23` style too. */
export function localId(id: string | number | null | undefined): string | undefined {
  if (id === null || id === undefined) return undefined;
  const s = String(id).trim();
  const tilde = /^(\d+)~(\d+)$/.exec(s);
  if (tilde) return String(BigInt(tilde[2] as string));
  if (!/^\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  const shard = 10_000_000_000_000n;
  return String(n >= shard ? n % shard : n);
}
