import type { Orm } from '../db/database';
import type { Badges } from '../badges/service';
import { stateOf, type CredentialState } from '../badges/routes';
import type { IssuedCredentialRow } from '../badges/schema';
import { ceus, isStackEarned } from '../catalog/rules';
import { NotFoundError } from '../web/errors';
import { cycleOf, groupByCycle, roundTo, type CycleConfig, type CycleGroup, type LedgerEntry } from './cycles';
import { linkedInAddUrl } from './linkedin';
import { day, PortfolioRepository, type CredentialListRow } from './repository';

/**
 * The educator's portfolio across every course of the district: badges and their state, stack progress, the
 * CEU ledger per renewal cycle, downloads, sharing; and the public page and the data export built from the same
 * rows. Reads only; the few changes (sharing, show my name) are one UPDATE each in the repository.
 */

export const STATE_LABELS: Record<CredentialState, string> = { valid: 'Valid', revoked: 'Revoked', expired: 'Expired' };
const STATE_PILL: Record<CredentialState, string> = { valid: 'pill--success', revoked: 'pill--danger', expired: 'pill--warning' };

export interface PortfolioDeps {
  orm: Orm;
  badges: Badges;
}

export interface PortfolioBadge {
  id: string;
  name: string;
  kind: 'micro-credential' | 'stack';
  course: string | null;
  issuedOn: string;
  validUntil: string | null;
  state: CredentialState;
  stateLabel: string;
  pill: string;
  revocationReason: string | null;
  hours: number;
  ceus: number;
  showName: boolean;
  imageUrl: string;
  pageUrl: string;
  jsonUrl: string;
  bakedUrl: string;
  bakedFormat: 'PNG' | 'SVG';
  linkedInUrl: string | null;
}

export interface StackProgress {
  id: string;
  name: string;
  earned: number;
  required: number;
  complete: boolean;
  members: { name: string; earned: boolean }[];
}

export class Portfolio {
  readonly repo: PortfolioRepository;
  constructor(private readonly deps: PortfolioDeps) {
    this.repo = new PortfolioRepository(deps.orm);
  }

  private presentBadge(row: CredentialListRow, issuerName: string, now: Date): PortfolioBadge {
    const { badges } = this.deps;
    // stateOf reads only these two columns.
    const state = stateOf({ revokedAt: row.revokedAt, validUntil: row.validUntil } as IssuedCredentialRow, now);
    const pageUrl = badges.credentialUrl(row.id);
    // The bake follows the badge art (badges/routes.ts): an uploaded PNG bakes as PNG, everything else as SVG.
    const png = row.designKind === 'upload' && row.uploadType === 'image/png';
    return {
      id: row.id,
      name: row.name,
      kind: row.stackId ? 'stack' : 'micro-credential',
      course: row.courseTitle,
      issuedOn: row.validFrom.toISOString().slice(0, 10),
      validUntil: row.validUntil ? row.validUntil.toISOString().slice(0, 10) : null,
      state,
      stateLabel: STATE_LABELS[state],
      pill: STATE_PILL[state],
      revocationReason: row.revocationReason,
      hours: row.stackId ? 0 : row.hours,
      ceus: row.stackId ? 0 : ceus(row.hours),
      showName: row.showName,
      imageUrl: row.versionId ? `${badges.achievementUrl(row.versionId)}/image` : `${badges.stackAchievementUrl(row.stackId!)}/image`,
      pageUrl,
      jsonUrl: `${pageUrl}.json`,
      bakedUrl: `${pageUrl}/badge.${png ? 'png' : 'svg'}`,
      bakedFormat: png ? 'PNG' : 'SVG',
      linkedInUrl: state === 'revoked' ? null : linkedInAddUrl({ name: row.name, organizationName: issuerName, issued: row.validFrom, expires: row.validUntil, certUrl: pageUrl, certId: row.id }),
    };
  }

  /** Stacks the earner has started (a member earned) or completed: members earned of those required. */
  private async stackProgress(tenantId: string, rows: CredentialListRow[]): Promise<StackProgress[]> {
    const held = new Set(rows.filter((r) => !r.revokedAt && r.credentialId).map((r) => r.credentialId!));
    const stacksHeld = new Set(rows.filter((r) => !r.revokedAt && r.stackId).map((r) => r.stackId!));
    const out: StackProgress[] = [];
    for (const s of await this.repo.stacks(tenantId)) {
      const earned = s.members.filter((m) => held.has(m.credentialId)).length;
      if (earned === 0 && !stacksHeld.has(s.stackId)) continue;
      const required = s.kind === 'ordered' ? s.members.length : (s.requiredCount ?? s.members.length);
      const shape = { kind: s.kind, requiredCount: s.requiredCount, members: s.members.map((m) => ({ credentialId: m.credentialId, prerequisiteIds: [] })) };
      out.push({
        id: s.stackId,
        name: s.name,
        earned: Math.min(earned, required),
        required,
        complete: stacksHeld.has(s.stackId) || isStackEarned(shape, held),
        members: s.members.map((m) => ({ name: m.name, earned: held.has(m.credentialId) })),
      });
    }
    return out;
  }

  async ledger(tenantId: string, earnerId: string, now = new Date()): Promise<{ cycle: CycleConfig; groups: CycleGroup[]; currentCycle: ReturnType<typeof cycleOf> }> {
    const [rows, cfg] = await Promise.all([this.repo.ledger(tenantId, earnerId), this.repo.cycleConfig(tenantId)]);
    const entries: LedgerEntry[] = rows.map((r) => ({ id: r.id, title: r.title, kind: r.kind, hours: r.hours, ceus: r.ceus, earnedOn: r.earnedOn, verifyUrl: r.credentialId ? this.deps.badges.credentialUrl(r.credentialId) : null }));
    const today = now.toISOString().slice(0, 10);
    return { cycle: cfg, groups: groupByCycle(entries, cfg, today), currentCycle: cycleOf(today, cfg) };
  }

  /** The earner's own portfolio page (and its JSON). */
  async mine(tenantId: string, earnerId: string, now = new Date()) {
    const [rows, issuer, prefs, ledger] = await Promise.all([
      this.repo.credentials(tenantId, earnerId),
      this.deps.badges.issuerProfile(tenantId),
      this.repo.preferences(tenantId, earnerId),
      this.ledger(tenantId, earnerId, now),
    ]);
    const badges = rows.map((r) => this.presentBadge(r, issuer.name, now)).reverse();
    return {
      issuer: { name: issuer.name, url: issuer.url ?? null },
      badges,
      counts: { valid: badges.filter((b) => b.state === 'valid').length, total: badges.length },
      stacks: await this.stackProgress(tenantId, rows),
      ledger,
      preferences: prefs,
      canDownloadClr: rows.some((r) => !r.revokedAt),
    };
  }

  /** The signed CLR 2.0 of every credential the earner holds (not revoked). */
  async clr(tenantId: string, earnerId: string) {
    const rows = await this.repo.credentials(tenantId, earnerId);
    if (!rows.some((r) => !r.revokedAt)) throw new NotFoundError('credential to put in a learner record (none yet)');
    return this.deps.badges.issueClr({ tenantId, earnerUserId: earnerId });
  }

  /** The printable transcript: every ledger entry per cycle, with the district as issuer. */
  async transcript(tenantId: string, earnerId: string, now = new Date()) {
    const [person, issuer, ledger] = await Promise.all([this.repo.person(tenantId, earnerId), this.deps.badges.issuerProfile(tenantId), this.ledger(tenantId, earnerId, now)]);
    const total = ledger.groups.reduce((s, g) => ({ hours: roundTo(s.hours + g.totalHours, 2), ceus: roundTo(s.ceus + g.totalCeus, 3) }), { hours: 0, ceus: 0 });
    return { educator: person?.name ?? 'Educator', email: person?.email ?? null, issuer: { name: issuer.name, url: issuer.url ?? null, email: issuer.email ?? null }, generatedOn: now.toISOString().slice(0, 10), ledger, total };
  }

  /**
   * The public page behind a slug: only credentials that are not revoked, with links to verify them. The
   * earner's name appears only beside the badges they chose to be named on; no email, no hours, no courses.
   */
  async publicView(slug: string, now = new Date()) {
    const owner = await this.repo.bySlug(slug);
    if (!owner) throw new NotFoundError('portfolio');
    const [rows, issuer, person] = await Promise.all([this.repo.credentials(owner.tenantId, owner.userId), this.deps.badges.issuerProfile(owner.tenantId), this.repo.person(owner.tenantId, owner.userId)]);
    const badges = rows
      .filter((r) => !r.revokedAt)
      .map((r) => {
        const b = this.presentBadge(r, issuer.name, now);
        return { name: b.name, kind: b.kind, issuedOn: b.issuedOn, validUntil: b.validUntil, state: b.state, stateLabel: b.stateLabel, pill: b.pill, imageUrl: b.imageUrl, pageUrl: b.pageUrl, earnerName: r.showName ? (person?.name ?? null) : null };
      })
      .reverse();
    return { issuer: { name: issuer.name, url: issuer.url ?? null }, badges };
  }

  async setSharing(tenantId: string, userId: string, on: boolean) {
    return this.repo.setSharing(tenantId, userId, on);
  }

  async setShowName(tenantId: string, earnerId: string, credentialId: string, show: boolean): Promise<void> {
    if (!(await this.repo.setShowName(tenantId, earnerId, credentialId, show))) throw new NotFoundError('credential');
  }

  /** Everything stored about the person in this district (see docs/portfolio.md, “Export”). */
  async export(tenantId: string, userId: string, tenantName: string, now = new Date()) {
    const r = await this.repo.exportRows(tenantId, userId);
    if (!r.user) throw new NotFoundError('person');
    const iso = (v: unknown) => (v === null || v === undefined ? null : (v instanceof Date ? v : new Date(String(v))).toISOString());
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const filesBySnapshot = new Map<string, Record<string, unknown>[]>();
    for (const f of r.files) {
      const list = filesBySnapshot.get(String(f.snapshot_id)) ?? [];
      list.push({ filename: f.filename, contentType: f.declared_content_type, detectedContentType: f.detected_content_type, size: num(f.size), sha256: f.sha256, status: f.status, note: f.note });
      filesBySnapshot.set(String(f.snapshot_id), list);
    }
    const reviewsByItem = new Map<string, Record<string, unknown>[]>();
    for (const v of r.reviews) {
      const list = reviewsByItem.get(String(v.item_id)) ?? [];
      // Blind review hides the educator from reviewers; it hides the reviewers from the educator just as well.
      list.push({ round: num(v.round), reviewer: v.blind === true ? null : ((v.reviewer_name as string | null) ?? null), decision: v.decision, scores: v.scores, criterionComments: v.criterion_comments, feedback: v.feedback, total: num(v.total), submittedAt: iso(v.submitted_at) });
      reviewsByItem.set(String(v.item_id), list);
    }
    const u = r.user;
    return {
      format: 'microcred-personal-data-export',
      version: 1,
      exportedAt: now.toISOString(),
      district: { name: tenantName },
      about: 'Everything microcred stores about you in this district. Evidence files are listed with their SHA-256 hashes, not their contents; your Canvas access token, if any, is a secret and is not exported.',
      profile: { id: u.id, name: u.name, email: u.email, canvasUserId: u.canvas_user_id, ltiSubject: u.lti_sub, firstSeenAt: iso(u.created_at), updatedAt: iso(u.updated_at) },
      canvasIdentity: r.identities.map((i) => ({ canvasUserId: i.canvas_user_id, name: i.name, sortableName: i.sortable_name, sources: i.sources, updatedAt: iso(i.updated_at) }))[0] ?? null,
      courses: r.memberships.map((m) => ({ id: m.course_id, title: m.title, label: m.label, canvasCourseId: m.canvas_course_id, ltiRoles: m.lti_roles, updatedAt: iso(m.updated_at) })),
      roleGrants: r.grants.map((g) => ({ role: g.role, course: g.course_title ?? null, grantedAt: iso(g.created_at) })),
      affiliations: r.affiliations.map((a) => ({ course: a.course_title, sections: a.section_ids, school: a.school, updatedAt: iso(a.updated_at) })),
      progress: r.progress.map((p) => ({ course: p.course_title, credential: p.credential_name, state: p.state, modulesDone: num(p.modules_done), modulesTotal: num(p.modules_total), evidenceState: p.evidence_state, evidenceAttempt: num(p.evidence_attempt), evidenceSubmittedAt: iso(p.evidence_submitted_at), summary: p.summary, enrolled: p.enrolled, readyAt: iso(p.ready_at), updatedAt: iso(p.updated_at) })),
      evidenceSnapshots: r.snapshots.map((s) => ({
        id: s.id, course: s.course_title, credential: s.credential_name, canvasAssignmentId: s.canvas_assignment_id, canvasSubmissionId: s.canvas_submission_id, attempt: num(s.attempt), submissionType: s.submission_type, url: s.url,
        submittedAt: iso(s.submitted_at), workflowState: s.workflow_state, score: num(s.score), grade: s.grade, status: s.status, capturedAt: iso(s.captured_at), textSha256: s.body_sha256 ?? null, textLength: num(s.body_length),
        files: filesBySnapshot.get(String(s.id)) ?? [],
      })),
      submissions: r.items.map((i) => ({ id: i.id, course: i.course_title, credential: i.credential_name, version: num(i.version), attempt: num(i.attempt), status: i.status, evidenceSnapshotId: i.snapshot_id, submittedAt: iso(i.submitted_at), decidedAt: iso(i.decided_at), closedReason: i.closed_reason, blindReview: i.blind === true, reviews: reviewsByItem.get(String(i.id)) ?? [] })),
      awards: r.awards.map((a) => ({ id: a.id, name: a.name, course: a.course_title, source: a.source, hours: num(a.hours), reason: a.reason, awardedAt: iso(a.awarded_at), revokedAt: iso(a.revoked_at), revocationReason: a.revocation_reason, credentialId: a.issued_credential_id })),
      credentials: r.credentials.map((c) => ({ id: c.id, url: this.deps.badges.credentialUrl(String(c.id)), showName: c.show_name, validFrom: iso(c.valid_from), validUntil: iso(c.valid_until), revokedAt: iso(c.revoked_at), revocationReason: c.revocation_reason, credential: c.credential })),
      ceuLedger: r.ledger.map((l) => ({ id: l.id, awardId: l.award_id, kind: l.kind, title: l.title, hours: num(l.hours), ceus: num(l.ceus), earnedOn: day(l.earned_on), recordedAt: iso(l.created_at) })),
      preferences: r.preferences
        ? { notifyAward: r.preferences.notify_award, notifyNotYet: r.preferences.notify_not_yet, publicPortfolio: r.preferences.public_slug ? true : false, updatedAt: iso(r.preferences.updated_at) }
        : { notifyAward: true, notifyNotYet: true, publicPortfolio: false, updatedAt: null },
    };
  }
}
