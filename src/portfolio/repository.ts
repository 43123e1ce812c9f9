import crypto from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { DEFAULT_CYCLE, type CycleConfig } from './cycles';

/**
 * SQL for the portfolio: one earner's credentials, awards, ledger and choices, and the export of everything
 * stored about them. Every query names the tenant and the earner; nothing here reads another person's rows
 * (except the names of reviewers of a review that was not blind, which the earner was shown anyway).
 */

export interface CredentialListRow {
  id: string;
  versionId: string | null;
  stackId: string | null;
  name: string;
  credentialId: string | null;
  expiryMonths: number | null;
  /** 'generated' | 'upload' (the badge art decides whether the bake is SVG or PNG). */
  designKind: string;
  uploadType: string | null;
  validFrom: Date;
  validUntil: Date | null;
  revokedAt: Date | null;
  revocationReason: string | null;
  showName: boolean;
  awardId: string | null;
  hours: number;
  courseTitle: string | null;
  awardSource: string | null;
}

export interface LedgerRow {
  id: string;
  title: string;
  kind: 'earned' | 'reversed';
  hours: number;
  ceus: number;
  earnedOn: string;
  credentialId: string | null;
}

export interface StackProgressRow {
  stackId: string;
  name: string;
  kind: 'ordered' | 'n_of_m';
  requiredCount: number | null;
  members: { credentialId: string; name: string }[];
}

export interface Preferences {
  notifyAward: boolean;
  notifyNotYet: boolean;
  publicSlug: string | null;
}

type Row = Record<string, unknown>;

export function rowsOf<T = Row>(res: unknown): T[] {
  const r = res as { rows?: T[] } | T[];
  return Array.isArray(r) ? r : (r.rows ?? []);
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
/** A `date` column as YYYY-MM-DD whatever the driver returns (a string on pg, a Date at UTC midnight on PGlite). */
export const day = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

export class PortfolioRepository {
  constructor(private readonly orm: Orm) {}

  private async query<T = Row>(q: SQL): Promise<T[]> {
    return rowsOf<T>(await this.orm.execute(q));
  }

  /** The earner's credentials, oldest first, with what the portfolio prints about each. */
  async credentials(tenantId: string, earnerId: string): Promise<CredentialListRow[]> {
    const rows = await this.query(sql`
      SELECT ic.id, ic.version_id, ic.stack_id, coalesce(v.name, s.name) AS name, v.credential_id, v.expiry_months,
             coalesce(v.image, s.image)->>'kind' AS design_kind, bi.content_type AS upload_type,
             ic.valid_from, ic.valid_until, ic.revoked_at, ic.revocation_reason, ic.show_name,
             a.id AS award_id, coalesce(a.hours, v.hours, 0) AS hours, c.title AS course_title, a.source AS award_source
        FROM issued_credentials ic
        LEFT JOIN micro_credential_versions v ON v.id = ic.version_id
        LEFT JOIN stacks s ON s.id = ic.stack_id
        LEFT JOIN badge_images bi ON bi.tenant_id = ic.tenant_id AND bi.id::text = coalesce(v.image, s.image)->>'imageId'
        LEFT JOIN awards a ON a.tenant_id = ic.tenant_id AND (a.id = ic.award_id OR a.issued_credential_id = ic.id)
        LEFT JOIN courses c ON c.id = a.course_id
       WHERE ic.tenant_id = ${tenantId} AND ic.earner_user_id = ${earnerId}
       ORDER BY ic.valid_from, ic.created_at`);
    return rows.map((r) => ({
      id: String(r.id),
      versionId: (r.version_id as string | null) ?? null,
      stackId: (r.stack_id as string | null) ?? null,
      name: String(r.name ?? ''),
      credentialId: (r.credential_id as string | null) ?? null,
      expiryMonths: r.expiry_months === null ? null : Number(r.expiry_months),
      designKind: String(r.design_kind ?? 'generated'),
      uploadType: (r.upload_type as string | null) ?? null,
      validFrom: date(r.valid_from),
      validUntil: dateOrNull(r.valid_until),
      revokedAt: dateOrNull(r.revoked_at),
      revocationReason: (r.revocation_reason as string | null) ?? null,
      showName: r.show_name === true,
      awardId: (r.award_id as string | null) ?? null,
      hours: Number(r.hours ?? 0),
      courseTitle: (r.course_title as string | null) ?? null,
      awardSource: (r.award_source as string | null) ?? null,
    }));
  }

  /** The CEU ledger, with the credential each entry came from (its public page is the verification URL). */
  async ledger(tenantId: string, earnerId: string): Promise<LedgerRow[]> {
    const rows = await this.query(sql`
      SELECT l.id, l.title, l.kind, l.hours, l.ceus, l.earned_on, coalesce(a.issued_credential_id, ic.id) AS credential_id
        FROM ceu_ledger l
        JOIN awards a ON a.id = l.award_id AND a.tenant_id = l.tenant_id
        LEFT JOIN issued_credentials ic ON ic.award_id = a.id AND ic.tenant_id = l.tenant_id
       WHERE l.tenant_id = ${tenantId} AND l.earner_id = ${earnerId}
       ORDER BY l.earned_on, l.created_at`);
    return rows.map((r) => ({
      id: String(r.id),
      title: String(r.title),
      kind: r.kind === 'reversed' ? 'reversed' : 'earned',
      hours: Number(r.hours),
      ceus: Number(r.ceus),
      earnedOn: day(r.earned_on),
      credentialId: (r.credential_id as string | null) ?? null,
    }));
  }

  /** Published (or retired) stacks of the tenant with their members' current names. */
  async stacks(tenantId: string): Promise<StackProgressRow[]> {
    const rows = await this.query(sql`
      SELECT s.id AS stack_id, s.name, s.kind, s.required_count, m.credential_id, v.name AS member_name
        FROM stacks s
        JOIN stack_members m ON m.stack_id = s.id
        JOIN micro_credentials mc ON mc.id = m.credential_id
        LEFT JOIN micro_credential_versions v ON v.id = mc.current_version_id
       WHERE s.tenant_id = ${tenantId} AND s.state <> 'draft'
       ORDER BY s.name, s.id, m.position`);
    const out = new Map<string, StackProgressRow>();
    for (const r of rows) {
      const id = String(r.stack_id);
      let s = out.get(id);
      if (!s) out.set(id, (s = { stackId: id, name: String(r.name), kind: r.kind === 'n_of_m' ? 'n_of_m' : 'ordered', requiredCount: r.required_count === null ? null : Number(r.required_count), members: [] }));
      s.members.push({ credentialId: String(r.credential_id), name: String(r.member_name ?? '') });
    }
    return [...out.values()];
  }

  async cycleConfig(tenantId: string): Promise<CycleConfig> {
    const [r] = await this.query(sql`SELECT years, anchor FROM renewal_cycles WHERE tenant_id = ${tenantId}`);
    return r ? { years: Number(r.years), anchor: day(r.anchor) } : DEFAULT_CYCLE;
  }

  async preferences(tenantId: string, userId: string): Promise<Preferences> {
    const [r] = await this.query(sql`SELECT notify_award, notify_not_yet, public_slug FROM earner_preferences WHERE tenant_id = ${tenantId} AND user_id = ${userId}`);
    return { notifyAward: r ? r.notify_award === true : true, notifyNotYet: r ? r.notify_not_yet === true : true, publicSlug: (r?.public_slug as string | null) ?? null };
  }

  /**
   * Turns the public link on (a new random slug, 128 bits: not guessable, not derived from anything) or off (the
   * slug is forgotten, so the old link is dead for good; turning it on again makes a new one).
   */
  async setSharing(tenantId: string, userId: string, on: boolean): Promise<string | null> {
    if (!on) {
      await this.orm.execute(sql`UPDATE earner_preferences SET public_slug = NULL, updated_at = now() WHERE tenant_id = ${tenantId} AND user_id = ${userId}`);
      return null;
    }
    const slug = crypto.randomBytes(16).toString('base64url');
    const [r] = await this.query(sql`
      INSERT INTO earner_preferences (tenant_id, user_id, public_slug) VALUES (${tenantId}, ${userId}, ${slug})
      ON CONFLICT (tenant_id, user_id) DO UPDATE SET public_slug = coalesce(earner_preferences.public_slug, EXCLUDED.public_slug), updated_at = now()
      RETURNING public_slug`);
    return String(r!.public_slug);
  }

  /** Whose public portfolio a slug opens (any tenant: the slug is the whole key). */
  async bySlug(slug: string): Promise<{ tenantId: string; userId: string } | undefined> {
    if (!/^[A-Za-z0-9_-]{22}$/.test(slug)) return undefined;
    const [r] = await this.query(sql`SELECT tenant_id, user_id FROM earner_preferences WHERE public_slug = ${slug}`);
    return r ? { tenantId: String(r.tenant_id), userId: String(r.user_id) } : undefined;
  }

  /** Sets “show my name” on one of the earner's own credentials; false when it is not theirs. */
  async setShowName(tenantId: string, earnerId: string, credentialId: string, show: boolean): Promise<boolean> {
    const rows = await this.query(sql`UPDATE issued_credentials SET show_name = ${show} WHERE tenant_id = ${tenantId} AND earner_user_id = ${earnerId} AND id = ${credentialId} RETURNING id`);
    return rows.length === 1;
  }

  async person(tenantId: string, userId: string): Promise<{ name: string | null; email: string | null } | undefined> {
    const [r] = await this.query(sql`SELECT name, email FROM users WHERE tenant_id = ${tenantId} AND id = ${userId}`);
    return r ? { name: (r.name as string | null) ?? null, email: (r.email as string | null) ?? null } : undefined;
  }

  // ---- the export -------------------------------------------------------------------------------------------

  /** Everything stored about one person in one tenant, as plain rows (the service shapes the document). */
  async exportRows(tenantId: string, userId: string) {
    const q = (s: SQL) => this.query(s);
    const [user] = await q(sql`SELECT id, lti_sub, canvas_user_id, name, email, created_at, updated_at FROM users WHERE tenant_id = ${tenantId} AND id = ${userId}`);
    const canvasUserId = (user?.canvas_user_id as string | null) ?? null;
    // Rows keyed by the Canvas user id (progress, evidence) only exist when Canvas told us who the person is.
    const byCanvas = (s: SQL) => (canvasUserId ? q(s) : Promise.resolve([] as Row[]));
    const [memberships, grants, identities, affiliations, progress, snapshots, files, items, reviews, awardRows, credentials, ledger, preferences] = await Promise.all([
      q(sql`SELECT c.id AS course_id, c.title, c.label, c.canvas_course_id, m.lti_roles, m.updated_at FROM memberships m JOIN courses c ON c.id = m.course_id WHERE m.tenant_id = ${tenantId} AND m.user_id = ${userId} ORDER BY c.title`),
      q(sql`SELECT g.role, c.title AS course_title, g.created_at FROM role_grants g LEFT JOIN courses c ON c.id = g.course_id WHERE g.tenant_id = ${tenantId} AND g.user_id = ${userId} ORDER BY g.created_at`),
      byCanvas(sql`SELECT canvas_user_id, name, sortable_name, sources, updated_at FROM canvas_identities WHERE tenant_id = ${tenantId} AND canvas_user_id = ${canvasUserId}`),
      q(sql`SELECT c.title AS course_title, a.section_ids, a.school, a.updated_at FROM review_affiliations a JOIN courses c ON c.id = a.course_id WHERE a.tenant_id = ${tenantId} AND a.user_id = ${userId}`),
      byCanvas(sql`SELECT c.title AS course_title, v.name AS credential_name, p.state, p.modules_done, p.modules_total, p.evidence_state, p.evidence_attempt, p.evidence_submitted_at, p.summary, p.enrolled, p.ready_at, p.updated_at
                     FROM credential_progress p JOIN courses c ON c.id = p.course_id JOIN micro_credentials mc ON mc.id = p.credential_id LEFT JOIN micro_credential_versions v ON v.id = mc.current_version_id
                    WHERE p.tenant_id = ${tenantId} AND p.canvas_user_id = ${canvasUserId} ORDER BY c.title, v.name`),
      byCanvas(sql`SELECT s.id, c.title AS course_title, v.name AS credential_name, s.canvas_assignment_id, s.canvas_submission_id, s.attempt, s.submission_type, s.url, s.submitted_at, s.workflow_state, s.score, s.grade, s.status, s.captured_at,
                          CASE WHEN s.body IS NULL THEN NULL ELSE encode(sha256(convert_to(s.body, 'UTF8')), 'hex') END AS body_sha256, length(s.body) AS body_length
                     FROM evidence_snapshots s JOIN courses c ON c.id = s.course_id JOIN micro_credentials mc ON mc.id = s.credential_id LEFT JOIN micro_credential_versions v ON v.id = mc.current_version_id
                    WHERE s.tenant_id = ${tenantId} AND s.canvas_user_id = ${canvasUserId} ORDER BY s.captured_at`),
      byCanvas(sql`SELECT f.snapshot_id, f.filename, f.declared_content_type, f.detected_content_type, f.size, f.sha256, f.status, f.note
                     FROM evidence_files f JOIN evidence_snapshots s ON s.id = f.snapshot_id
                    WHERE f.tenant_id = ${tenantId} AND s.tenant_id = ${tenantId} AND s.canvas_user_id = ${canvasUserId} ORDER BY f.filename`),
      q(sql`SELECT i.id, c.title AS course_title, v.name AS credential_name, v.version, i.attempt, i.status, i.snapshot_id, i.submitted_at, i.decided_at, i.closed_reason, i.decision_review_id, coalesce(rs.blind, false) AS blind
              FROM review_items i JOIN courses c ON c.id = i.course_id JOIN micro_credential_versions v ON v.id = i.version_id LEFT JOIN review_settings rs ON rs.credential_id = i.credential_id
             WHERE i.tenant_id = ${tenantId} AND i.earner_id = ${userId} ORDER BY i.submitted_at`),
      // Only submitted reviews: a draft is the reviewer's unfinished work, not something said to the earner.
      q(sql`SELECT r.id, r.item_id, r.round, r.scores, r.criterion_comments, r.feedback, r.decision, r.total, r.submitted_at, u.name AS reviewer_name, coalesce(rs.blind, false) AS blind
              FROM reviews r JOIN review_items i ON i.id = r.item_id LEFT JOIN users u ON u.id = r.reviewer_id LEFT JOIN review_settings rs ON rs.credential_id = i.credential_id
             WHERE r.tenant_id = ${tenantId} AND i.tenant_id = ${tenantId} AND i.earner_id = ${userId} AND r.state = 'submitted' ORDER BY r.submitted_at`),
      q(sql`SELECT a.id, a.source, coalesce(v.name, s.name) AS name, c.title AS course_title, a.hours, a.reason, a.awarded_at, a.revoked_at, a.revocation_reason, a.issued_credential_id
              FROM awards a LEFT JOIN micro_credential_versions v ON v.id = a.version_id LEFT JOIN stacks s ON s.id = a.stack_id LEFT JOIN courses c ON c.id = a.course_id
             WHERE a.tenant_id = ${tenantId} AND a.earner_id = ${userId} ORDER BY a.awarded_at`),
      q(sql`SELECT id, credential, show_name, valid_from, valid_until, revoked_at, revocation_reason, created_at FROM issued_credentials WHERE tenant_id = ${tenantId} AND earner_user_id = ${userId} ORDER BY created_at`),
      q(sql`SELECT id, award_id, kind, title, hours, ceus, earned_on, created_at FROM ceu_ledger WHERE tenant_id = ${tenantId} AND earner_id = ${userId} ORDER BY earned_on, created_at`),
      q(sql`SELECT notify_award, notify_not_yet, public_slug, updated_at FROM earner_preferences WHERE tenant_id = ${tenantId} AND user_id = ${userId}`),
    ]);
    return { user, memberships, grants, identities, affiliations, progress, snapshots, files, items, reviews, awards: awardRows, credentials, ledger, preferences: preferences[0] };
  }
}
