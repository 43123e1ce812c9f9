import { sql, type SQL } from 'drizzle-orm';
import type { Orm } from '../db/database';
import type { SessionContext } from '../lti/sessions';
import type { Rubric } from '../catalog/model';
import { ForbiddenError, NotFoundError } from '../web/errors';
import { cycleOf, roundTo } from '../portfolio/cycles';
import { PortfolioRepository, rowsOf } from '../portfolio/repository';
import type { CsvCell } from './csv';
import type { DateRange } from './dateRange';
import { median, percentile } from './stats';

/**
 * District reports (docs/portfolio.md, “Reports”): CEUs per educator, awards per credential and per school,
 * time to award, and the “not yet” rate per rubric criterion, over a period. Admins and recognizers see the
 * whole district; a course designer sees their own course. Every query names the tenant.
 */

/** Whose data a report covers: the district, or one course. */
export interface ReportScope {
  tenantId: string;
  courseId: string | null;
}

export function scopeOf(ctx: SessionContext): ReportScope {
  if (ctx.roles.includes('admin') || ctx.roles.includes('recognizer')) return { tenantId: ctx.tenant.id, courseId: null };
  if (ctx.roles.includes('designer') && ctx.course) return { tenantId: ctx.tenant.id, courseId: ctx.course.id };
  throw new ForbiddenError('Reports are for district administrators, recognizers and course designers.');
}

export interface CeuRow { educatorId: string; educator: string; email: string | null; entries: number; hours: number; ceus: number }
export interface AwardsByCredentialRow { name: string; kind: 'micro-credential' | 'stack'; awards: number; revoked: number; educators: number }
export interface AwardsBySchoolRow { school: string; recorded: boolean; awards: number; educators: number }
export interface TimeToAwardRow { credential: string; awards: number; medianDays: number | null; p90Days: number | null }
export interface NotYetRow { credential: string; criterion: string; scored: number; notYet: number; rate: number }

export interface Reports {
  range: DateRange;
  scope: { course: string | null };
  ceus: CeuRow[];
  awardsByCredential: AwardsByCredentialRow[];
  awardsBySchool: AwardsBySchoolRow[];
  timeToAward: { overall: TimeToAwardRow; perCredential: TimeToAwardRow[] };
  notYet: NotYetRow[];
}

export const REPORT_NAMES = ['ceus', 'awards-by-credential', 'awards-by-school', 'time-to-award', 'not-yet'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

const DAY_MS = 86_400_000;
const days = (ms: number | null) => (ms === null ? null : roundTo(ms / DAY_MS, 1));
const NO_SCHOOL = 'School not recorded';

export class ReportService {
  constructor(private readonly orm: Orm) {}

  private async q(s: SQL): Promise<Record<string, unknown>[]> {
    return rowsOf(await this.orm.execute(s));
  }

  /** The award's day in UTC, compared with the period's calendar days. */
  private awardedIn(r: DateRange): SQL {
    return sql`(a.awarded_at AT TIME ZONE 'UTC')::date BETWEEN ${r.from}::date AND ${r.to}::date`;
  }
  private inCourse(scope: ReportScope, column: SQL): SQL {
    return scope.courseId ? sql`${column} = ${scope.courseId}` : sql`TRUE`;
  }

  async all(scope: ReportScope, range: DateRange, courseTitle: string | null = null): Promise<Reports> {
    const [c, byCredential, bySchool, time, notYet] = await Promise.all([
      this.ceus(scope, range),
      this.awardsByCredential(scope, range),
      this.awardsBySchool(scope, range),
      this.timeToAward(scope, range),
      this.notYet(scope, range),
    ]);
    return { range, scope: { course: scope.courseId ? courseTitle : null }, ceus: c, awardsByCredential: byCredential, awardsBySchool: bySchool, timeToAward: time, notYet };
  }

  /** CEUs per educator earned in the period (reversals of revoked awards subtract), for license renewal. */
  async ceus(scope: ReportScope, r: DateRange): Promise<CeuRow[]> {
    const rows = await this.q(sql`
      SELECT u.id, u.name, u.email, count(*) FILTER (WHERE l.kind = 'earned') AS entries, sum(l.hours) AS hours, sum(l.ceus) AS ceus
        FROM ceu_ledger l
        JOIN users u ON u.id = l.earner_id AND u.tenant_id = l.tenant_id
        JOIN awards a ON a.id = l.award_id AND a.tenant_id = l.tenant_id
       WHERE l.tenant_id = ${scope.tenantId} AND l.earned_on BETWEEN ${r.from}::date AND ${r.to}::date AND ${this.inCourse(scope, sql`a.course_id`)}
       GROUP BY u.id, u.name, u.email
       ORDER BY sum(l.ceus) DESC, u.name, u.id`);
    return rows.map((x) => ({ educatorId: String(x.id), educator: (x.name as string | null) ?? 'Unnamed educator', email: (x.email as string | null) ?? null, entries: Number(x.entries), hours: roundTo(Number(x.hours), 2), ceus: roundTo(Number(x.ceus), 3) }));
  }

  async awardsByCredential(scope: ReportScope, r: DateRange): Promise<AwardsByCredentialRow[]> {
    const rows = await this.q(sql`
      SELECT coalesce(a.credential_id::text, 'stack:' || a.stack_id::text) AS k, max(coalesce(v.name, s.name)) AS name, bool_or(a.stack_id IS NOT NULL) AS is_stack,
             count(*) AS awards, count(*) FILTER (WHERE a.revoked_at IS NOT NULL) AS revoked, count(DISTINCT a.earner_id) AS educators
        FROM awards a
        LEFT JOIN micro_credential_versions v ON v.id = a.version_id
        LEFT JOIN stacks s ON s.id = a.stack_id
       WHERE a.tenant_id = ${scope.tenantId} AND ${this.awardedIn(r)} AND ${this.inCourse(scope, sql`a.course_id`)}
       GROUP BY 1
       ORDER BY count(*) DESC, 2`);
    return rows.map((x) => ({ name: String(x.name ?? ''), kind: x.is_stack === true ? 'stack' : 'micro-credential', awards: Number(x.awards), revoked: Number(x.revoked), educators: Number(x.educators) }));
  }

  /** Per school: the school recorded for the educator in the award's course (review affiliations). */
  async awardsBySchool(scope: ReportScope, r: DateRange): Promise<AwardsBySchoolRow[]> {
    const rows = await this.q(sql`
      SELECT nullif(trim(ra.school), '') AS school, count(*) AS awards, count(DISTINCT a.earner_id) AS educators
        FROM awards a
        LEFT JOIN review_affiliations ra ON ra.tenant_id = a.tenant_id AND ra.course_id = a.course_id AND ra.user_id = a.earner_id
       WHERE a.tenant_id = ${scope.tenantId} AND a.revoked_at IS NULL AND ${this.awardedIn(r)} AND ${this.inCourse(scope, sql`a.course_id`)}
       GROUP BY 1
       ORDER BY (nullif(trim(ra.school), '') IS NULL), count(*) DESC, 1`);
    return rows.map((x) => ({ school: (x.school as string | null) ?? NO_SCHOOL, recorded: x.school !== null, awards: Number(x.awards), educators: Number(x.educators) }));
  }

  /**
   * From the educator's first submission of evidence for the micro-credential (attempt 1, or the earliest one
   * kept) to the award, for awards made after review in the period. Median and 90th percentile (nearest rank).
   */
  async timeToAward(scope: ReportScope, r: DateRange): Promise<{ overall: TimeToAwardRow; perCredential: TimeToAwardRow[] }> {
    const rows = await this.q(sql`
      SELECT a.credential_id, v.name, a.awarded_at,
             (SELECT min(i.submitted_at) FROM review_items i WHERE i.tenant_id = a.tenant_id AND i.earner_id = a.earner_id AND i.credential_id = a.credential_id AND i.submitted_at <= a.awarded_at) AS first_submitted
        FROM awards a
        JOIN micro_credential_versions v ON v.id = a.version_id
       WHERE a.tenant_id = ${scope.tenantId} AND a.version_id IS NOT NULL AND ${this.awardedIn(r)} AND ${this.inCourse(scope, sql`a.course_id`)}`);
    const per = new Map<string, { name: string; ms: number[] }>();
    const all: number[] = [];
    for (const x of rows) {
      if (x.first_submitted === null || x.first_submitted === undefined) continue;
      const ms = new Date(x.awarded_at as string).getTime() - new Date(x.first_submitted as string).getTime();
      const k = String(x.credential_id);
      const e = per.get(k) ?? { name: String(x.name), ms: [] };
      e.ms.push(ms);
      per.set(k, e);
      all.push(ms);
    }
    const row = (credential: string, ms: number[]): TimeToAwardRow => ({ credential, awards: ms.length, medianDays: days(median(ms)), p90Days: days(percentile(ms, 90)) });
    return { overall: row('All micro-credentials', all), perCredential: [...per.values()].map((e) => row(e.name, e.ms)).sort((a, b) => b.awards - a.awards || a.credential.localeCompare(b.credential)) };
  }

  /**
   * Per rubric criterion: of the submitted reviews in the period, how many scored it below its passing level.
   * Every submitted review counts (second and third reviews too): each is a reviewer's judgement of the evidence.
   */
  async notYet(scope: ReportScope, r: DateRange): Promise<NotYetRow[]> {
    const rows = await this.q(sql`
      SELECT i.credential_id, v.id AS version_id, v.name, v.rubric, rv.scores
        FROM reviews rv
        JOIN review_items i ON i.id = rv.item_id AND i.tenant_id = rv.tenant_id
        JOIN micro_credential_versions v ON v.id = i.version_id
       WHERE rv.tenant_id = ${scope.tenantId} AND rv.state = 'submitted'
         AND (rv.submitted_at AT TIME ZONE 'UTC')::date BETWEEN ${r.from}::date AND ${r.to}::date AND ${this.inCourse(scope, sql`i.course_id`)}`);
    const out = new Map<string, NotYetRow & { order: number }>();
    for (const x of rows) {
      const rubric = (typeof x.rubric === 'string' ? JSON.parse(x.rubric) : x.rubric) as Rubric;
      const scores = (typeof x.scores === 'string' ? JSON.parse(x.scores) : x.scores) as Record<string, string>;
      rubric.criteria.forEach((c, order) => {
        const level = c.levels.find((l) => l.id === scores[c.id]);
        const required = c.levels.find((l) => l.id === c.requiredLevelId);
        if (!level || !required) return; // not scored, or a criterion without a passing level
        const k = `${String(x.credential_id)}|${c.id}`;
        const e = out.get(k) ?? { credential: String(x.name), criterion: c.title, scored: 0, notYet: 0, rate: 0, order };
        e.scored++;
        if (level.points < required.points) e.notYet++;
        e.rate = roundTo(e.notYet / e.scored, 4);
        out.set(k, e);
      });
    }
    return [...out.values()].sort((a, b) => a.credential.localeCompare(b.credential) || a.order - b.order).map(({ order: _o, ...rest }) => rest);
  }

  /** One report as CSV rows (header first). */
  async csv(name: string, scope: ReportScope, r: DateRange): Promise<{ header: string[]; rows: CsvCell[][] }> {
    const period = [r.from, r.to];
    switch (name as ReportName) {
      case 'ceus':
        return { header: ['Educator', 'Email', 'Awards', 'Hours', 'CEUs', 'From', 'To'], rows: (await this.ceus(scope, r)).map((x) => [x.educator, x.email, x.entries, x.hours, x.ceus, ...period]) };
      case 'awards-by-credential':
        return { header: ['Credential', 'Kind', 'Awards', 'Revoked', 'Educators', 'From', 'To'], rows: (await this.awardsByCredential(scope, r)).map((x) => [x.name, x.kind, x.awards, x.revoked, x.educators, ...period]) };
      case 'awards-by-school':
        return { header: ['School', 'Awards', 'Educators', 'From', 'To'], rows: (await this.awardsBySchool(scope, r)).map((x) => [x.school, x.awards, x.educators, ...period]) };
      case 'time-to-award': {
        const t = await this.timeToAward(scope, r);
        return { header: ['Credential', 'Awards', 'Median days', '90th percentile days', 'From', 'To'], rows: [...t.perCredential, t.overall].map((x) => [x.credential, x.awards, x.medianDays, x.p90Days, ...period]) };
      }
      case 'not-yet':
        return { header: ['Credential', 'Criterion', 'Reviews scored', 'Below passing level', 'Not-yet rate', 'From', 'To'], rows: (await this.notYet(scope, r)).map((x) => [x.credential, x.criterion, x.scored, x.notYet, x.rate, ...period]) };
      default:
        throw new NotFoundError('report');
    }
  }

  /** The default period: the current renewal cycle's first day to today. */
  async defaultRange(tenantId: string, today = new Date()): Promise<DateRange> {
    const cfg = await new PortfolioRepository(this.orm).cycleConfig(tenantId);
    const t = today.toISOString().slice(0, 10);
    return { from: cycleOf(t, cfg).start, to: t };
  }
}
