import type { Orm } from '../db/database';
import type { Badges } from '../badges/service';
import type { EvidenceInput, ResultInput } from '../badges/credential';
import type { JobQueue } from '../jobs/queue';
import { isStackEarned } from '../catalog/rules';
import { InvalidInputError, NotFoundError } from '../web/errors';
import { AwardRepository } from './repository';
import type { AwardRow, AwardSource, PassbackKind } from './schema';

/**
 * The award command (docs/awards.md): one transaction writes the award, its CEU ledger entry, the signed
 * credential, the earner's progress (`awarded`) and the outbox (passback rows and their jobs), then awards every
 * stack the new award completes. Exactly once per earner and version (or stack): a retry or a concurrent
 * duplicate finds the unique index taken and answers the award that exists.
 */

export const PASSBACK_JOB = 'awards.passback';
export interface PassbackJobData { tenantId: string; passbackId: string }

export interface AwardDeps {
  orm: Orm;
  badges: Badges;
  /** Null only where nothing must reach Canvas (unit tests, the benchmark's signing figure). */
  jobs: JobQueue | null;
}

export interface AwardInput {
  tenantId: string;
  /** users.id of the earner. */
  earnerId: string;
  achievement: { versionId: string } | { stackId: string };
  /** The course the award is made in (its gradebook gets the score); null for a district-level award. */
  courseId: string | null;
  source: AwardSource;
  reviewItemId?: string | null;
  awardedBy?: string | null;
  reason?: string | null;
  /** Rubric scores → the credential's `result[]`. */
  results?: ResultInput[];
  /** Evidence snapshot hashes → the credential's `evidence[]`. */
  evidence?: EvidenceInput[];
  narrative?: string;
  /** Rubric points for the AGS score (a review's total); without them the score is full marks. */
  points?: number | null;
  /** The reviewing organisation (`credentialSubject.source`); default: the district. */
  sourceOrganisation?: { name: string; url?: string };
  awardedAt?: Date;
}

export interface AwardOutcome {
  award: AwardRow;
  /** False when the earner already held it (a retry or a duplicate): nothing was written. */
  created: boolean;
  /** Stack awards this one completed (made in the same transaction). */
  stacks: AwardOutcome[];
}

/** Published versions never change: what the award needs of one is kept (per process). */
const publishedVersions = new Map<string, { tenantId: string; credentialId: string; versionId: string; hours: number; title: string }>();
/** The district's name and Canvas URL (the credential's reviewing organisation), kept 30 s. */
const tenants = new Map<string, { at: number; name: string; canvasBaseUrl: string | null }>();
async function tenantOf(repo: AwardRepository, tenantId: string): Promise<{ name: string; canvasBaseUrl: string | null }> {
  const hit = tenants.get(tenantId);
  if (hit && Date.now() - hit.at < 30_000) return hit;
  const row = (await repo.tenant(tenantId))!;
  const v = { at: Date.now(), name: row.name, canvasBaseUrl: row.canvasBaseUrl };
  tenants.set(tenantId, v);
  return v;
}

/** Awards in the caller's transaction (`tx`, e.g. a review decision's) or in a new one. */
export async function awardCredential(deps: AwardDeps, input: AwardInput, opts: { tx?: Orm } = {}): Promise<AwardOutcome> {
  if (opts.tx) return awardIn(deps, new AwardRepository(opts.tx), opts.tx, input);
  return deps.orm.transaction((tx) => awardIn(deps, new AwardRepository(tx as unknown as Orm), tx as unknown as Orm, input));
}

async function awardIn(deps: AwardDeps, repo: AwardRepository, tx: Orm, input: AwardInput): Promise<AwardOutcome> {
  if (input.source === 'bulk' && !input.reason?.trim()) throw new InvalidInputError('Say why these educators are awarded without review.', { reason: 'Give a reason for the bulk award.' });
  await repo.lockEarner(input.tenantId, input.earnerId);
  const held = await repo.existingAward(input.tenantId, input.earnerId, input.achievement);
  if (held) return { award: held, created: false, stacks: [] };

  const earner = await repo.user(input.tenantId, input.earnerId);
  if (!earner) throw new NotFoundError('educator');
  let what: { credentialId: string | null; versionId: string | null; stackId: string | null; hours: number; title: string };
  if ('versionId' in input.achievement) {
    let v = publishedVersions.get(input.achievement.versionId);
    if (!v) {
      const row = await repo.publishedVersion(input.tenantId, input.achievement.versionId);
      if (!row) throw new NotFoundError('published micro-credential version');
      v = { tenantId: row.version.tenantId, credentialId: row.version.credentialId, versionId: row.version.id, hours: Number(row.version.hours), title: row.version.name };
      if (publishedVersions.size > 1000) publishedVersions.clear();
      publishedVersions.set(v.versionId, v);
    }
    if (v.tenantId !== input.tenantId) throw new NotFoundError('published micro-credential version');
    what = { credentialId: v.credentialId, versionId: v.versionId, stackId: null, hours: v.hours, title: v.title };
  } else {
    const s = await repo.stack(input.tenantId, input.achievement.stackId);
    if (!s || s.state !== 'published') throw new NotFoundError('published stack');
    what = { credentialId: null, versionId: null, stackId: s.id, hours: 0, title: s.name };
  }

  const awardedAt = new Date(Math.floor((input.awardedAt ?? new Date()).getTime() / 1000) * 1000);
  const award = await repo.insertAward({
    tenantId: input.tenantId, earnerId: input.earnerId, courseId: input.courseId, credentialId: what.credentialId, versionId: what.versionId, stackId: what.stackId,
    source: input.source, reviewItemId: input.reviewItemId ?? null, awardedBy: input.awardedBy ?? null, reason: input.reason?.trim() || null, hours: what.hours, awardedAt,
  });
  if (!award) {
    // Another transaction of the same earner committed it between our check and the insert.
    const existing = await repo.existingAward(input.tenantId, input.earnerId, input.achievement);
    return { award: existing!, created: false, stacks: [] };
  }

  const tenant = await tenantOf(repo, input.tenantId);
  const issued = await deps.badges.issueOpenBadge(
    {
      tenantId: input.tenantId,
      earner: { userId: earner.id, email: earner.email, name: earner.name, showName: false },
      achievement: input.achievement,
      awardId: award.id,
      awardedAt,
      results: input.results ?? [],
      evidence: input.evidence ?? [],
      narrative: input.narrative,
      source: input.sourceOrganisation ?? { name: tenant.name, ...(tenant.canvasBaseUrl ? { url: tenant.canvasBaseUrl } : {}) },
    },
    { tx },
  );
  await repo.setIssuedCredential(input.tenantId, award.id, issued.id);
  award.issuedCredentialId = issued.id;

  if (what.hours > 0) {
    await repo.insertLedger({ tenantId: input.tenantId, earnerId: earner.id, awardId: award.id, kind: 'earned', title: what.title, hours: what.hours, ceus: Math.round(what.hours * 100) / 1000, earnedOn: awardedAt.toISOString().slice(0, 10) });
  }
  if (what.credentialId && earner.canvasUserId) await repo.markProgressAwarded(input.tenantId, what.credentialId, earner.canvasUserId);

  // The outbox: what Canvas must still hear, as visible rows, each with its job (sent only if this commits).
  const kinds: { kind: PassbackKind; payload?: Record<string, unknown> }[] = [];
  if (what.versionId && input.courseId) kinds.push({ kind: 'ags_score', payload: { points: input.points ?? null } });
  if (what.versionId && input.courseId && input.reviewItemId) kinds.push({ kind: 'rubric_assessment' });
  kinds.push({ kind: 'notification' });
  if (what.stackId && (await repo.nextLevel(input.tenantId, what.stackId))) kinds.push({ kind: 'next_level' });
  for (const k of kinds) {
    const row = await repo.insertPassback({ tenantId: input.tenantId, awardId: award.id, kind: k.kind, payload: k.payload });
    if (row && deps.jobs) await deps.jobs.send<PassbackJobData>(PASSBACK_JOB, { tenantId: input.tenantId, passbackId: row.id }, { tx, singletonKey: row.id });
  }

  // Stacks this award completes, in the same transaction.
  const stacks: AwardOutcome[] = [];
  if (what.credentialId) {
    const candidates = await repo.publishedStacksWith(input.tenantId, what.credentialId);
    if (candidates.length) {
      const earned = await repo.earnedCredentialIds(input.tenantId, earner.id);
      for (const c of candidates) {
        const shape = { kind: c.stack.kind, requiredCount: c.stack.requiredCount, members: c.members.map((m) => ({ credentialId: m.credentialId, prerequisiteIds: m.prerequisiteIds })) };
        if (!isStackEarned(shape, earned)) continue;
        const out = await awardIn(deps, repo, tx, { tenantId: input.tenantId, earnerId: earner.id, achievement: { stackId: c.stack.id }, courseId: input.courseId, source: 'stack', awardedBy: input.awardedBy ?? null, awardedAt });
        if (out.created) stacks.push(out);
      }
    }
  }
  return { award, created: true, stacks };
}
