import { evaluate, evidenceOf, localId, progressFingerprint, snapshotDue, summarize } from '../../src/progress/engine';
import { contentTypeMatches, detectContentType } from '../../src/progress/magic';
import { extractJwt, idempotencyKey, targetOf } from '../../src/progress/events';
import { identitiesFromNrps } from '../../src/progress/identity';
import { cronEvery } from '../../src/progress/service';
import { png } from '../catalog/support';

const req = { moduleIds: ['1', '2', '3', '4'], assignmentId: '50' };
const mod = (id: string, done: boolean) => ({ id, state: done ? ('completed' as const) : ('started' as const), completed_at: done ? '2024-09-01T00:00:00Z' : null });
const sub = (o: Partial<{ attempt: number | null; submitted_at: string | null; workflow_state: string; excused: boolean | null }> = {}) => ({
  id: '9', attempt: 1, submitted_at: '2024-09-02T10:00:00Z', workflow_state: 'submitted', excused: false, ...o,
});

describe('the progress engine', () => {
  it('says plainly where an earner is: "3 of 4 modules done; evidence not submitted yet"', () => {
    const e = evaluate(req, [mod('1', true), mod('2', true), mod('3', true), mod('4', false)], evidenceOf(undefined));
    expect(e).toMatchObject({ state: 'in_progress', modulesDone: 3, modulesTotal: 4, doneModuleIds: ['1', '2', '3'], missingModuleIds: [] });
    expect(e.summary).toBe('3 of 4 modules done; evidence not submitted yet');
  });

  it('is not started with nothing done, and in progress with evidence but modules left', () => {
    expect(evaluate(req, [mod('1', false)], evidenceOf(undefined)).state).toBe('not_started');
    const e = evaluate(req, [mod('1', false), mod('2', false), mod('3', false), mod('4', false)], evidenceOf(sub()));
    expect(e.state).toBe('in_progress');
    expect(e.summary).toBe('0 of 4 modules done; evidence submitted');
  });

  it('is ready for review only with every required module complete and evidence submitted', () => {
    const all = ['1', '2', '3', '4'].map((id) => mod(id, true));
    expect(evaluate(req, all, evidenceOf(undefined)).state).toBe('in_progress');
    const ready = evaluate(req, all, evidenceOf(sub({ attempt: 2 })));
    expect(ready.state).toBe('ready_for_review');
    expect(ready.summary).toBe('All 4 modules done; evidence submitted (attempt 2) — ready for review');
  });

  it('does not count unsubmitted or excused submissions as evidence', () => {
    expect(evidenceOf(sub({ submitted_at: null, workflow_state: 'unsubmitted', attempt: null })).state).toBe('missing');
    expect(evidenceOf(sub({ workflow_state: 'graded', submitted_at: null, attempt: null })).state).toBe('missing');
    expect(evidenceOf(sub({ excused: true })).state).toBe('excused');
    const all = ['1', '2', '3', '4'].map((id) => mod(id, true));
    expect(evaluate(req, all, evidenceOf(sub({ excused: true }))).summary).toContain('evidence excused in Canvas');
  });

  it('treats a required module Canvas no longer lists as missing, which blocks readiness', () => {
    const e = evaluate(req, [mod('1', true), mod('2', true), mod('3', true)], evidenceOf(sub()));
    expect(e).toMatchObject({ state: 'in_progress', missingModuleIds: ['4'] });
    expect(e.summary).toBe('3 of 4 modules done; evidence submitted; a required module is no longer in Canvas');
  });

  it('never moves an awarded earner back', () => {
    expect(evaluate(req, [], evidenceOf(undefined), { state: 'awarded', evidenceAttempt: 1 }).state).toBe('awarded');
    expect(summarize({ state: 'awarded', modulesDone: 0, modulesTotal: 4, evidence: { state: 'missing', attempt: null } })).toBe('Awarded');
  });

  it('keeps “returned” (not yet) until Canvas has a newer attempt, which is ready for review again', () => {
    const all = ['1', '2', '3', '4'].map((id) => mod(id, true));
    expect(evaluate(req, all, evidenceOf(sub({ attempt: 1 })), { state: 'returned', evidenceAttempt: 1 }).state).toBe('returned');
    const resubmitted = evaluate(req, all, evidenceOf(sub({ attempt: 2 })), { state: 'returned', evidenceAttempt: 1 });
    expect(resubmitted.state).toBe('ready_for_review');
    expect(snapshotDue(resubmitted, 1)).toBe(true);
  });

  it('asks for a snapshot when ready and for every new attempt after that', () => {
    const ready = evaluate(req, ['1', '2', '3', '4'].map((id) => mod(id, true)), evidenceOf(sub({ attempt: 1 })));
    expect(snapshotDue(ready, null)).toBe(true);
    expect(snapshotDue(ready, 1)).toBe(false);
    expect(snapshotDue({ ...ready, evidence: { ...ready.evidence, attempt: 2 } }, 1)).toBe(true);
    expect(snapshotDue(evaluate(req, [], evidenceOf(sub())), null)).toBe(false);
  });

  it('maps Canvas global ids to local ids', () => {
    expect(localId('21070000000000355')).toBe('355');
    expect(localId(20000000000007)).toBe('7');
    expect(localId('355')).toBe('355');
    expect(localId('2107~355')).toBe('355');
    expect(localId('abc')).toBeUndefined();
    expect(progressFingerprint({ requirement_count: 12, requirement_completed_count: 3, completed_at: null })).toBe('3/12/');
  });

  it('turns the sync interval into a schedule', () => {
    expect(cronEvery(0)).toBeUndefined();
    expect(cronEvery(15)).toBe('*/15 * * * *');
    expect(cronEvery(120)).toBe('0 */2 * * *');
    expect(cronEvery(1440)).toBe('0 3 * * *');
  });
});

describe('content types from the bytes', () => {
  it('recognises what educators hand in', () => {
    expect(detectContentType(Buffer.from('%PDF-1.4\n%…'))).toBe('application/pdf');
    expect(detectContentType(png())).toBe('image/png');
    expect(detectContentType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toBe('image/jpeg');
    expect(detectContentType(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(detectContentType(Buffer.from('Just my reflection.\n'))).toBe('text/plain');
    expect(detectContentType(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('....word/document.xml')]))).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(detectContentType(Buffer.from([0, 1, 2, 3, 4, 0xfe]))).toBeUndefined();
  });

  it('checks the declared type against them', () => {
    expect(contentTypeMatches('application/pdf', 'application/pdf')).toBe(true);
    expect(contentTypeMatches('image/jpg', 'image/jpeg')).toBe(true);
    expect(contentTypeMatches('text/csv; charset=utf-8', 'text/plain')).toBe(true);
    expect(contentTypeMatches('image/png', 'text/plain')).toBe(false);
    expect(contentTypeMatches('application/pdf', undefined)).toBe(false);
    expect(contentTypeMatches('application/x-custom', undefined)).toBe(true);
  });
});

describe('Live Events parsing', () => {
  const event = (name: string, body: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ metadata: { event_name: name, event_time: '2024-09-01T00:00:00Z', ...metadata }, body });

  it('finds the student and course in each event, in local ids', () => {
    expect(targetOf(event('submission_created', { user_id: '21070000000000123', assignment_id: '21070000000001005' }, { context_type: 'Course', context_id: '21070000000000001' }))).toEqual({ canvasCourseId: '1', canvasAssignmentId: '1005', canvasUserId: '123' });
    expect(targetOf(event('grade_change', { student_id: '21070000000000124', user_id: '21070000000000124', assignment_id: '5' }))).toMatchObject({ canvasUserId: '124', canvasAssignmentId: '5' });
    expect(targetOf(event('course_progress', { user: { id: 125 }, course: { id: 1 }, progress: {} }))).toMatchObject({ canvasUserId: '125', canvasCourseId: '1' });
  });

  it('keys duplicates alike and different events apart', () => {
    const a = event('submission_updated', { user_id: '1', attempt: 2 });
    expect(idempotencyKey(a)).toBe(idempotencyKey(structuredClone(a)));
    expect(idempotencyKey(a)).not.toBe(idempotencyKey(event('submission_updated', { user_id: '1', attempt: 3 })));
    expect(idempotencyKey(event('x', {}, { event_id: 'e-1' }))).toBe('id:e-1');
  });

  it('accepts the raw JWT and JSON around it, and nothing else', () => {
    const t = 'aaa.bbb.ccc';
    expect(extractJwt(t)).toBe(t);
    expect(extractJwt(JSON.stringify(t))).toBe(t);
    expect(extractJwt(JSON.stringify({ jwt: t }))).toBe(t);
    expect(extractJwt(JSON.stringify({ metadata: {}, body: {} }))).toBeUndefined();
    expect(extractJwt('not a token')).toBeUndefined();
  });
});

describe('identities from NRPS', () => {
  it('maps sub to Canvas user id from the rlid message, never by email', () => {
    const out = identitiesFromNrps([
      { user_id: 'sub-1', roles: [], name: 'Ana', email: 'same@x', message: [{ 'https://www.instructure.com/canvas_user_id': 101 }] },
      { user_id: 'sub-2', roles: [], email: 'same@x', message: [{ 'https://purl.imsglobal.org/spec/lti/claim/custom': { canvas_user_id: '21070000000000102' } }] },
      { user_id: 'sub-3', roles: [], email: 'same@x' },
      { user_id: 'sub-4', roles: [], status: 'Deleted', message: [{ 'https://www.instructure.com/canvas_user_id': 104 }] },
    ]);
    expect(out).toEqual([
      { canvasUserId: '101', ltiSub: 'sub-1', name: 'Ana' },
      { canvasUserId: '102', ltiSub: 'sub-2', name: null },
    ]);
  });
});
