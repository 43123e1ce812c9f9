import crypto from 'node:crypto';
import { z } from 'zod';
import type { Database, Orm } from '../db/database';
import type { Badges } from '../badges/service';
import type { EvidenceInput } from '../badges/credential';
import type { CanvasAccess } from '../canvas/access';
import type { JobQueue } from '../jobs/queue';
import type { SessionContext } from '../lti/sessions';
import type { LtiServiceToken } from '../lti/ltijsTypes';
import { logger } from '../log';
import { authorize } from '../policies';
import { parseInput } from '../catalog/model';
import type { EvidenceSnapshot, OnAward, ReviewDeps } from '../review/ports';
import type { ReviewItemRow, ReviewRow } from '../review/schema';
import type { AfterProgressSave } from '../progress/sync';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../web/errors';
import { AgsClient, type AgsOptions, type AgsPlatform } from './ags';
import { awardCredential, PASSBACK_JOB, type AwardInput, type AwardOutcome, type PassbackJobData } from './award';
import { runAwardPassback } from './passback';
import { NOT_YET_JOB, runNotYetNotice, type NotYetJobData } from './notYet';
import { AwardRepository } from './repository';
import type { PassbackKind, PassbackState } from './schema';

/**
 * Awards as one object for the app (docs/awards.md): the award command and its sources (review decision,
 * automatic mode, stacks, bulk), the outbox jobs that tell Canvas, and the designers' and earners' commands.
 */

export interface AwardsOptions {
  /** Tries of a passback job (pg-boss retries with exponential backoff from `retryDelaySeconds`). */
  retryLimit: number;
  retryDelaySeconds: number;
  ags: AgsOptions;
}

export const DEFAULT_AWARDS_OPTIONS: AwardsOptions = { retryLimit: 8, retryDelaySeconds: 30, ags: { timeoutMs: 15_000, retries: 3, backoffMs: 300 } };

export interface AwardsDeps {
  db: Database;
  badges: Badges;
  jobs: JobQueue;
  canvas: CanvasAccess | null;
  publicUrl: string;
  /** The platform registration (ltijs) for the AGS grant. */
  platform: (issuer: string, clientId: string) => Promise<AgsPlatform | undefined>;
  options?: Partial<AwardsOptions>;
}

export const BulkAwardSchema = z.object({
  credentialId: z.uuid({ message: 'Choose a micro-credential.' }),
  reason: z.string({ message: 'Give a reason for the bulk award.' }).trim().min(1, 'Give a reason for the bulk award.').max(2000, 'Keep the reason under 2,000 characters.'),
  earners: z.array(z.string().regex(/^\d{1,20}$/, 'Canvas user ids are digits.'), { message: 'Choose at least one educator.' }).min(1, 'Choose at least one educator.').max(500, 'Award at most 500 educators at once.'),
});
export const AwardModeSchema = z.object({ mode: z.enum(['review', 'automatic'], { message: 'Choose review or automatic.' }) });
export const NextLevelSchema = z.object({
  action: z.enum(['enroll', 'unlock_module', 'none'], { message: 'Choose enroll, unlock_module or none.' }),
  canvasCourseId: z.string().regex(/^\d{1,20}$/, 'Canvas course ids are digits.').optional(),
  canvasModuleId: z.string().regex(/^\d{1,20}$/, 'Canvas module ids are digits.').optional(),
});
export const RevokeSchema = z.object({ reason: z.string({ error: 'Say why the award is revoked.' }).trim().min(1, { error: 'Say why the award is revoked.' }).max(1000) });

export const PreferencesSchema = z.object({ notifyAward: z.boolean().optional(), notifyNotYet: z.boolean().optional() }).strict();

const KIND_LABELS: Record<PassbackKind, string> = { ags_score: 'Grade (AGS score)', rubric_assessment: 'Rubric and comment', notification: 'Message to the educator', next_level: 'Next level in Canvas' };
const STATE_LABELS: Record<PassbackState, string> = { pending: 'Waiting', sent: 'Sent', retrying: 'Retrying', failed: 'Failed', skipped: 'Not needed' };
const SOURCE_LABELS = { review: 'Review', automatic: 'Automatic', stack: 'Stack', bulk: 'Bulk award' } as const;

export class Awards {
  readonly repo: AwardRepository;
  readonly ags: AgsClient;
  readonly options: AwardsOptions;
  private readonly log = logger.child({ component: 'awards' });
  /** Per earner: the last award of theirs queued in this process (see `award`). */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(private readonly deps: AwardsDeps) {
    this.repo = new AwardRepository(deps.db.orm);
    this.options = { ...DEFAULT_AWARDS_OPTIONS, ...deps.options, ags: { ...DEFAULT_AWARDS_OPTIONS.ags, ...deps.options?.ags } };
    this.ags = new AgsClient(this.options.ags);
  }

  /** Declares the outbox jobs (before the queue starts). Stately: one run at a time per passback. */
  defineJobs(): void {
    this.deps.jobs.define<PassbackJobData>({
      name: PASSBACK_JOB, policy: 'stately', retryLimit: this.options.retryLimit, retryDelaySeconds: this.options.retryDelaySeconds,
      // A passback is a few Canvas calls (15 s timeout each): a job held by an instance that died is retried after 2 minutes.
      expireInSeconds: 120, concurrency: 8, pollingIntervalSeconds: 0.5,
      handler: async (data) => void (await this.runPassback(data)),
    });
    this.deps.jobs.define<NotYetJobData>({
      name: NOT_YET_JOB, policy: 'stately', retryLimit: this.options.retryLimit, retryDelaySeconds: this.options.retryDelaySeconds, concurrency: 2, pollingIntervalSeconds: 0.5,
      handler: async (data) => void (await runNotYetNotice({ repo: this.repo, canvas: this.deps.canvas, maxAttempts: this.options.retryLimit + 1 }, data)),
    });
  }

  /** One passback job (the queue's handler; tests call it to replay one). */
  runPassback(job: PassbackJobData) {
    return runAwardPassback({ repo: this.repo, canvas: this.deps.canvas, ags: this.ags, platform: this.deps.platform, publicUrl: this.deps.publicUrl, maxAttempts: this.options.retryLimit + 1 }, job);
  }

  /** Awards running in this process now (outside callers' transactions). */
  private inFlight = 0;

  /**
   * The award command (award.ts) with this app's credential engine and queue. Outside a caller's transaction, one
   * earner's awards take turns in this process before they open one: duplicates waiting on the earner's database
   * lock would otherwise hold every pooled connection while the first still needs one to count its status slot.
   */
  award(input: AwardInput, opts: { tx?: Orm } = {}): Promise<AwardOutcome> {
    if (opts.tx) return awardCredential({ orm: this.deps.db.orm, badges: this.deps.badges, jobs: this.deps.jobs }, input, opts);
    const run = async () => {
      // The signing key, and status slots for this award, a stack it may complete and the others running beside it,
      // read and reserved before the transaction holds a pooled connection (so an award never waits on the pool
      // while holding one: eight bulk requests on a pool of five did, until the connection timeout).
      this.inFlight += 1;
      try {
        await this.deps.badges.prepareIssue(input.tenantId, 2 * this.inFlight + 2);
        return await awardCredential({ orm: this.deps.db.orm, badges: this.deps.badges, jobs: this.deps.jobs }, input, opts);
      } finally {
        this.inFlight -= 1;
      }
    };
    const key = `${input.tenantId}:${input.earnerId}`;
    const previous = this.turns.get(key) ?? Promise.resolve();
    const mine = previous.then(run, run);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(key, settled);
    void settled.then(() => {
      if (this.turns.get(key) === settled) this.turns.delete(key);
    });
    return mine;
  }

  // ---- sources ------------------------------------------------------------------------------------------------

  /** The review's award hook: runs in the decision's transaction, with the rubric scores and the evidence hashes. */
  readonly onReviewAward: OnAward = async (reviewDeps: ReviewDeps, e: { tx: Orm; item: ReviewItemRow; decision: ReviewRow }) => {
    const snapshot = await reviewDeps.evidence.snapshot(e.item.tenantId, e.item.snapshotId, e.tx);
    await this.award(
      {
        tenantId: e.item.tenantId, earnerId: e.item.earnerId, achievement: { versionId: e.item.versionId }, courseId: e.item.courseId, source: 'review',
        reviewItemId: e.item.id, awardedBy: e.decision.reviewerId,
        results: Object.entries(e.decision.scores).map(([criterionId, levelId]) => ({ criterionId, levelId })),
        evidence: snapshot ? evidenceOf(snapshot) : [],
        narrative: `Reviewed against the rubric (attempt ${e.item.attempt}).`,
        points: e.decision.total ?? null,
      },
      { tx: e.tx },
    );
  };

  /** The review's “not yet” hook: queues the message to the educator in the decision's transaction. */
  readonly onReviewNotYet = async (_deps: ReviewDeps, e: { tx: Orm; item: ReviewItemRow }) => {
    await this.repo.with(e.tx).insertNotYetNotice(e.item.tenantId, e.item.id, e.item.earnerId);
    await this.deps.jobs.send<NotYetJobData>(NOT_YET_JOB, { tenantId: e.item.tenantId, itemId: e.item.id }, { tx: e.tx, singletonKey: e.item.id });
  };

  /**
   * The progress engine's hook after it saves an earner's progress: in automatic mode, every required module done
   * awards the credential (in a savepoint of the progress transaction, so a refusal never loses the progress).
   */
  readonly afterProgressSave: AfterProgressSave = async (e) => {
    const ev = e.evaluation;
    if (e.saved.state === 'awarded' || ev.modulesTotal === 0 || ev.modulesDone < ev.modulesTotal || ev.missingModuleIds.length) return;
    const repo = this.repo.with(e.tx);
    if ((await repo.awardMode(e.tenantId, e.credentialId)) !== 'automatic') return;
    const c = await repo.credential(e.tenantId, e.credentialId);
    if (!c || c.credential.state !== 'published' || !c.version?.publishedAt) return;
    try {
      await e.tx.transaction(async (sp) => {
        const r = this.repo.with(sp as unknown as Orm);
        const earner = await r.earnerByCanvasId(e.tenantId, e.canvasUserId);
        if (!earner) return;
        await this.award({ tenantId: e.tenantId, earnerId: earner.id, achievement: { versionId: c.version!.id }, courseId: e.courseId, source: 'automatic', narrative: 'Every required module completed in Canvas.' }, { tx: sp as unknown as Orm });
      });
    } catch (err) {
      this.log.warn({ err, tenant: e.tenantId, credential: e.credentialId }, 'automatic award failed; the next sync tries again');
    }
  };

  /** After a launch: keep the course's AGS line-item container (grades go back long after the session ends). */
  async rememberLaunch(l: { tenantId: string; courseId: string | null; idtoken?: LtiServiceToken }): Promise<void> {
    const ags = l.idtoken?.platformContext?.endpoint;
    if (!l.courseId || !ags?.lineitems) return;
    await this.repo.rememberLineitems(l.tenantId, l.courseId, ags.lineitems, ags.scope ?? []);
  }

  // ---- designers ------------------------------------------------------------------------------------------------

  /** A bulk award (designers of the credential's course, admins): each educator in a transaction of their own. */
  async bulkAward(ctx: SessionContext, body: unknown) {
    const input = parseInput(BulkAwardSchema, body, 'The bulk award needs a micro-credential, a reason and at least one educator.');
    const c = await this.ownedCredential(ctx, input.credentialId);
    if (c.credential.state !== 'published' || !c.version?.publishedAt) throw new InvalidInputError('Publish the micro-credential before awarding it.', { credentialId: 'This micro-credential is not published.' });
    const out = { awarded: [] as { canvasUserId: string; awardId: string; credentialUrl: string; stacks: string[] }[], alreadyHeld: [] as { canvasUserId: string; awardId: string }[], skipped: [] as { canvasUserId: string; reason: string }[] };
    for (const canvasUserId of [...new Set(input.earners)]) {
      const earner = await this.repo.earnerByCanvasId(ctx.tenant.id, canvasUserId);
      if (!earner) {
        out.skipped.push({ canvasUserId, reason: 'microcred does not know this educator yet (they have not opened microcred, and no roster sync has named them).' });
        continue;
      }
      if (earner.id === ctx.user.id && !ctx.roles.includes('admin')) {
        out.skipped.push({ canvasUserId, reason: 'You cannot award yourself.' });
        continue;
      }
      const r = await this.award({ tenantId: ctx.tenant.id, earnerId: earner.id, achievement: { versionId: c.version.id }, courseId: ctx.course?.id ?? null, source: 'bulk', awardedBy: ctx.user.id, reason: input.reason });
      if (r.created) out.awarded.push({ canvasUserId, awardId: r.award.id, credentialUrl: `${this.deps.publicUrl}/credentials/${r.award.issuedCredentialId}`, stacks: r.stacks.map((s) => s.award.id) });
      else out.alreadyHeld.push({ canvasUserId, awardId: r.award.id });
    }
    return out;
  }

  async getMode(ctx: SessionContext, credentialId: string) {
    await this.visibleCredential(ctx, credentialId);
    return { credentialId, mode: await this.repo.awardMode(ctx.tenant.id, credentialId) };
  }

  async setMode(ctx: SessionContext, credentialId: string, body: unknown) {
    const { mode } = parseInput(AwardModeSchema, body);
    await this.ownedCredential(ctx, credentialId);
    await this.repo.setAwardMode(ctx.tenant.id, credentialId, mode, ctx.user.id);
    return { credentialId, mode };
  }

  async getNextLevel(ctx: SessionContext, stackId: string) {
    const stack = await this.repo.stack(ctx.tenant.id, stackId);
    if (!stack) throw new NotFoundError('stack');
    const level = await this.repo.nextLevel(ctx.tenant.id, stackId);
    return { stackId, nextLevel: level ? { action: level.action, canvasCourseId: level.canvasCourseId, canvasModuleId: level.canvasModuleId } : null };
  }

  async setNextLevel(ctx: SessionContext, stackId: string, body: unknown) {
    const input = parseInput(NextLevelSchema, body);
    const stack = await this.repo.stack(ctx.tenant.id, stackId);
    if (!stack) throw new NotFoundError('stack');
    authorize(ctx, 'stack.change', stack);
    if (input.action === 'none') {
      await this.repo.setNextLevel(ctx.tenant.id, stackId, null);
      return { stackId, nextLevel: null };
    }
    if (!input.canvasCourseId) throw new InvalidInputError('Which Canvas course opens next?', { canvasCourseId: 'Give the Canvas course id of the next level.' });
    if (input.action === 'unlock_module' && !input.canvasModuleId) throw new InvalidInputError('Which module opens next?', { canvasModuleId: 'Give the Canvas module id to unlock.' });
    const v = { action: input.action, canvasCourseId: input.canvasCourseId, canvasModuleId: input.action === 'unlock_module' ? input.canvasModuleId! : null };
    await this.repo.setNextLevel(ctx.tenant.id, stackId, v);
    return { stackId, nextLevel: v };
  }

  /**
   * Revokes an award (designers of its course, admins; a reason is required): the credential is revoked on the
   * status list, so verifiers see it at once; the award says why; the CEU ledger gets a reversing entry, so the
   * transcript keeps both lines. Revoking again changes nothing.
   */
  async revokeAward(ctx: SessionContext, awardId: string, body: unknown) {
    const { reason } = parseInput(RevokeSchema, body);
    const award = await this.repo.award(ctx.tenant.id, awardId);
    if (!award) throw new NotFoundError('award');
    if (!ctx.roles.includes('admin') && (!award.courseId || award.courseId !== ctx.course?.id)) throw new ForbiddenError('Only the designers of the course the award was made in can revoke it.');
    return this.revoke(ctx.tenant.id, award.id, reason);
  }

  /** The revocation itself (also used by district tooling): idempotent. */
  async revoke(tenantId: string, awardId: string, reason: string) {
    const why = reason.trim();
    if (!why) throw new InvalidInputError('Say why the award is revoked.', { reason: 'Say why the award is revoked.' });
    const award = await this.repo.award(tenantId, awardId);
    if (!award) throw new NotFoundError('award');
    if (award.issuedCredentialId) await this.deps.badges.revoke(award.issuedCredentialId, why, { tenantId });
    await this.deps.db.orm.transaction(async (tx) => {
      const repo = this.repo.with(tx);
      const revoked = await repo.markRevoked(tenantId, award.id, why);
      if (revoked) await repo.reverseLedger(tenantId, award.id);
    });
    return { id: award.id, revoked: true, reason: why };
  }

  /** Queues a passback again (designers of the award's course, admins). */
  async retryPassback(ctx: SessionContext, passbackId: string) {
    const row = await this.repo.passback(ctx.tenant.id, passbackId);
    if (!row) throw new NotFoundError('passback');
    const award = (await this.repo.award(ctx.tenant.id, row.awardId))!;
    if (!ctx.roles.includes('admin') && (!award.courseId || award.courseId !== ctx.course?.id)) throw new ForbiddenError('Only the designers of the course the award was made in can retry it.');
    if (row.state === 'sent') throw new ConflictError('Canvas already has this one.');
    await this.repo.updatePassback(ctx.tenant.id, row.id, { state: 'pending', attempts: 0, lastError: null });
    await this.deps.jobs.send<PassbackJobData>(PASSBACK_JOB, { tenantId: ctx.tenant.id, passbackId: row.id }, { singletonKey: row.id });
    return presentPassback({ ...row, state: 'pending', attempts: 0, lastError: null });
  }

  /** The course's awards and how each reached Canvas (the designers' page and its JSON). */
  async courseView(ctx: SessionContext) {
    if (!ctx.course) throw new InvalidInputError('Open microcred from a course to see its awards.');
    const rows = await this.repo.courseAwards(ctx.tenant.id, ctx.course.id);
    const credentials = await this.attachedCredentials(ctx);
    return {
      course: { id: ctx.course.id, title: ctx.course.title },
      credentials,
      awards: rows.map((r) => ({
        id: r.award.id,
        earner: r.earnerName ?? 'Educator',
        achievement: r.credentialName ?? r.stackName ?? '',
        kind: r.award.stackId ? ('stack' as const) : ('credential' as const),
        source: r.award.source,
        sourceLabel: SOURCE_LABELS[r.award.source],
        reason: r.award.reason,
        awardedAt: r.award.awardedAt.toISOString(),
        credentialUrl: r.award.issuedCredentialId ? `${this.deps.publicUrl}/credentials/${r.award.issuedCredentialId}` : null,
        passbacks: r.passbacks.map(presentPassback),
      })),
      counts: countStates(rows.flatMap((r) => r.passbacks.map((p) => p.state))),
    };
  }

  /** The course's published micro-credentials with their award mode, and the educators on its roster (bulk page). */
  async attachedCredentials(ctx: SessionContext) {
    if (!ctx.course) return [];
    const rows = await this.deps.db.sql.query<{ id: string; name: string; state: string; mode: string | null }>(
      `SELECT mc.id, v.name, mc.state, s.mode FROM micro_credentials mc JOIN micro_credential_versions v ON v.id = mc.current_version_id
         LEFT JOIN award_settings s ON s.credential_id = mc.id AND s.tenant_id = mc.tenant_id
        WHERE mc.tenant_id = $1 AND mc.course_id = $2 AND mc.state = 'published' ORDER BY v.name`,
      [ctx.tenant.id, ctx.course.id],
    );
    return rows.rows.map((r) => ({ id: r.id, name: r.name, mode: (r.mode ?? 'review') as 'review' | 'automatic' }));
  }

  async roster(ctx: SessionContext): Promise<{ canvasUserId: string; name: string }[]> {
    if (!ctx.course) return [];
    const rows = await this.deps.db.sql.query<{ canvas_user_id: string; name: string | null }>(
      `SELECT r.canvas_user_id, coalesce(i.name, r.name, u.name) AS name FROM progress_roster r
         LEFT JOIN canvas_identities i ON i.tenant_id = r.tenant_id AND i.canvas_user_id = r.canvas_user_id
         LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.canvas_user_id = r.canvas_user_id
        WHERE r.tenant_id = $1 AND r.course_id = $2 AND r.enrolled
       UNION
       SELECT u.canvas_user_id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.course_id = $2 AND u.canvas_user_id IS NOT NULL AND m.lti_roles::text ILIKE '%membership#Learner%'
       ORDER BY 2, 1`,
      [ctx.tenant.id, ctx.course.id],
    );
    const seen = new Set<string>();
    return rows.rows.filter((r) => !seen.has(r.canvas_user_id) && seen.add(r.canvas_user_id)).map((r) => ({ canvasUserId: r.canvas_user_id, name: r.name ?? `Canvas user ${r.canvas_user_id}` }));
  }

  // ---- earners --------------------------------------------------------------------------------------------------

  async preferences(ctx: SessionContext) {
    return this.repo.preferences(ctx.tenant.id, ctx.user.id);
  }

  async setPreferences(ctx: SessionContext, body: unknown) {
    const input = parseInput(PreferencesSchema, body, 'Send notifyAward and/or notifyNotYet as true or false.');
    if (input.notifyAward !== undefined || input.notifyNotYet !== undefined) await this.repo.setPreferences(ctx.tenant.id, ctx.user.id, input);
    return this.repo.preferences(ctx.tenant.id, ctx.user.id);
  }

  // ---- helpers --------------------------------------------------------------------------------------------------

  private async visibleCredential(ctx: SessionContext, credentialId: string) {
    const c = await this.repo.credential(ctx.tenant.id, credentialId);
    if (!c) throw new NotFoundError('micro-credential');
    authorize(ctx, 'credential.view', c.credential);
    return c;
  }

  /** A credential this person may award or configure: its course's designers, or an admin. */
  private async ownedCredential(ctx: SessionContext, credentialId: string) {
    const c = await this.repo.credential(ctx.tenant.id, credentialId);
    if (!c) throw new NotFoundError('micro-credential');
    authorize(ctx, 'credential.change', c.credential);
    return c as typeof c & { version: NonNullable<typeof c.version> };
  }
}

/** The evidence the reviewer scored, as hashes: each stored file, and the text and link of the submission. */
export function evidenceOf(s: EvidenceSnapshot): EvidenceInput[] {
  const sha = (v: string) => crypto.createHash('sha256').update(v, 'utf8').digest('hex');
  const out: EvidenceInput[] = s.attachments.filter((a) => /^[0-9a-f]{64}$/i.test(a.sha256)).map((a, i) => ({ sha256: a.sha256.toLowerCase(), name: `Evidence file ${i + 1}`, description: a.contentType, genre: 'File' }));
  if (s.text?.trim()) out.push({ sha256: sha(s.text), name: 'Written evidence', genre: 'Text' });
  if (s.url?.trim()) out.push({ sha256: sha(s.url), name: 'Linked evidence', genre: 'Link' });
  return out;
}

export function presentPassback(p: { id: string; kind: PassbackKind; state: PassbackState; attempts: number; lastError: string | null; sentAt?: Date | null; updatedAt?: Date }) {
  return { id: p.id, kind: p.kind, kindLabel: KIND_LABELS[p.kind], state: p.state, stateLabel: STATE_LABELS[p.state], attempts: p.attempts, lastError: p.lastError, sentAt: p.sentAt?.toISOString() ?? null, retryable: p.state === 'failed' || p.state === 'retrying' || p.state === 'pending' };
}

function countStates(states: PassbackState[]): Record<PassbackState, number> {
  const out: Record<PassbackState, number> = { pending: 0, sent: 0, retrying: 0, failed: 0, skipped: 0 };
  for (const s of states) out[s]++;
  return out;
}
