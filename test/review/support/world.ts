import path from 'node:path';
import { loadScenario, type Scenario } from '../../../src/sandbox';
import { submitForReview } from '../../../src/review/service';
import type { ReviewItemRow } from '../../../src/review/schema';
import { startStack, type Stack } from '../../support/stack';
import { sessionOf } from '../../support/session';
import { body, forgetAndStop, techLeaderI, type Api } from '../../catalog/support';
import { MemoryEvidence } from './evidence';
import { png } from '../../catalog/support';

/**
 * The review's test world: the Tech Leader scenario with more reviewers and a second section, microcred with the
 * in-memory EvidenceSource, and Tech Leader I published by the course designer.
 *
 * People (Canvas ids): 1 admin · 2 designer (not a reviewer) · 4, 5, 6 TAs of course 101 (reviewers; 5 shares
 * section 203 with educators 105–108) · 7 TA of course 102 only · 8 district reviewer (a grant with no course;
 * TA in 102) · 101–108 educators of course 101 (101–104 in section 201, 105–108 in section 203).
 */
export function reviewScenario(): Scenario {
  const s = loadScenario(path.resolve('config/scenarios/tech-leader-1.json'));
  const extra = [
    [5, 'Priya Raman'],
    [6, 'Owen Fitzgerald'],
    [7, 'Keiko Tanaka'],
    [8, 'Dana Whitfield'],
  ] as const;
  for (const [id, name] of extra) {
    const login = name.toLowerCase().replace(/[^a-z]+/g, '.');
    s.users.push({ ...s.users[1]!, id, name, email: `${login}@qcps.example.org`, loginId: login, sisUserId: `S000${id}`, adminOf: [] });
  }
  const c101 = s.courses.find((c) => c.id === 101)!;
  const c102 = s.courses.find((c) => c.id === 102)!;
  c101.sections = [...(c101.sections ?? []), { id: 203, name: 'Eastside Elementary cohort' }];
  c101.enrollments = (c101.enrollments ?? []).map((e) => (e.userId >= 105 && e.userId <= 108 ? { ...e, sectionId: 203 } : { ...e, sectionId: e.sectionId ?? 201 }));
  c101.enrollments.push({ userId: 5, type: 'TaEnrollment', sectionId: 203, state: 'active' }, { userId: 6, type: 'TaEnrollment', sectionId: 201, state: 'active' });
  c102.enrollments = [...(c102.enrollments ?? [])];
  c102.enrollments.push({ userId: 7, type: 'TaEnrollment', state: 'active' }, { userId: 8, type: 'TaEnrollment', state: 'active' });
  return s;
}

export interface World {
  stack: Stack;
  evidence: MemoryEvidence;
  tenantId: string;
  course101: string;
  course102: string;
  credential: { id: string; versionId: string };
  designer: Api;
  as(canvasUserId: string | number, courseId?: string): Promise<Api>;
  userId(canvasUserId: string | number): Promise<string>;
  submit(canvasUserId: string | number, o?: { attempt?: number; text?: string; url?: string; files?: { filename: string; contentType: string; bytes: Buffer | string }[]; submittedAt?: Date; credential?: { id: string; versionId: string } }): Promise<ReviewItemRow>;
  q<R extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Another published micro-credential of course 101, with review settings. */
  newCredential(name: string, settings?: Record<string, unknown>): Promise<{ id: string; versionId: string }>;
  stop(): Promise<void>;
}

export async function startWorld(o: { scenario?: Scenario } = {}): Promise<World> {
  const stack = await startStack({ scenario: o.scenario ?? reviewScenario() });
  const evidence = new MemoryEvidence();
  stack.tool.app.review.setEvidenceSource(evidence);
  const sessions = new Map<string, Api>();
  const as = async (canvasUserId: string | number, courseId = '101'): Promise<Api> => {
    const key = `${canvasUserId}@${courseId}`;
    let s = sessions.get(key);
    if (!s) {
      const { page } = await stack.launch(String(canvasUserId), { courseId });
      if (page.status !== 200) throw new Error(`launch of ${canvasUserId} in ${courseId}: ${page.status}\n${page.body.slice(0, 500)}`);
      s = sessionOf(page);
      sessions.set(key, s);
    }
    return s;
  };
  const q = async <R extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await stack.tool.db.sql.query<R>(text, params)).rows;
  const designer = await as(2);
  const tenantId = (await q<{ id: string }>('SELECT id FROM tenants WHERE client_id = $1 AND issuer = $2', [stack.clientId, stack.sandbox.issuer]))[0]!.id;
  const courseOf = async (canvas: string) => (await q<{ id: string }>('SELECT id FROM courses WHERE tenant_id = $1 AND canvas_course_id = $2', [tenantId, canvas]))[0]?.id;
  await as(7, '102');
  const course101 = (await courseOf('101'))!;
  const course102 = (await courseOf('102'))!;
  const created = await body<{ id: string; current: { id: string } }>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI() }));
  await designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' });
  const userId = async (canvasUserId: string | number) => {
    const row = (await q<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND canvas_user_id = $2', [tenantId, String(canvasUserId)]))[0];
    if (row) return row.id;
    await as(canvasUserId, Number(canvasUserId) === 7 || Number(canvasUserId) === 8 ? '102' : '101');
    return (await q<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND canvas_user_id = $2', [tenantId, String(canvasUserId)]))[0]!.id;
  };
  // District reviewer: a reviewer grant without a course (before her first launch, so the session has the role).
  await userId(8).then((id) => stack.tool.app.repos.tenants.grant(tenantId, id, 'reviewer', null, null));
  sessions.delete('8@102');
  const world: World = {
    stack,
    evidence,
    tenantId,
    course101,
    course102,
    credential: { id: created.id, versionId: created.current.id },
    designer,
    as: (u, c) => as(u, c ?? (String(u) === '7' || String(u) === '8' ? '102' : '101')),
    userId,
    async submit(canvasUserId, o = {}) {
      const earnerId = await userId(canvasUserId);
      const { snapshotId } = evidence.add(tenantId, { text: o.text ?? 'My digital citizenship lesson, taught to 7th graders.', url: o.url, attempt: o.attempt ?? 1, submittedAt: o.submittedAt, files: o.files });
      const credential = o.credential ?? world.credential;
      return submitForReview(stack.tool.app.review.deps, { tenantId, courseId: course101, credentialId: credential.id, versionId: credential.versionId, earnerId, attempt: o.attempt ?? 1, snapshotId, submittedAt: o.submittedAt ?? new Date() });
    },
    q,
    async newCredential(name, settings) {
      const c = await body<{ id: string; current: { id: string } }>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name }) }));
      await designer.api(`/api/catalog/credentials/${c.id}/publish`, { method: 'POST' });
      if (settings) {
        const res = await designer.api(`/api/review/settings/${c.id}`, { method: 'PUT', json: settings });
        if (res.status !== 200) throw new Error(`settings: ${res.status} ${await res.text()}`);
      }
      return { id: c.id, versionId: c.current.id };
    },
    stop: () => forgetAndStop(stack),
  };
  return world;
}

/** Scores for Tech Leader I: every criterion at one level, or per criterion. */
export const LEVELS = ['digital-citizenship', 'ferpa-cipa', 'google-workspace', 'navigating-canvas'] as const;
export function allAt(level: 'exceeds' | 'meets' | 'approaching' | 'not-yet', over: Partial<Record<(typeof LEVELS)[number], string>> = {}): Record<string, string> {
  return { ...Object.fromEntries(LEVELS.map((c) => [c, level])), ...over };
}

export { png };
