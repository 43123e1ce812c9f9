import request from 'supertest';
import type { Sandbox } from '../../src/sandbox';
import { UA, makeSandbox } from './helpers';

describe('sandbox Canvas REST API', () => {
  let sb: Sandbox;
  let teacher: string;
  let student: string;
  let ta: string;
  let designer: string;
  beforeEach(() => {
    sb = makeSandbox();
    teacher = sb.issueUserToken({ userId: 3 }).accessToken;
    student = sb.issueUserToken({ userId: 101 }).accessToken;
    ta = sb.issueUserToken({ userId: 4 }).accessToken;
    designer = sb.issueUserToken({ userId: 2 }).accessToken;
  });
  const get = (path: string, token: string) => request(sb.app).get(path).set('User-Agent', UA).set('Authorization', `Bearer ${token}`);
  const put = (path: string, token: string) => request(sb.app).put(path).set('User-Agent', UA).set('Authorization', `Bearer ${token}`).type('form');

  it('refuses requests without a User-Agent (403) and without a token (401)', async () => {
    const noUa = await request(sb.app).get('/api/v1/users/self').set('Authorization', `Bearer ${teacher}`);
    expect(noUa.status).toBe(403);
    const noToken = await request(sb.app).get('/api/v1/users/self').set('User-Agent', UA);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ status: 'unauthenticated', errors: [{ message: 'user authorization required' }] });
    const ok = await request(sb.app).get('/api/v1/users/self').set('user-agent', UA).set('authorization', `bearer ${teacher}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: 3, name: 'Lena Castellanos' });
  });

  it('paginates with absolute Link headers, default 10 and per_page max 100', async () => {
    const first = await get('/api/v1/courses/101/users', teacher);
    expect(first.body).toHaveLength(10);
    const links = Object.fromEntries(String(first.headers.link).split(',').map((p) => {
      const m = /<([^>]+)>; rel="(\w+)"/.exec(p);
      return [m?.[2], m?.[1]];
    }));
    expect(Object.keys(links).sort()).toEqual(['current', 'first', 'last', 'next']);
    expect(links.next).toMatch(/^http:\/\/canvas\.test\/api\/v1\/courses\/101\/users\?.*page=2/);
    const next = await get(new URL(links.next as string).pathname + new URL(links.next as string).search, teacher);
    expect(next.body).toHaveLength(1);
    expect(String(next.headers.link)).toMatch(/rel="prev"/);
    const big = await get('/api/v1/courses/101/users?per_page=500', teacher);
    expect(big.body).toHaveLength(11);
    expect(String(big.headers.link)).toContain('per_page=100');
  });

  it('filters users by enrollment_type[] and shows emails to staff only', async () => {
    const students = await get('/api/v1/courses/101/users?enrollment_type[]=student&include[]=email&per_page=50', teacher);
    expect(students.body).toHaveLength(8);
    expect(students.body[0].email).toMatch(/@qcps\.example\.org$/);
    const asStudent = await get('/api/v1/courses/101/users?enrollment_type[]=student&include[]=email&per_page=50', student);
    expect(asStudent.body[0].email).toBeUndefined();
  });

  it('lets a student see only their own data, with Canvas\'s permission error', async () => {
    const other = await get('/api/v1/courses/101/assignments/2001/submissions/102', student);
    expect(other.status).toBe(403);
    expect(other.body).toEqual({ status: 'unauthorized', errors: [{ message: 'user not authorized to perform that action' }] });
    const own = await get('/api/v1/courses/101/assignments/2001/submissions/self', student);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ user_id: 101, assignment_id: 2001, workflow_state: 'graded', score: 10 });
    const list = await get('/api/v1/courses/101/assignments/2001/submissions', student);
    expect(list.body.map((s: { user_id: number }) => s.user_id)).toEqual([101]);
    expect((await get('/api/v1/courses/101/modules?student_id=102', student)).status).toBe(403);
    expect((await get('/api/v1/courses/101/bulk_user_progress', student)).status).toBe(403);
    expect((await get('/api/v1/courses/102', student)).status).toBe(403);
    expect((await get('/api/v1/courses/999', student)).status).toBe(404);
  });

  it('reports modules with per-student state, items and completion', async () => {
    const res = await get('/api/v1/courses/101/modules?include[]=items&include[]=content_details&student_id=102&per_page=50', teacher);
    expect(res.status).toBe(200);
    const mods = res.body as { name: string; state: string; items: { id: number; completion_requirement?: { type: string; completed: boolean; min_score?: number }; content_details?: { points_possible?: number } }[] }[];
    expect(mods.map((m) => m.name)).toEqual(['Digital Citizenship', 'FERPA and CIPA', 'Core Google Workspace', 'Navigating Canvas', 'Face-to-face training (6 hours)', 'Demonstration of mastery']);
    expect(mods[0]?.state).toBe('completed');
    expect(mods[1]?.state).toBe('started'); // quick check scored 7 < min_score 8
    const quick = mods[1]?.items.find((i) => i.id === 10023);
    expect(quick?.completion_requirement).toEqual({ type: 'min_score', min_score: 8, completed: false });
    expect(quick?.content_details?.points_possible).toBe(10);
    const items = await get('/api/v1/courses/101/modules/1005/items?student_id=102', teacher);
    expect(items.body.map((i: { completion_requirement?: { completed: boolean } }) => i.completion_requirement?.completed)).toEqual([undefined, true, true, false]);
    const own = await get('/api/v1/courses/101/modules/1005?include[]=items', sb.issueUserToken({ userId: 102 }).accessToken);
    expect(own.body.state).toBe('started');
  });

  it('marks a must_mark_done item done for the student', async () => {
    const token = sb.issueUserToken({ userId: 102 }).accessToken;
    expect((await put('/api/v1/courses/101/modules/1005/items/10054/done', token)).status).toBe(204);
    const mod = await get('/api/v1/courses/101/modules/1005?student_id=102', teacher);
    expect(mod.body.state).toBe('completed');
    expect((await put('/api/v1/courses/101/modules/1001/items/10011/done', token)).status).toBe(400);
  });

  it('grades with a rubric assessment, rejecting unknown criteria', async () => {
    const path = '/api/v1/courses/101/assignments/2005/submissions/101';
    const bad = await put(path, ta).send('rubric_assessment[_99][points]=1');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('invalid rubric_assessment');
    const res = await put(path, ta).send('rubric_assessment[_10][points]=4&rubric_assessment[_10][rating_id]=name_2&rubric_assessment[_10][comments]=Great&rubric_assessment[_11][rating_id]=name_5&rubric_assessment[_12][points]=2&rubric_assessment[_13][points]=2&comment[text_comment]=Badge%20awarded');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ score: 10, grade: '10', workflow_state: 'graded', grader_id: 4 });
    expect(res.body.rubric_assessment._10).toEqual({ points: 4, rating_id: 'name_2', comments: 'Great' });
    expect(res.body.rubric_assessment._11).toMatchObject({ points: 2, rating_id: 'name_5' });
    expect(res.body.submission_comments.map((c: { comment: string }) => c.comment)).toContain('Badge awarded');
    expect((await put('/api/v1/courses/101/assignments/2001/submissions/101', teacher).send('rubric_assessment[_10][points]=1')).status).toBe(400);
    expect((await put(path, designer).send('submission[posted_grade]=5')).status).toBe(403);
    const posted = await put(path, teacher).send('submission[posted_grade]=80%25');
    expect(posted.body.score).toBe(8);
  });

  it('lists students/submissions with Canvas\'s filters and limits', async () => {
    const all = await get('/api/v1/courses/101/students/submissions?student_ids[]=all&assignment_ids[]=2005&include[]=rubric_assessment&include[]=submission_comments&workflow_state=graded', teacher);
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(1);
    expect(all.body[0]).toMatchObject({ user_id: 103, score: 9, rubric_assessment: { _10: { points: 3, rating_id: 'name_3' } } });
    const ids = Array.from({ length: 101 }, (_, i) => `student_ids[]=${i + 1}`).join('&');
    expect((await get(`/api/v1/courses/101/students/submissions?${ids}`, teacher)).status).toBe(400);
    sb.data.assignment(2004)!.published = false;
    expect((await get('/api/v1/courses/101/students/submissions?student_ids[]=all&assignment_ids[]=2004', teacher)).status).toBe(403);
    const since = await get('/api/v1/courses/101/students/submissions?student_ids[]=all&submitted_since=2025-07-20T00:00:00Z&per_page=100', teacher);
    expect(since.body.map((s: { user_id: number; assignment_id: number }) => `${s.user_id}:${s.assignment_id}`).sort()).toEqual(['101:2005', '102:2005']);
    const grouped = await get('/api/v1/courses/101/students/submissions?student_ids[]=101&student_ids[]=103&grouped=1&include[]=submission_history', teacher);
    expect(grouped.body.map((g: { user_id: number }) => g.user_id)).toEqual([101, 103]);
    expect(grouped.body[0].submissions.length).toBeGreaterThan(0);
    expect(grouped.body[0].submissions[0].submission_history).toBeInstanceOf(Array);
  });

  it('records a new attempt from actions.submit with attachments that download with the verifier URL', async () => {
    const events: Record<string, unknown>[] = [];
    sb.events.on('submission_updated', (e) => events.push(e));
    sb.actions.submit(101, 2005, 102, { body: 'Second try', attachments: [{ filename: 'evidence.txt', contentType: 'text/plain', bytes: 'hello' }] });
    expect(events[0]).toMatchObject({ assignment_id: 2005, user_id: 102, attempt: 2 });
    const sub = await get('/api/v1/courses/101/assignments/2005/submissions/102?include[]=submission_history', teacher);
    expect(sub.body).toMatchObject({ attempt: 2, body: 'Second try', submission_type: 'online_upload' });
    expect(sub.body.submission_history).toHaveLength(2);
    const file = sub.body.attachments[0] as { url: string; 'content-type': string; id: number };
    expect(file.url).toMatch(/^http:\/\/canvas\.test\/files\/\d+\/download\?download_frd=1&verifier=/);
    const dl = await request(sb.app).get(new URL(file.url).pathname + new URL(file.url).search);
    expect(dl.status).toBe(200);
    expect(dl.headers['content-type']).toMatch(/^text\/plain/);
    expect(dl.text).toBe('hello');
    expect((await request(sb.app).get(`/files/${file.id}/download?verifier=wrong`)).status).toBe(401);
    expect((await get(`/api/v1/files/${file.id}`, teacher)).body).toMatchObject({ display_name: 'evidence.txt', size: 5 });
    expect((await get(`/api/v1/files/${file.id}`, student)).status).toBe(403);
    const pdf = sb.data.submission(2005, 101)?.attachmentIds[0];
    const pdfFile = (await get(`/api/v1/files/${pdf}`, teacher)).body as { url: string };
    const bytes = await request(sb.app).get(new URL(pdfFile.url).pathname + new URL(pdfFile.url).search).buffer(true);
    expect(bytes.headers['content-type']).toBe('application/pdf');
    expect(String(bytes.body).startsWith('%PDF-1.4')).toBe(true);
  });

  it('serves rubrics to teachers and designers only, and assignments with rubric settings', async () => {
    expect((await get('/api/v1/courses/101/rubrics', student)).status).toBe(403);
    expect((await get('/api/v1/courses/101/rubrics', ta)).status).toBe(403);
    const r = await get('/api/v1/courses/101/rubrics/501?include[]=assessments&include[]=associations', designer);
    expect(r.status).toBe(200);
    expect(r.body.data[0]).toMatchObject({ id: '_10', ratings: [{ id: 'name_2', criterion_id: '_10' }, { id: 'name_3' }, { id: 'name_4' }] });
    expect(r.body.associations[0]).toMatchObject({ association_id: 2005, association_type: 'Assignment', use_for_grading: true });
    const a = await get('/api/v1/courses/101/assignments/2005', student);
    expect(a.body).toMatchObject({ points_possible: 10, published: true, submission_types: ['online_text_entry', 'online_url', 'online_upload'], rubric_settings: { id: 501, points_possible: 10 } });
    expect(a.body.rubric).toHaveLength(4);
  });

  it('enrolls users (admin or teacher), reports bulk progress, sends conversations', async () => {
    const admin = sb.issueUserToken({ userId: 1 }).accessToken;
    const enroll = await request(sb.app).post('/api/v1/courses/102/enrollments').set('User-Agent', UA).set('Authorization', `Bearer ${teacher}`).type('form').send('enrollment[user_id]=103&enrollment[type]=StudentEnrollment&enrollment[enrollment_state]=active');
    expect(enroll.status).toBe(200);
    expect(enroll.body).toMatchObject({ user_id: 103, course_id: 102, type: 'StudentEnrollment', enrollment_state: 'active' });
    const asTeacherDesigner = await request(sb.app).post('/api/v1/courses/102/enrollments').set('User-Agent', UA).set('Authorization', `Bearer ${teacher}`).type('form').send('enrollment[user_id]=104&enrollment[type]=DesignerEnrollment');
    expect(asTeacherDesigner.status).toBe(403);
    const asAdmin = await request(sb.app).post('/api/v1/courses/102/enrollments').set('User-Agent', UA).set('Authorization', `Bearer ${admin}`).type('form').send('enrollment[user_id]=104&enrollment[type]=DesignerEnrollment');
    expect(asAdmin.status).toBe(200);
    const progress = await get('/api/v1/courses/101/bulk_user_progress?per_page=100', teacher);
    const tamika = progress.body.find((p: { id: number }) => p.id === 101);
    expect(tamika.progress).toMatchObject({ requirement_count: 16, requirement_completed_count: 16, completed_at: expect.any(String) });
    const conv = await request(sb.app).post('/api/v1/conversations').set('User-Agent', UA).set('Authorization', `Bearer ${teacher}`).type('form').send('recipients[]=101&subject=Badge&body=Congratulations');
    expect(conv.status).toBe(201);
    expect(sb.data.conversations[0]).toMatchObject({ subject: 'Badge', participantIds: [3, 101] });
    const inbox = await get('/api/v1/conversations', student);
    expect(inbox.body[0].messages[0].body).toBe('Congratulations');
  });

  describe('OAuth2', () => {
    it('runs the authorization code flow; refresh returns no new refresh token; revoked and expired tokens are 401', async () => {
      const key = sb.createApiKey({ redirectUris: ['https://tool.example.com/oauth/callback'], name: 'Microcred' });
      const auth = await request(sb.app).get('/login/oauth2/auth').query({ client_id: key.clientId, response_type: 'code', redirect_uri: 'https://tool.example.com/oauth/callback', state: 'xyz', as: '3' });
      expect(auth.status).toBe(200);
      expect(auth.text).toContain('Microcred is requesting access to your account');
      const confirm = await request(sb.app).post('/login/oauth2/confirm').type('form').send({ client_id: key.clientId, redirect_uri: 'https://tool.example.com/oauth/callback', state: 'xyz', user_id: '3', decision: 'authorize' });
      expect(confirm.status).toBe(302);
      const cb = new URL(confirm.headers.location as string);
      expect(cb.searchParams.get('state')).toBe('xyz');
      const code = cb.searchParams.get('code') as string;
      const token = (body: Record<string, string>) => request(sb.app).post('/login/oauth2/token').set('User-Agent', UA).type('form').send(body);
      expect((await token({ grant_type: 'authorization_code', client_id: key.clientId, client_secret: 'wrong', code, redirect_uri: 'https://tool.example.com/oauth/callback' })).status).toBe(401);
      const tok = await token({ grant_type: 'authorization_code', client_id: key.clientId, client_secret: key.clientSecret, code, redirect_uri: 'https://tool.example.com/oauth/callback' });
      expect(tok.status).toBe(200);
      expect(tok.body).toMatchObject({ token_type: 'Bearer', user: { id: 3, name: 'Lena Castellanos' }, refresh_token: expect.any(String), expires_in: 3600 });
      expect((await token({ grant_type: 'authorization_code', client_id: key.clientId, client_secret: key.clientSecret, code })).status).toBe(400);
      const refreshed = await token({ grant_type: 'refresh_token', client_id: key.clientId, client_secret: key.clientSecret, refresh_token: tok.body.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refresh_token).toBeUndefined();
      expect(refreshed.body.access_token).not.toBe(tok.body.access_token);
      expect((await get('/api/v1/users/self', refreshed.body.access_token)).status).toBe(200);
      expect((await get('/api/v1/users/self', tok.body.access_token)).status).toBe(401);
      sb.revokeToken(refreshed.body.access_token);
      const revoked = await get('/api/v1/users/self', refreshed.body.access_token);
      expect(revoked.status).toBe(401);
      expect(revoked.headers['www-authenticate']).toMatch(/Bearer realm="canvas-lms"/);
      expect(revoked.body).toEqual({ errors: [{ message: 'Invalid access token.' }] });
      const expired = sb.issueUserToken({ userId: 3, ttlSeconds: -1 }).accessToken;
      expect((await get('/api/v1/users/self', expired)).status).toBe(401);
      const logout = sb.issueUserToken({ userId: 3 }).accessToken;
      expect((await request(sb.app).delete('/login/oauth2/token').set('User-Agent', UA).set('Authorization', `Bearer ${logout}`)).status).toBe(200);
      expect((await get('/api/v1/users/self', logout)).status).toBe(401);
    });

    it('rejects a redirect_uri on another domain', async () => {
      const key = sb.createApiKey({ redirectUris: ['https://tool.example.com/oauth/callback'] });
      const res = await request(sb.app).get('/login/oauth2/auth').query({ client_id: key.clientId, response_type: 'code', redirect_uri: 'https://evil.example.net/cb' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('redirect_uri does not match client settings');
    });
  });

  describe('throttling', () => {
    it('answers 403 (Rate Limit Exceeded) as text when the bucket is full, unlike a permission 403', async () => {
      sb.setThrottle({ hwm: 120, upFrontCost: 50, outflow: 0.001, cost: 45 });
      const first = await get('/api/v1/users/self', teacher);
      expect(first.status).toBe(200);
      expect(Number(first.headers['x-request-cost'])).toBe(45);
      expect(Number(first.headers['x-rate-limit-remaining'])).toBeCloseTo(75, 0);
      await get('/api/v1/users/self', teacher);
      await get('/api/v1/users/self', teacher);
      const throttled = await get('/api/v1/users/self', teacher);
      expect(throttled.status).toBe(403);
      expect(throttled.text).toBe('403 Forbidden (Rate Limit Exceeded)');
      expect(throttled.headers['x-rate-limit-remaining']).toBe('0.0');
      expect(sb.requests.filter((r) => r.throttled)).toHaveLength(1);
      // Another token has its own bucket.
      expect((await get('/api/v1/users/self', student)).status).toBe(200);
    });

    it('trips on concurrency: in-flight requests hold the up-front cost', async () => {
      sb = makeSandbox({ throttle: true, latencyMs: 50 });
      const t = sb.issueUserToken({ userId: 3 }).accessToken;
      const results = await Promise.all(Array.from({ length: 14 }, () => get('/api/v1/users/self', t)));
      expect(results.filter((r) => r.status === 403).length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(12);
    });
  });
});
