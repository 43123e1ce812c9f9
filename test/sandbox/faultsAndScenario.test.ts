import http from 'node:http';
import request from 'supertest';
import { createSandbox, generateScenario, parseScenario, type Scenario } from '../../src/sandbox';
import { SCENARIO, UA, makeSandbox } from './helpers';

describe('sandbox fault injection and request log', () => {
  it('injects a status N times, then behaves normally; records every request', async () => {
    const sb = makeSandbox();
    const t = sb.issueUserToken({ userId: 3 }).accessToken;
    sb.faults.add({ path: /^\/api\/v1\/courses\/101\/modules$/, status: 503, times: 2 });
    const get = () => request(sb.app).get('/api/v1/courses/101/modules').set('User-Agent', UA).set('Authorization', `Bearer ${t}`);
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    const ok = await get();
    expect(ok.status).toBe(200);
    expect(sb.requests.map((r) => [r.status, r.faulted, r.tokenKind])).toEqual([[503, true, 'oauth'], [503, true, 'oauth'], [200, false, 'oauth']]);
    expect(sb.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/courses/101/modules', throttled: false, userId: 3 });
  });

  it('sends malformed JSON, custom bodies, and honours the method filter', async () => {
    const sb = makeSandbox();
    const t = sb.issueUserToken({ userId: 3 }).accessToken;
    sb.faults.add({ method: 'GET', path: '/api/v1/users/self', malformed: true, times: 1 });
    const bad = await request(sb.app).get('/api/v1/users/self').set('User-Agent', UA).set('Authorization', `Bearer ${t}`).buffer(true).parse((res, cb) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => cb(null, s));
    });
    expect(bad.status).toBe(200);
    expect(() => JSON.parse(bad.body as string)).toThrow();
    sb.faults.add({ method: 'POST', path: '/api/v1/users/self', status: 500 });
    expect((await request(sb.app).get('/api/v1/users/self').set('User-Agent', UA).set('Authorization', `Bearer ${t}`)).status).toBe(200);
    sb.faults.add({ path: '/api/v1/courses/101', status: 502, body: 'Bad Gateway' });
    const gw = await request(sb.app).get('/api/v1/courses/101').set('User-Agent', UA).set('Authorization', `Bearer ${t}`);
    expect(gw.status).toBe(502);
    expect(gw.text).toBe('Bad Gateway');
    sb.faults.clear();
    expect((await request(sb.app).get('/api/v1/courses/101').set('User-Agent', UA).set('Authorization', `Bearer ${t}`)).status).toBe(200);
  });

  it('delays, adds latency, and holds the socket for a timeout until closed', async () => {
    const sb = createSandbox({ baseUrl: 'http://127.0.0.1:0', scenario: SCENARIO, latencyMs: 30 });
    const server = await sb.listen(0);
    try {
      expect(sb.baseUrl).toBe(server.url);
      expect(sb.issuer).toBe(server.url);
      const t = sb.issueUserToken({ userId: 3 }).accessToken;
      const headers = { 'User-Agent': UA, Authorization: `Bearer ${t}` };
      let started = Date.now();
      expect((await fetch(`${server.url}/api/v1/users/self`, { headers })).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(28);
      sb.faults.add({ path: '/api/v1/users/self', delayMs: 120, times: 1 });
      started = Date.now();
      expect((await fetch(`${server.url}/api/v1/users/self`, { headers })).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      sb.faults.add({ path: '/api/v1/users/self', timeout: true, times: 1 });
      const outcome = await new Promise<string>((resolve) => {
        const req = http.get(`${server.url}/api/v1/users/self`, { headers, timeout: 300 }, () => resolve('answered'));
        req.on('timeout', () => {
          req.destroy();
          resolve('timed out');
        });
        req.on('error', () => resolve('timed out'));
      });
      expect(outcome).toBe('timed out');
    } finally {
      await server.close();
    }
  });
});

describe('sandbox scenarios', () => {
  it('ships a valid Tech Leader scenario with the seeded modules, rubric and progress', () => {
    const sb = makeSandbox();
    expect(sb.data.courseModules(101).map((m) => m.name)).toEqual(['Digital Citizenship', 'FERPA and CIPA', 'Core Google Workspace', 'Navigating Canvas', 'Face-to-face training (6 hours)', 'Demonstration of mastery']);
    expect(sb.data.rubric(501)?.criteria.map((c) => c.id)).toEqual(['_10', '_11', '_12', '_13']);
    expect(sb.data.activeEnrollments(101).filter((e) => e.type === 'StudentEnrollment')).toHaveLength(8);
    expect(sb.data.activeEnrollments(102).filter((e) => e.type === 'StudentEnrollment')).toHaveLength(0);
    const types = new Set(sb.data.submissions.filter((s) => s.attempt > 0).map((s) => s.submissionType));
    expect([...types].sort()).toEqual(['online_text_entry', 'online_upload', 'online_url']);
    expect(sb.data.attachments.map((a) => a.contentType).sort()).toEqual(['application/pdf', 'image/png']);
  });

  it('explains what is wrong with an invalid scenario', () => {
    const broken = JSON.parse(JSON.stringify(SCENARIO)) as Scenario & { courses: { enrollments: { userId: number }[]; modules: { items: { contentId?: number }[] }[] }[] };
    const course = broken.courses[0];
    if (!course) throw new Error('no course');
    course.enrollments.push({ userId: 999 } as never);
    expect(() => parseScenario(broken)).toThrow(/courses\.0\.enrollments\.\d+\.type/);
    course.enrollments.pop();
    const item = course.modules[0]?.items[2];
    if (item) item.contentId = 4242;
    expect(() => parseScenario(broken)).toThrow(/item 10013 points to unknown assignment 4242/);
    expect(() => parseScenario({ name: 'x' })).toThrow(/accounts/);
  });

  it('generates big deterministic scenarios', () => {
    const a = generateScenario({ educators: 200, modules: 12, seed: 7 });
    const b = generateScenario({ educators: 200, modules: 12, seed: 7 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(generateScenario({ educators: 200, modules: 12, seed: 8 }))).not.toBe(JSON.stringify(a));
    const sb = createSandbox({ baseUrl: 'http://canvas.test', scenario: a });
    expect(sb.data.students(1)).toHaveLength(200);
    expect(sb.data.courseModules(1)).toHaveLength(12);
    expect(sb.data.submissions.length).toBeGreaterThan(100);
  });
});
