import type { SessionContext } from '../lti/sessions';
import { evaluate } from '../catalog/rules';
import type { Rubric } from '../catalog/model';
import { AppError, NotFoundError } from '../web/errors';
import { fileHeaders, formatSize, htmlToText, paragraphs, safeHttpUrl, viewerKind } from './evidence';
import type { QueueQuery } from './model';
import type { EvidenceSnapshot, ReviewDeps } from './ports';
import type { QueueRow, ReviewRepository, ReviewScope } from './repository';
import type { ReviewItemRow } from './schema';
import { conflictOf, itemFor, presentEvaluation, presentReview, repoOf, reviewScope } from './service';

/** What the queue, the review page, the earner's page and their JSON show. Reading an item's evidence is audited. */

export const PAGE_SIZE = 50;

const STATUS_LABELS: Record<string, string> = { pending: 'Waiting', in_review: 'In review', awarded: 'Awarded', not_yet: 'Not yet', superseded: 'Replaced by a newer attempt', closed: 'Closed' };
const ROUND_LABELS: Record<number, string> = { 1: 'First review', 2: 'Second review (calibration)', 3: 'Third review (reviewers disagreed)' };

export function blindName(itemEarnerId: string): string {
  return `Educator ${itemEarnerId.slice(0, 4).toUpperCase()}`;
}

export function ageOf(since: Date, now = Date.now()): { days: number; label: string } {
  const hours = Math.max(0, Math.floor((now - since.getTime()) / 3_600_000));
  const days = Math.floor(hours / 24);
  const label = days >= 1 ? `${days} day${days === 1 ? '' : 's'}` : hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'}` : 'under an hour';
  return { days, label };
}

export function presentQueueRow(ctx: SessionContext, r: QueueRow) {
  const age = ageOf(r.submittedAt);
  return {
    id: r.id,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status] ?? r.status,
    round: r.round,
    roundLabel: ROUND_LABELS[r.round] ?? `Round ${r.round}`,
    calibration: r.calibration,
    attempt: r.attempt,
    resubmission: r.previousItemId !== null,
    submittedAt: r.submittedAt.toISOString(),
    ageDays: age.days,
    ageLabel: age.label,
    credential: { id: r.credentialId, name: r.credentialName },
    course: { id: r.courseId, title: r.courseTitle },
    earner: r.blind ? { id: null, name: blindName(r.earnerId), hidden: true } : { id: r.earnerId, name: r.earnerName ?? 'Unnamed educator', hidden: false },
    claimedBy: r.claimedBy ? { id: r.claimedBy, name: r.claimedBy === ctx.user.id ? 'You' : (r.claimedByName ?? 'Another reviewer') } : null,
    mine: r.claimedBy === ctx.user.id,
    links: { page: `${ctx.base}/review/items/${r.id}`, api: `${ctx.base}/api/review/items/${r.id}` },
  };
}

export async function loadQueue(deps: ReviewDeps, ctx: SessionContext, q: QueueQuery) {
  const repo = repoOf(deps);
  const scope = await reviewScope(deps, ctx);
  const f = { credentialId: q.credential, courseId: q.course, olderThanDays: q.age };
  const [rows, counts] = await Promise.all([
    repo.queue(ctx.tenant.id, scope, { ...f, status: q.status, limit: PAGE_SIZE + 1, offset: (q.page - 1) * PAGE_SIZE }),
    repo.counts(ctx.tenant.id, scope, f),
  ]);
  return { filters: q, counts, page: q.page, hasMore: rows.length > PAGE_SIZE, items: rows.slice(0, PAGE_SIZE).map((r) => presentQueueRow(ctx, r)) };
}

/** The filter choices: micro-credentials and courses that have items in this person's scope. */
export async function filterChoices(deps: ReviewDeps, ctx: SessionContext, scope: ReviewScope) {
  // EXISTS probes the queue indexes (tenant, credential|course, …) instead of reading every item.
  const res = await deps.db.sql.query<{ kind: string; id: string; name: string }>(
    `SELECT 'credential' AS kind, m.id::text AS id, v.name FROM micro_credentials m JOIN micro_credential_versions v ON v.id = m.current_version_id
      WHERE m.tenant_id = $1 AND EXISTS (SELECT 1 FROM review_items i WHERE i.tenant_id = $1 AND i.credential_id = m.id AND ($2::boolean OR i.course_id = ANY($3::uuid[])))
     UNION ALL
     SELECT 'course', c.id::text, c.title FROM courses c
      WHERE c.tenant_id = $1 AND ($2::boolean OR c.id = ANY($3::uuid[])) AND EXISTS (SELECT 1 FROM review_items i WHERE i.tenant_id = $1 AND i.course_id = c.id)
     ORDER BY 3`,
    [ctx.tenant.id, scope.all, scope.courseIds],
  );
  return { credentials: res.rows.filter((r) => r.kind === 'credential'), courses: res.rows.filter((r) => r.kind === 'course') };
}

export function presentEvidence(ctx: SessionContext, itemPath: string, snap: EvidenceSnapshot | undefined) {
  if (!snap) return { available: false as const };
  const text = snap.text ? htmlToText(snap.text) : '';
  return {
    available: true as const,
    paragraphs: paragraphs(text),
    text,
    url: snap.url ?? null,
    safeUrl: safeHttpUrl(snap.url),
    attempt: snap.attempt,
    submittedAt: new Date(snap.submittedAt).toISOString(),
    attachments: snap.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      sizeLabel: formatSize(a.size),
      sha256: a.sha256,
      kind: a.purgedAt ? ('purged' as const) : viewerKind(a.contentType),
      purgedAt: a.purgedAt ? new Date(a.purgedAt).toISOString() : null,
      url: `${ctx.base}${itemPath}/attachments/${encodeURIComponent(a.id)}`,
      downloadUrl: `${ctx.base}${itemPath}/attachments/${encodeURIComponent(a.id)}?download=1`,
    })),
    canvasRubricAssessment: snap.canvasRubricAssessment ?? null,
  };
}

/** Feedback of a decided item, per criterion, as the earner (and later reviewers) read it. */
export async function decidedFeedback(repo: ReviewRepository, tenantId: string, item: ReviewItemRow) {
  if (!item.decisionReviewId || (item.status !== 'awarded' && item.status !== 'not_yet')) return null;
  const review = await repo.reviewById(tenantId, item.decisionReviewId);
  const version = await repo.version(tenantId, item.versionId);
  if (!review || !version) return null;
  return {
    decision: item.status === 'awarded' ? ('award' as const) : ('not_yet' as const),
    decidedAt: item.decidedAt?.toISOString() ?? null,
    feedback: review.feedback,
    criteria: criteriaFeedback(version.rubric, review.scores, review.criterionComments),
  };
}

function criteriaFeedback(rubric: Rubric, scores: Record<string, string>, comments: Record<string, string>) {
  return rubric.criteria.map((c) => {
    const level = c.levels.find((l) => l.id === scores[c.id]);
    const required = c.levels.find((l) => l.id === c.requiredLevelId);
    return { id: c.id, title: c.title, level: level?.name ?? null, points: level?.points ?? null, met: level && required ? level.points >= required.points : null, comment: comments[c.id] ?? '' };
  });
}

/** The earlier attempts of this item's earner at this credential, newest first, with their feedback. */
async function earlierAttempts(repo: ReviewRepository, tenantId: string, item: ReviewItemRow) {
  const out = [];
  let prevId = item.previousItemId;
  for (let i = 0; prevId && i < 20; i++) {
    const prev = await repo.findItem(tenantId, prevId);
    if (!prev) break;
    out.push({ id: prev.id, attempt: prev.attempt, status: prev.status, statusLabel: STATUS_LABELS[prev.status] ?? prev.status, submittedAt: prev.submittedAt.toISOString(), feedback: await decidedFeedback(repo, tenantId, prev) });
    prevId = prev.previousItemId;
  }
  return out;
}

/** Everything the review page (and `GET /api/review/items/:id`) needs. Audited as a view of the evidence. */
export async function loadReview(deps: ReviewDeps, ctx: SessionContext, id: string) {
  const repo = repoOf(deps);
  const scope = await reviewScope(deps, ctx);
  const item = await itemFor(repo, ctx, scope, id);
  // Independent reads (and the audit row of this view) go out together.
  const [version, course, earner, settings, snap, mine, neighbours, claimer] = await Promise.all([
    repo.version(ctx.tenant.id, item.versionId),
    repo.course(ctx.tenant.id, item.courseId),
    repo.user(ctx.tenant.id, item.earnerId),
    repo.settings(ctx.tenant.id, item.credentialId),
    deps.evidence.snapshot(ctx.tenant.id, item.snapshotId),
    repo.findReview(ctx.tenant.id, item.id, ctx.user.id),
    repo.neighbours(ctx.tenant.id, scope, item),
    item.claimedBy ? repo.user(ctx.tenant.id, item.claimedBy) : Promise.resolve(undefined),
    repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'view_evidence', detail: {} }),
  ]);
  if (!version) throw new NotFoundError('micro-credential version');
  const canEdit = item.status === 'in_review' && item.claimedBy === ctx.user.id && mine?.state !== 'submitted';
  const conflict = item.status === 'pending' ? await conflictOf(repo, ctx, item) : null;
  const scores = mine?.scores ?? {};
  return {
    item: {
      id: item.id,
      status: item.status,
      statusLabel: STATUS_LABELS[item.status] ?? item.status,
      round: item.round,
      roundLabel: ROUND_LABELS[item.round] ?? '',
      calibration: item.calibration,
      attempt: item.attempt,
      maxAttempts: settings.maxAttempts,
      submittedAt: item.submittedAt.toISOString(),
      age: ageOf(item.submittedAt).label,
      claimedBy: item.claimedBy ? { id: item.claimedBy, name: item.claimedBy === ctx.user.id ? 'You' : (claimer?.name ?? 'Another reviewer') } : null,
      closedReason: item.closedReason,
    },
    credential: { id: item.credentialId, name: version.name, versionId: version.id, version: version.version },
    course: { id: item.courseId, title: course?.title ?? '' },
    earner: settings.blind ? { name: blindName(item.earnerId), hidden: true } : { name: earner?.name ?? 'Unnamed educator', hidden: false },
    rubric: version.rubric,
    passingRule: version.passingRule,
    evidence: presentEvidence(ctx, `/review/items/${item.id}`, snap),
    earlier: await earlierAttempts(repo, ctx.tenant.id, item),
    review: presentReview(mine),
    evaluation: presentEvaluation(evaluate(version.rubric, version.passingRule, scores), version.rubric),
    canEdit,
    canClaim: item.status === 'pending' && conflict === null,
    conflict,
    canRelease: item.status === 'in_review' && (item.claimedBy === ctx.user.id || ctx.roles.includes('admin')),
    neighbours,
  };
}

/** One evidence file of an item (or an exemplar), if it belongs to that item's snapshot. Audited. */
export async function loadAttachment(deps: ReviewDeps, ctx: SessionContext, itemId: string, attachmentId: string, o: { download: boolean; exemplar?: boolean }) {
  const repo = repoOf(deps);
  let item: ReviewItemRow;
  if (o.exemplar) {
    const ex = await repo.findExemplar(ctx.tenant.id, itemId);
    if (!ex) throw new NotFoundError('exemplar');
    item = (await repo.findItem(ctx.tenant.id, ex.itemId))!;
  } else item = await itemFor(repo, ctx, await reviewScope(deps, ctx), itemId);
  const snap = await deps.evidence.snapshot(ctx.tenant.id, item.snapshotId);
  const meta = snap?.attachments.find((a) => a.id === attachmentId);
  if (!meta) throw new NotFoundError('file');
  if (meta.purgedAt) throw new AppError(410, `This file was deleted on ${new Date(meta.purgedAt).toISOString().slice(0, 10)} when its retention period ended. Its SHA-256 was ${meta.sha256}.`, { title: 'File deleted', code: 'purged' });
  const file = await deps.evidence.attachment(ctx.tenant.id, attachmentId);
  if (!file) throw new NotFoundError('file');
  await repo.audit(ctx.tenant.id, { itemId: item.id, actorId: ctx.user.id, action: 'view_attachment', detail: { attachmentId, filename: meta.filename, download: o.download } });
  return { bytes: file.bytes, headers: fileHeaders({ contentType: meta.contentType, filename: meta.filename, size: file.bytes.length }, o.download) };
}

/** The earner's own attempts and the feedback on them (never a draft, never an undecided calibration round). */
export async function earnerFeedback(deps: ReviewDeps, ctx: SessionContext) {
  const repo = repoOf(deps);
  const items = await repo.itemsOfEarner(ctx.tenant.id, ctx.user.id);
  const out = [];
  for (const item of items) {
    const [version, settings] = await Promise.all([repo.version(ctx.tenant.id, item.versionId), repo.settings(ctx.tenant.id, item.credentialId)]);
    const notYet = items.filter((i) => i.credentialId === item.credentialId && i.status === 'not_yet').length;
    out.push({
      id: item.id,
      credential: { id: item.credentialId, name: version?.name ?? '' },
      attempt: item.attempt,
      status: item.status === 'in_review' ? 'pending' : item.status,
      statusLabel: item.status === 'in_review' || item.status === 'pending' ? 'Waiting for review' : (STATUS_LABELS[item.status] ?? item.status),
      submittedAt: item.submittedAt.toISOString(),
      resubmission: item.previousItemId !== null,
      attemptsLeft: settings.maxAttempts === null ? null : Math.max(0, settings.maxAttempts - notYet),
      closedReason: item.closedReason,
      feedback: await decidedFeedback(repo, ctx.tenant.id, item),
    });
  }
  return { items: out };
}

export async function itemAudit(deps: ReviewDeps, ctx: SessionContext, id: string) {
  const repo = repoOf(deps);
  const item = await repo.findItem(ctx.tenant.id, id);
  if (!item) throw new NotFoundError('submission');
  const rows = await repo.auditOf(ctx.tenant.id, item.id);
  return { itemId: item.id, events: rows.map((r) => ({ id: r.id, action: r.action, at: r.at.toISOString(), actor: r.actorId ? { id: r.actorId, name: r.actorName } : null, detail: r.detail })) };
}
