import { CanvasClient, parseLinkHeader, staticToken } from '../../src/canvas/client';
import { CanvasAuthorizationRequired, CanvasFileTooLarge, CanvasForbidden, CanvasNotFound, CanvasRequestError, CanvasResponseError, CanvasUnavailable } from '../../src/canvas/errors';
import { ConcurrencyLimiter, UnlimitedLimiter, fullJitter } from '../../src/canvas/limiter';
import { USER_AGENT } from '../../src/canvas/userAgent';
import { ModuleSchema } from '../../src/canvas/types';
import type { Sandbox } from '../../src/sandbox';
import { captureLog, clientFor, startSandbox } from './helpers';

describe('the Canvas client against the sandbox', () => {
  let sb: Sandbox;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ sb, close } = await startSandbox());
  });
  afterAll(() => close());
  beforeEach(() => {
    sb.faults.clear();
    sb.setThrottle(false);
    sb.requests.length = 0;
  });

  it('reads as the token user, with a User-Agent and typed, validated answers (ids as strings)', async () => {
    const { client } = clientFor(sb, 2);
    const me = await client.getSelf();
    expect(me).toMatchObject({ id: '2', name: 'Devon Achebe' });
    // Extra fields pass through: the schemas are loose.
    expect(me).toHaveProperty('login_id');
    const course = await client.getCourse('101');
    expect(course).toMatchObject({ id: '101', name: 'Tech Leader I' });
    expect(client.actingAs).toBe('static');
    expect(USER_AGENT).toMatch(/^microcred\//);
    // The sandbox refuses requests without a User-Agent: all of ours got through.
    expect(sb.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('lists modules with items and per-student completion', async () => {
    const { client } = clientFor(sb, 2);
    const modules = await client.listModules('101', { studentId: '101', includeItems: true, includeContentDetails: true });
    expect(modules.map((m) => m.id)).toEqual(['1001', '1002', '1003', '1004', '1005', '1006']);
    expect(modules[0]!.state).toMatch(/^(locked|unlocked|started|completed)$/);
    expect(modules[0]!.items!.length).toBeGreaterThan(0);
    expect(modules[0]!.items![0]!.completion_requirement?.completed).toEqual(expect.any(Boolean));
    const items = await client.listModuleItems('101', '1001', { studentId: '101' });
    expect(items.map((i) => i.id)).toEqual(modules[0]!.items!.map((i) => i.id));
  });

  it('reads assignments with rubrics, rubrics, submissions with rubric assessments, progress and users', async () => {
    const { client } = clientFor(sb, 2);
    const assignments = await client.listAssignments('101');
    const evidence = assignments.find((a) => a.id === '2005')!;
    expect(evidence.rubric?.length).toBeGreaterThan(0);
    expect((await client.listAssignments('101', { includeRubric: false })).find((a) => a.id === '2005')!.rubric).toBeUndefined();
    expect((await client.getAssignment('101', '2005')).rubric![0]!.ratings.length).toBeGreaterThan(0);
    const rubrics = await client.listCourseRubrics('101');
    expect(rubrics.map((r) => r.id)).toContain('501');
    const rubric = await client.getRubric('101', '501', { include: ['associations'] });
    expect(rubric.associations?.[0]?.association_id).toBe('2005');

    const subs = await client.listStudentSubmissions('101', { studentIds: 'all', assignmentIds: ['2005'], include: ['rubric_assessment', 'submission_comments'] });
    expect(subs.length).toBe(8);
    expect(subs.every((s) => s.assignment_id === '2005')).toBe(true);
    const tamika = subs.find((s) => s.user_id === '101')!;
    expect(tamika.attachments?.[0]?.display_name).toBe('digital-citizenship-lesson.pdf');
    const some = await client.listStudentSubmissions('101', { studentIds: ['101', '103'], assignmentIds: ['2001'], submittedSince: new Date('2000-01-01T00:00:00.123Z') });
    expect(some.map((s) => s.user_id).sort()).toEqual(['101', '103']);

    const progress = await client.bulkUserProgress('101');
    expect(progress).toHaveLength(8);
    expect(progress[0]!.progress.requirement_count).toBeGreaterThan(0);
    const students = await client.listUsers('101', { enrollmentType: 'student', include: ['email'] });
    expect(students).toHaveLength(8);
    const staff = await client.listUsers('101', { enrollmentType: ['teacher', 'ta'] });
    expect(staff.map((u) => u.id).sort()).toEqual(['3', '4']);
  });

  it('grades with a rubric, posts a conversation, enrolls a user, and downloads a file with a size cap', async () => {
    const teacher = clientFor(sb, 3).client;
    const graded = await teacher.gradeSubmission('101', '2005', '102', { rubricAssessment: { _10: { points: 3, comments: 'Clear' } }, comment: 'Badge evidence reviewed' });
    expect(graded.rubric_assessment?._10?.points).toBe(3);
    expect(graded.submission_comments?.some((c) => c.comment === 'Badge evidence reviewed')).toBe(true);
    const conv = await teacher.postConversation({ recipients: ['102'], subject: 'Your badge', body: 'Congratulations' });
    expect(conv[0]!.id).toMatch(/^\d+$/);

    const admin = clientFor(sb, 1).client;
    const enrollment = await admin.enroll('102', '101', 'StudentEnrollment');
    expect(enrollment).toMatchObject({ course_id: '102', user_id: '101', type: 'StudentEnrollment', enrollment_state: 'active' });

    const [sub] = await teacher.listStudentSubmissions('101', { studentIds: ['101'], assignmentIds: ['2005'] });
    const file = sub!.attachments![0]!;
    const got = await teacher.downloadFile(file.url, { maxBytes: 1_000_000 });
    expect(got.size).toBe(file.size);
    expect(got.data.subarray(0, 4).toString('latin1')).toBe('%PDF');
    expect(got.contentType).toBe('application/pdf');
    expect(got.filename).toBe(file.filename);
    await expect(teacher.downloadFile(file.url, { maxBytes: 100 })).rejects.toBeInstanceOf(CanvasFileTooLarge);
    // The bearer token never leaves the tenant's Canvas.
    await expect(teacher.downloadFile('https://evil.example/files/1', { maxBytes: 100 })).rejects.toBeInstanceOf(CanvasResponseError);
  });

  it('follows Link pagination across pages (rel="next", absolute URLs) and caps the page count', async () => {
    const { client } = clientFor(sb, 2, { perPage: 2 });
    const modules = await client.listModules('101');
    expect(modules).toHaveLength(6);
    expect(client.stats.pages).toBe(3);
    const pages = sb.requests.filter((r) => r.path === '/api/v1/courses/101/modules');
    expect(pages).toHaveLength(3);
    // Item by item with the async iterator, stopping early fetches no further page.
    const early = clientFor(sb, 2, { perPage: 2 }).client;
    const seen: string[] = [];
    for await (const m of early.paginate('/api/v1/courses/101/modules', {}, ModuleSchema)) {
      seen.push(m.id);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['1001', '1002', '1003']);
    expect(early.stats.pages).toBe(2);
    const capped = clientFor(sb, 2, { perPage: 2, maxPages: 2 }).client;
    await expect(capped.listModules('101')).rejects.toThrow(/more than 2 pages/);
  });

  it('parses Link headers case-insensitively and in any order', () => {
    expect(parseLinkHeader('<https://c/x?page=2>; rel="next",<https://c/x?page=1>; REL="first", <https://c/x?page=9>; rel=last')).toEqual({
      next: 'https://c/x?page=2', first: 'https://c/x?page=1', last: 'https://c/x?page=9',
    });
    expect(parseLinkHeader(undefined)).toEqual({});
  });

  it('retries 500s with jittered backoff, then succeeds', async () => {
    sb.faults.add({ method: 'GET', path: '/api/v1/users/self', status: 500, times: 2 });
    const { client } = clientFor(sb, 2);
    await expect(client.getSelf()).resolves.toMatchObject({ id: '2' });
    expect(client.stats).toMatchObject({ requests: 3, retries: 2, throttled: 0 });
    expect(sb.requests.filter((r) => r.path === '/api/v1/users/self').map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('gives up after the retry budget with CanvasUnavailable, and never retries a non-idempotent POST on a 5xx', async () => {
    sb.faults.add({ path: '/api/v1/users/self', status: 503 });
    const { client } = clientFor(sb, 2, { retries: 2 });
    await expect(client.getSelf()).rejects.toBeInstanceOf(CanvasUnavailable);
    expect(client.stats.requests).toBe(3);
    sb.faults.clear();
    sb.faults.add({ method: 'POST', path: '/api/v1/conversations', status: 502, times: 1 });
    const poster = clientFor(sb, 3).client;
    await expect(poster.postConversation({ recipients: ['101'], body: 'hi' })).rejects.toBeInstanceOf(CanvasUnavailable);
    expect(poster.stats.requests).toBe(1);
  });

  it('retries a request that timed out', async () => {
    sb.faults.add({ method: 'GET', path: '/api/v1/courses/101', timeout: true, times: 1 });
    const { client } = clientFor(sb, 2, { timeoutMs: 300 });
    await expect(client.getCourse('101')).resolves.toMatchObject({ id: '101' });
    expect(client.stats).toMatchObject({ requests: 2, retries: 1 });
  });

  it('turns malformed JSON and wrong shapes into CanvasResponseError', async () => {
    sb.faults.add({ path: '/api/v1/users/self', malformed: true, times: 1 });
    const { client } = clientFor(sb, 2);
    await expect(client.getSelf()).rejects.toThrow(CanvasResponseError);
    sb.faults.add({ path: '/api/v1/users/self', status: 200, body: '{"id": "not-a-number", "name": 5}', times: 1 });
    await expect(client.getSelf()).rejects.toThrow(/unexpected shape at id/);
    expect(client.stats.retries).toBe(0);
  });

  it('maps 404 to CanvasNotFound and a permission 403 to CanvasForbidden, without retrying', async () => {
    const student = clientFor(sb, 101).client;
    await expect(student.getCourse('999999')).rejects.toBeInstanceOf(CanvasNotFound);
    const before = sb.requests.length;
    await expect(student.bulkUserProgress('101')).rejects.toBeInstanceOf(CanvasForbidden);
    expect(sb.requests.length - before).toBe(1);
    expect(student.stats.retries).toBe(0);
    expect(student.stats.throttled).toBe(0);
    sb.faults.add({ path: '/api/v1/courses/101/enrollments', method: 'POST', status: 422, body: '{"errors":[{"message":"bad enrollment"}]}', times: 1 });
    await expect(clientFor(sb, 1).client.enroll('101', '102', 'StudentEnrollment')).rejects.toThrow(CanvasRequestError);
  });

  it('asks for re-authorization when the token is refused and cannot be refreshed', async () => {
    const { client, token } = clientFor(sb, 2);
    sb.revokeToken(token);
    await expect(client.getSelf()).rejects.toBeInstanceOf(CanvasAuthorizationRequired);
    expect(client.stats.refreshes).toBe(1);
  });

  it('refreshes once on a 401 and repeats the request with the new token', async () => {
    const issued = sb.issueUserToken({ userId: 2, ttlSeconds: 1 });
    let current = issued.accessToken;
    let refreshes = 0;
    const client = new CanvasClient({
      baseUrl: sb.baseUrl,
      tokens: {
        id: 'test-refreshing',
        kind: 'user',
        token: () => Promise.resolve(current),
        async refresh(rejected) {
          expect(rejected).toBe(issued.accessToken);
          refreshes += 1;
          current = sb.issueUserToken({ userId: 2 }).accessToken;
          return current;
        },
      },
    });
    await new Promise((r) => setTimeout(r, 1100));
    await expect(client.getSelf()).resolves.toMatchObject({ id: '2' });
    expect(refreshes).toBe(1);
    // (the sandbox records requests refused by its /api/v1 auth middleware with the mount path stripped)
    expect(sb.requests.filter((r) => r.path.endsWith('/users/self')).map((r) => r.status)).toEqual([401, 200]);
  });

  it('never logs the token', async () => {
    const cap = captureLog();
    const { client, token } = clientFor(sb, 2, { log: cap.log });
    sb.faults.add({ path: '/api/v1/users/self', status: 500, times: 1 });
    await client.getSelf();
    await client.getCourse('101').catch(() => undefined);
    await expect(client.getCourse('424242')).rejects.toThrow();
    expect(cap.lines.length).toBeGreaterThan(2);
    expect(cap.text()).toContain('/api/v1/users/self');
    expect(cap.text()).not.toContain(token);
    expect(cap.text()).not.toMatch(/Bearer/i);
  });
});

describe('throttle awareness (a sandbox with Canvas’s leaky bucket and 20 ms per request)', () => {
  let sb: Sandbox;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ sb, close } = await startSandbox({ latencyMs: 20 }));
  });
  afterAll(() => close());
  beforeEach(() => {
    // A small bucket: five requests in flight (5 × 50 up-front) fill it.
    sb.setThrottle({ hwm: 250, cost: 1 });
    sb.requests.length = 0;
  });

  it('keeps a burst of 50 calls under the throttle: zero throttled responses with the limiter', async () => {
    const { client } = clientFor(sb, 2, { limiter: new ConcurrencyLimiter() });
    const results = await Promise.all(Array.from({ length: 50 }, () => client.getCourse('101')));
    expect(results.every((c) => c.id === '101')).toBe(true);
    expect(client.stats.throttled).toBe(0);
    expect(client.stats.requests).toBe(50);
    expect(sb.requests.filter((r) => r.throttled)).toHaveLength(0);
    const stats = client.limiter.snapshot();
    expect(stats.peakInFlight).toBeGreaterThan(1);
    expect(stats.peakInFlight).toBeLessThanOrEqual(4);
  });

  it('without the limiter the same burst is throttled, and every throttled call is retried to success', async () => {
    const { client } = clientFor(sb, 2, { limiter: new UnlimitedLimiter(), throttleRetries: 15 });
    const results = await Promise.all(Array.from({ length: 50 }, () => client.getCourse('101')));
    expect(results.every((c) => c.id === '101')).toBe(true);
    expect(client.stats.throttled).toBeGreaterThan(0);
    expect(sb.requests.filter((r) => r.throttled).length).toBe(client.stats.throttled);
    expect(client.stats.requests).toBe(50 + client.stats.throttled);
    expect(client.stats.retries).toBe(client.stats.throttled);
  });

  it('recognises the throttle 403 by its body even without the header, and a permission 403 is not it', async () => {
    sb.setThrottle(false);
    sb.faults.add({ path: '/api/v1/courses/101', status: 403, body: '403 Forbidden (Rate Limit Exceeded)', times: 2 });
    const { client } = clientFor(sb, 2, { limiter: new ConcurrencyLimiter({ maxPauseMs: 20 }) });
    await expect(client.getCourse('101')).resolves.toMatchObject({ id: '101' });
    expect(client.stats).toMatchObject({ throttled: 2, retries: 2, requests: 3 });
    sb.faults.clear();
    sb.faults.add({ path: '/api/v1/courses/101', status: 403, body: '{"status":"unauthorized","errors":[{"message":"user not authorized to perform that action"}]}', times: 1 });
    await expect(client.getCourse('101')).rejects.toBeInstanceOf(CanvasForbidden);
    expect(client.stats.requests).toBe(4);
    // The throttle sent the limiter down to one request at a time.
    expect(client.limiter.limit).toBe(1);
  });
});

describe('the limiter and backoff', () => {
  it('full jitter stays within [0, min(cap, base·2^n))', () => {
    expect(fullJitter(0, 100, 1000, () => 0.999)).toBe(99);
    expect(fullJitter(5, 100, 1000, () => 0.999)).toBe(999);
    expect(fullJitter(3, 100, 1000, () => 0)).toBe(0);
  });

  it('starts at 4, shrinks on a low allowance, drops to 1 on a throttle and grows back slowly, never above 10', async () => {
    const l = new ConcurrencyLimiter({ maxPauseMs: 1 });
    expect(l.limit).toBe(4);
    l.observe(120);
    expect(l.limit).toBe(2);
    l.throttled();
    expect(l.limit).toBe(1);
    for (let i = 0; i < 500; i++) l.observe(590);
    expect(l.limit).toBe(10);
    // A queue never exceeds the limit.
    const small = new ConcurrencyLimiter({ initial: 2 });
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      const release = await small.acquire();
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active -= 1;
      release();
    }));
    expect(peak).toBe(2);
  });

  it('a static token cannot be refreshed', async () => {
    await expect(staticToken('x').refresh('x')).rejects.toBeInstanceOf(CanvasAuthorizationRequired);
  });
});
