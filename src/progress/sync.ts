import crypto from 'node:crypto';
import type { CanvasAccess } from '../canvas/access';
import type { CanvasClient } from '../canvas/client';
import {
  CanvasAuthorizationRequired, CanvasForbidden, CanvasNotFound, CanvasRequestError, CanvasResponseError, CanvasUnavailable,
} from '../canvas/errors';
import type { CanvasModule, CanvasSubmission, CanvasUserProgress } from '../canvas/types';
import type { Orm } from '../db/database';
import { logger as rootLogger, type Logger } from '../log';
import { backgroundClient } from './canvasToken';
import { evaluate, evidenceOf, progressFingerprint, snapshotDue, type EvidenceFacts, type Evaluation } from './engine';
import type { AttachedCredential, CourseInfo, ProgressRepository } from './repository';
import type { CredentialProgressRow, SyncIssue } from './schema';

export type SyncMode = 'full' | 'incremental';

export interface SyncReport {
  mode: SyncMode | 'skipped';
  resumed: boolean;
  educators: number;
  modulesRead: number;
  evidenceUpdated: number;
  requests: number;
  throttled: number;
  pages: number;
  durationMs: number;
  issues: SyncIssue[];
}

export interface ProgressOptions {
  /** Students whose modules are read at once (the client's per-token limiter caps what reaches Canvas). */
  concurrency: number;
  /** An automatic sync is a full one when the last full sync is older than this. */
  fullSyncEveryHours: number;
  /** Largest attachment kept in an evidence snapshot. */
  maxFileBytes: number;
  /** `submitted_since` starts this much before the run, for clock skew between Canvas and us. */
  cursorSkewSeconds: number;
}

export const DEFAULT_OPTIONS: ProgressOptions = { concurrency: 10, fullSyncEveryHours: 24, maxFileBytes: 20 * 1024 * 1024, cursorSkewSeconds: 120 };

/** Sends a snapshot job, inside the educator's transaction so it exists only if their progress does (outbox). */
export type SnapshotEnqueuer = (job: { tenantId: string; courseId: string; credentialId: string; canvasUserId: string }, tx: Orm) => Promise<void>;

/**
 * Called after an earner's progress on one credential is saved, inside that transaction (awards: the automatic
 * mode awards once every required module is done).
 */
export type AfterProgressSave = (e: { tx: Orm; tenantId: string; courseId: string; credentialId: string; canvasUserId: string; evaluation: Evaluation; saved: CredentialProgressRow }) => Promise<void>;

export interface SyncDeps {
  repo: ProgressRepository;
  canvas: CanvasAccess;
  enqueueSnapshot: SnapshotEnqueuer;
  afterSave?: AfterProgressSave;
  options?: Partial<ProgressOptions>;
  log?: Logger;
  /** Tests and the benchmark may hand in a client instead of the stored tokens. */
  clientFor?: (course: CourseInfo, attached: AttachedCredential[]) => Promise<CanvasClient>;
}

/** Canvas is down or we may not read it: stop the run (progress so far is committed) and let the job retry. */
function isFatal(err: unknown): boolean {
  return err instanceof CanvasUnavailable || err instanceof CanvasAuthorizationRequired || !(err instanceof CanvasNotFound || err instanceof CanvasResponseError || err instanceof CanvasForbidden || err instanceof CanvasRequestError);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const now = (): string => new Date().toISOString();

/**
 * Reads Canvas for one course and brings every earner's progress up to date (docs/progress.md):
 * - full: `bulk_user_progress` (the roster and its progress counts), `students/submissions` for the evidence
 *   assignments, then `modules?student_id=` once per student;
 * - incremental: the same two listings (submissions only since the cursor), then `modules?student_id=` only for
 *   students whose progress counts changed (or who are new).
 * Each student's result is committed on its own, so an interrupted run resumes where it stopped.
 */
export class ProgressSync {
  private readonly o: ProgressOptions;
  private readonly log: Logger;

  constructor(private readonly deps: SyncDeps) {
    this.o = { ...DEFAULT_OPTIONS, ...deps.options };
    this.log = (deps.log ?? rootLogger).child({ component: 'progress-sync' });
  }

  get options(): ProgressOptions {
    return this.o;
  }

  client(course: CourseInfo, attached: AttachedCredential[]): Promise<CanvasClient> {
    return this.deps.clientFor ? this.deps.clientFor(course, attached) : backgroundClient(this.deps.canvas, course, attached);
  }

  async syncCourse(input: { tenantId: string; courseId: string; mode?: SyncMode | 'auto' }): Promise<SyncReport> {
    const started = Date.now();
    const repo = this.deps.repo;
    const { tenantId, courseId } = input;
    const report: SyncReport = { mode: 'skipped', resumed: false, educators: 0, modulesRead: 0, evidenceUpdated: 0, requests: 0, throttled: 0, pages: 0, durationMs: 0, issues: [] };
    const course = await repo.course(tenantId, courseId);
    const attached = course ? await repo.attached(tenantId, courseId) : [];
    if (!course?.canvasCourseId || attached.length === 0) {
      if (course) await repo.updateSyncState(tenantId, courseId, { status: 'idle', runId: null });
      return report;
    }
    const cc = course.canvasCourseId;
    const state = await repo.syncState(tenantId, courseId);
    const resuming = !!state?.runId && (state.status === 'running' || state.status === 'failed');
    let mode: SyncMode;
    if (resuming && state?.runMode) mode = state.runMode;
    else if (input.mode === 'full' || input.mode === 'incremental') mode = input.mode;
    else mode = !state?.lastFullSyncAt || !state.submittedSince || Date.now() - state.lastFullSyncAt.getTime() > this.o.fullSyncEveryHours * 3600_000 ? 'full' : 'incremental';
    // An incremental sync needs a cursor; without one it is a full sync.
    if (mode === 'incremental' && !state?.submittedSince) mode = 'full';
    const runId = resuming && state?.runId ? state.runId : crypto.randomUUID();
    const cursor = resuming && state?.runCursor ? state.runCursor : new Date(Date.now() - this.o.cursorSkewSeconds * 1000);
    report.mode = mode;
    report.resumed = resuming;
    const issues: SyncIssue[] = [];
    await repo.updateSyncState(tenantId, courseId, {
      status: 'running', runId, runMode: mode, runCursor: cursor, runStartedAt: resuming && state?.runStartedAt ? state.runStartedAt : new Date(),
      ...(resuming ? {} : { total: 0, done: 0 }), lastError: null,
    });

    let client: CanvasClient | undefined;
    try {
      client = await this.client(course, attached);
      // 1. The roster with Canvas's course-wide progress counts (one listing, staff only).
      const bulk = await client.bulkUserProgress(cc);
      const students = new Map<string, CanvasUserProgress>(bulk.map((b) => [b.id, b]));
      await repo.recordIdentities(tenantId, 'roster', bulk.map((b) => ({ canvasUserId: b.id, name: b.display_name })));
      const before = await repo.roster(tenantId, courseId);
      await repo.upsertRoster(tenantId, courseId, bulk.map((b) => ({ canvasUserId: b.id, name: b.display_name, requirementCount: b.progress.requirement_count, requirementCompletedCount: b.progress.requirement_completed_count, completedAt: b.progress.completed_at ?? null })));
      const gone = before.filter((r) => r.enrolled && !students.has(r.canvasUserId));
      if (gone.length) {
        await repo.markUnenrolled(tenantId, courseId, gone.map((r) => r.canvasUserId));
        const names = gone.slice(0, 3).map((r) => r.name ?? r.canvasUserId).join(', ');
        issues.push({ kind: 'unenrolled', at: now(), message: `${gone.length === 1 ? `${names} is` : `${gone.length} educators are`} no longer enrolled in the Canvas course${gone.length > 1 ? ` (${names}${gone.length > 3 ? ', …' : ''})` : ''}. Their progress and evidence are kept.` });
      }

      // 2. Evidence: one listing for every student and evidence assignment (only what changed since the cursor).
      const { submissions, missingAssignments } = await this.listEvidence(client, cc, attached, mode === 'incremental' ? (state?.submittedSince ?? undefined) : undefined);
      for (const a of attached.filter((x) => missingAssignments.has(x.assignmentId))) {
        issues.push({ kind: 'assignment_deleted', at: now(), message: `The evidence assignment of “${a.name}” (Canvas assignment ${a.assignmentId}) is no longer in Canvas or is unpublished. Evidence cannot be read until you attach a published assignment; what was read before is kept.` });
      }
      const evidence = new Map<string, Map<string, CanvasSubmission>>();
      for (const s of submissions) {
        let m = evidence.get(s.user_id);
        if (!m) evidence.set(s.user_id, (m = new Map()));
        m.set(s.assignment_id, s);
      }

      // 3. Whose modules to read.
      const roster = new Map((await repo.roster(tenantId, courseId)).map((r) => [r.canvasUserId, r]));
      const existing = groupBy(await repo.progressForCourse(tenantId, courseId), (p) => p.canvasUserId);
      const toRead: string[] = [];
      const evidenceOnly: string[] = [];
      for (const [id, b] of students) {
        const r = roster.get(id);
        if (r?.modulesReadRun === runId) continue; // done earlier in this (resumed) run
        const fp = progressFingerprint(b.progress);
        const rows = existing.get(id) ?? [];
        const changed = mode === 'full' || !r?.modulesReadAt || r.modulesFingerprint !== fp || rows.length < attached.length || rows.some((p) => !p.enrolled);
        if (changed) toRead.push(id);
        else if (evidence.has(id)) evidenceOnly.push(id);
      }
      report.educators = students.size;
      await repo.updateSyncState(tenantId, courseId, resuming ? { total: (state?.done ?? 0) + toRead.length } : { total: toRead.length, done: 0 });

      // 4. Students whose modules changed: one `modules?student_id=` each, committed one by one.
      const missingModules = new Map<string, Set<string>>();
      const moduleNames: Record<string, string> = {};
      let fatal: unknown;
      const c = client;
      await runPool(toRead, this.o.concurrency, () => fatal !== undefined, async (id) => {
        try {
          const modules = await c.listModules(cc, { studentId: id });
          for (const m of modules) moduleNames[m.id] = m.name;
          const fp = progressFingerprint((students.get(id) as CanvasUserProgress).progress);
          const evaluations = attached.map((a) => {
            const ev = evaluate({ moduleIds: a.moduleIds, assignmentId: a.assignmentId }, modules, this.evidenceFor(a, id, evidence, existing, missingAssignments), previousOf(existing, id, a.credentialId));
            for (const m of ev.missingModuleIds) {
              let set = missingModules.get(a.credentialId);
              if (!set) missingModules.set(a.credentialId, (set = new Set()));
              set.add(m);
            }
            return { a, ev };
          });
          await this.commit(tenantId, courseId, id, evaluations, existing, { fingerprint: fp, runId });
          report.modulesRead += 1;
        } catch (err) {
          if (isFatal(err)) {
            fatal ??= err;
            return;
          }
          const name = students.get(id)?.display_name ?? id;
          issues.push({ kind: 'educator_failed', canvasUserId: id, at: now(), message: `Could not read ${name}’s modules from Canvas (${describe(err)}). The next sync tries again.` });
        }
        await repo.advanceSync(tenantId, courseId, 1);
      });
      if (fatal !== undefined) throw fatal;

      // 5. Students with new evidence only: their modules did not change, the stored module results stand.
      for (const id of evidenceOnly) {
        const rows = existing.get(id) ?? [];
        const evaluations = attached.map((a) => {
          const row = rows.find((p) => p.credentialId === a.credentialId);
          const modules = row ? storedModules(row, a.moduleIds) : [];
          return { a, ev: evaluate({ moduleIds: a.moduleIds, assignmentId: a.assignmentId }, modules, this.evidenceFor(a, id, evidence, existing, missingAssignments), row) };
        });
        await this.commit(tenantId, courseId, id, evaluations, existing, undefined);
        report.evidenceUpdated += 1;
      }

      for (const a of attached) {
        const missing = missingModules.get(a.credentialId);
        if (missing?.size) {
          issues.push({ kind: 'module_deleted', at: now(), message: `“${a.name}” requires ${missing.size === 1 ? `module ${[...missing][0]}, which is` : `modules ${[...missing].join(', ')}, which are`} no longer in Canvas. Nobody can finish it until you attach it to modules that exist.` });
        }
      }
      report.issues = issues;
      await repo.rememberModuleNames(tenantId, courseId, moduleNames);
      this.fill(report, client, started);
      await repo.updateSyncState(tenantId, courseId, {
        status: 'idle', runId: null, runMode: null, runCursor: null, submittedSince: cursor, lastSyncAt: new Date(), ...(mode === 'full' ? { lastFullSyncAt: new Date() } : {}),
        lastDurationMs: report.durationMs, lastRequests: report.requests, requests: report.requests, throttled: report.throttled, issues, lastError: null, lastErrorAt: null,
      });
      this.log.info({ tenant: tenantId, course: courseId, mode, educators: report.educators, modulesRead: report.modulesRead, requests: report.requests, ms: report.durationMs }, 'course synced');
      return report;
    } catch (err) {
      // The run stays open (runId kept): the retried job resumes it. Nothing read so far is lost.
      const message = err instanceof CanvasAuthorizationRequired ? err.message : `${describe(err)} Progress read so far is saved; the sync continues automatically.`;
      const st = await repo.syncState(tenantId, courseId);
      issues.push({ kind: err instanceof CanvasAuthorizationRequired ? 'authorization' : err instanceof CanvasUnavailable ? 'canvas_unavailable' : 'bad_answer', at: now(), message });
      await repo.updateSyncState(tenantId, courseId, { status: 'failed', lastError: st?.total && !(err instanceof CanvasAuthorizationRequired) ? `${message} (${Math.min(st.done, st.total)} of ${st.total} educators read)` : message, lastErrorAt: new Date(), issues });
      this.log.warn({ tenant: tenantId, course: courseId, err: describe(err) }, 'course sync interrupted');
      throw err;
    }
  }

  /**
   * One earner, now (launch, Live Event): their modules and their evidence submissions, two requests.
   * Returns false when the course has nothing attached or does not know this person.
   */
  async refreshUser(input: { tenantId: string; courseId: string; canvasUserId: string }): Promise<boolean> {
    const repo = this.deps.repo;
    const course = await repo.course(input.tenantId, input.courseId);
    const attached = course ? await repo.attached(input.tenantId, input.courseId) : [];
    if (!course?.canvasCourseId || !attached.length) return false;
    const client = await this.client(course, attached);
    const cc = course.canvasCourseId;
    const id = input.canvasUserId;
    const modules = await client.listModules(cc, { studentId: id });
    await repo.rememberModuleNames(input.tenantId, input.courseId, Object.fromEntries(modules.map((m) => [m.id, m.name])));
    const { submissions, missingAssignments } = await this.listEvidence(client, cc, attached, undefined, [id]);
    const evidence = new Map([[id, new Map(submissions.filter((s) => s.user_id === id).map((s) => [s.assignment_id, s]))]]);
    const existing = groupBy(await repo.progressFor(input.tenantId, input.courseId, id), (p) => p.canvasUserId);
    const evaluations = attached.map((a) => ({ a, ev: evaluate({ moduleIds: a.moduleIds, assignmentId: a.assignmentId }, modules, this.evidenceFor(a, id, evidence, existing, missingAssignments), previousOf(existing, id, a.credentialId)) }));
    await this.commit(input.tenantId, input.courseId, id, evaluations, existing, undefined);
    return true;
  }

  /**
   * `students/submissions` for the evidence assignments. Canvas answers 403/404 for the whole listing when one
   * assignment was deleted or unpublished: then find which ones are gone, and list the others.
   */
  private async listEvidence(client: CanvasClient, cc: string, attached: AttachedCredential[], since: Date | undefined, studentIds?: string[]): Promise<{ submissions: CanvasSubmission[]; missingAssignments: Set<string> }> {
    let ids = [...new Set(attached.map((a) => a.assignmentId))];
    const missingAssignments = new Set<string>();
    const list = (assignmentIds: string[]) => client.listStudentSubmissions(cc, { studentIds: studentIds ?? 'all', assignmentIds, submittedSince: since, include: ['rubric_assessment'] });
    try {
      return { submissions: await list(ids), missingAssignments };
    } catch (err) {
      if (!(err instanceof CanvasForbidden || err instanceof CanvasNotFound)) throw err;
    }
    const present = new Set((await client.listAssignments(cc, { assignmentIds: ids, includeRubric: false })).filter((a) => a.published).map((a) => a.id));
    for (const id of ids) if (!present.has(id)) missingAssignments.add(id);
    ids = ids.filter((id) => present.has(id));
    return { submissions: ids.length ? await list(ids) : [], missingAssignments };
  }

  /** What Canvas said now, else (not in this listing, or the assignment is gone) what we knew before. */
  private evidenceFor(a: AttachedCredential, id: string, evidence: Map<string, Map<string, CanvasSubmission>>, existing: Map<string, CredentialProgressRow[]>, missingAssignments: Set<string>): EvidenceFacts {
    const sub = missingAssignments.has(a.assignmentId) ? undefined : evidence.get(id)?.get(a.assignmentId);
    if (sub) return evidenceOf(sub);
    const row = existing.get(id)?.find((p) => p.credentialId === a.credentialId);
    if (!row) return evidenceOf(undefined);
    return { state: row.evidenceState, submissionId: row.evidenceSubmissionId, attempt: row.evidenceAttempt, submittedAt: row.evidenceSubmittedAt?.toISOString() ?? null };
  }

  /** One earner's results in one transaction, with the snapshot jobs their new evidence needs. */
  private async commit(
    tenantId: string,
    courseId: string,
    canvasUserId: string,
    evaluations: { a: AttachedCredential; ev: ReturnType<typeof evaluate> }[],
    existing: Map<string, CredentialProgressRow[]>,
    modulesRead: { fingerprint: string; runId: string } | undefined,
  ): Promise<void> {
    await this.deps.repo.transaction(async (repo, tx) => {
      for (const { a, ev } of evaluations) {
        const saved = await repo.saveProgress(tenantId, courseId, a.credentialId, canvasUserId, ev, true);
        const before = existing.get(canvasUserId)?.find((p) => p.credentialId === a.credentialId);
        if (snapshotDue(ev, saved.snapshotAttempt ?? before?.snapshotAttempt ?? null)) await this.deps.enqueueSnapshot({ tenantId, courseId, credentialId: a.credentialId, canvasUserId }, tx);
        if (this.deps.afterSave) await this.deps.afterSave({ tx, tenantId, courseId, credentialId: a.credentialId, canvasUserId, evaluation: ev, saved });
      }
      if (modulesRead) await repo.markModulesRead(tenantId, courseId, canvasUserId, modulesRead);
    });
  }

  private fill(report: SyncReport, client: CanvasClient, started: number): void {
    report.requests = client.stats.requests;
    report.throttled = client.stats.throttled;
    report.pages = client.stats.pages;
    report.durationMs = Date.now() - started;
  }
}

function previousOf(existing: Map<string, CredentialProgressRow[]>, id: string, credentialId: string) {
  return existing.get(id)?.find((p) => p.credentialId === credentialId);
}

/** The module results stored for an earner, as the engine reads modules: done, not done, or missing in Canvas. */
function storedModules(row: CredentialProgressRow, requiredIds: string[]): Pick<CanvasModule, 'id' | 'state' | 'completed_at'>[] {
  const done = new Set(row.doneModuleIds);
  const missing = new Set(row.missingModuleIds);
  return requiredIds.filter((id) => !missing.has(id)).map((id) => ({ id, state: done.has(id) ? ('completed' as const) : ('unlocked' as const), completed_at: null }));
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of list) {
    const k = key(x);
    const arr = out.get(k);
    if (arr) arr.push(x);
    else out.set(k, [x]);
  }
  return out;
}

/** Runs `fn` over `items` with at most `n` at once; stops taking new items once `stop()` says so. */
export async function runPool<T>(items: T[], n: number, stop: () => boolean, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}
