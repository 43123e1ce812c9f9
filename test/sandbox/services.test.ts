import crypto from 'node:crypto';
import request from 'supertest';
import type { Sandbox } from '../../src/sandbox';
import { ALL_SCOPES, UA, install, ltiToken, makeSandbox, startTool, type FakeTool } from './helpers';

const SCORE = 'application/vnd.ims.lis.v1.score+json';
const LINEITEM = 'application/vnd.ims.lis.v2.lineitem+json';

describe('sandbox LTI Advantage services', () => {
  let sb: Sandbox;
  let tool: FakeTool;
  let ids: { clientId: string; deploymentId: string; toolId: string };
  beforeAll(async () => {
    tool = await startTool();
  });
  afterAll(() => tool.close());
  beforeEach(() => {
    sb = makeSandbox();
    ids = install(sb, tool);
  });

  describe('client credentials', () => {
    const tokenRequest = (assertion: string, scope = ALL_SCOPES.join(' ')) => request(sb.app).post('/login/oauth2/token').set('User-Agent', UA).type('form').send({
      grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope,
    });
    const claims = (o: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: ids.clientId, sub: ids.clientId, aud: 'http://canvas.test/login/oauth2/token', iat: now, exp: now + 60, jti: crypto.randomUUID(), ...o };
    };

    it('issues a bearer token for a valid assertion', async () => {
      const res = await tokenRequest(tool.sign(claims()), ALL_SCOPES[0]);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: ALL_SCOPES[0] });
    });

    it.each([
      ['a trailing slash', 'http://canvas.test/login/oauth2/token/'],
      ['the issuer', 'http://canvas.test'],
      ['the authorization_server host', 'canvas.test'],
    ])('rejects an aud with %s exactly as Canvas does', async (_n, aud) => {
      const res = await tokenRequest(tool.sign(claims({ aud })));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: "the 'aud' is invalid" });
    });

    it('rejects a reused jti, an old iat, a future iat, a bad signature and scopes the key lacks', async () => {
      const c = claims();
      expect((await tokenRequest(tool.sign(c))).status).toBe(200);
      expect((await tokenRequest(tool.sign(c))).body).toMatchObject({ error: 'invalid_request', error_description: "the 'jti' is invalid" });
      const now = Math.floor(Date.now() / 1000);
      expect((await tokenRequest(tool.sign(claims({ iat: now - 400, exp: now + 60 })))).status).toBe(400);
      expect((await tokenRequest(tool.sign(claims({ iat: now + 120, exp: now + 200 })))).status).toBe(400);
      const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const forged = (await import('jsonwebtoken')).default.sign(claims(), other, { algorithm: 'RS256', keyid: tool.kid });
      expect((await tokenRequest(forged)).status).toBe(400);
      const limited = install(sb, tool, { scopes: [ALL_SCOPES[2] as string] });
      const res = await tokenRequest(tool.sign(claims({ iss: limited.clientId, sub: limited.clientId })), ALL_SCOPES.join(' '));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    });

    it('only works on /api/lti: a /api/v1 call with it is 401', async () => {
      const token = await ltiToken(sb, tool, ids.clientId);
      const res = await request(sb.app).get('/api/v1/users/self').set('User-Agent', UA).set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    });
  });

  describe('AGS', () => {
    let token: string;
    beforeEach(async () => {
      token = await ltiToken(sb, tool, ids.clientId);
    });
    const api = () => ({
      get: (p: string) => request(sb.app).get(p).set('User-Agent', UA).set('Authorization', `Bearer ${token}`),
      post: (p: string, body: object, type = LINEITEM) => request(sb.app).post(p).set('User-Agent', UA).set('Authorization', `Bearer ${token}`).set('Content-Type', type).send(JSON.stringify(body)),
    });
    const createLineItem = async (body: object = { scoreMaximum: 10, label: 'Tech Leader I badge', resourceId: 'tl1', tag: 'badge' }) => {
      const res = await api().post('/api/lti/courses/101/line_items', body);
      expect(res.status).toBe(200);
      return res.body as { id: string };
    };
    const score = (lineItem: string, body: Record<string, unknown>) => api().post(`${new URL(lineItem).pathname}/scores`, body, SCORE);
    const ts = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString();

    it('creates a line item and its placeholder assignment, and lists with filters and pagination', async () => {
      const li = await createLineItem();
      expect(li).toMatchObject({ scoreMaximum: 10, label: 'Tech Leader I badge', resourceId: 'tl1', tag: 'badge' });
      expect(li.id).toMatch(/^http:\/\/canvas\.test\/api\/lti\/courses\/101\/line_items\/\d+$/);
      const placeholder = sb.data.assignments.find((a) => a.name === 'Tech Leader I badge');
      expect(placeholder).toMatchObject({ pointsPossible: 10, courseId: 101 });
      await createLineItem({ scoreMaximum: 5, label: 'Other', tag: 'other' });
      await createLineItem({ scoreMaximum: 5, label: 'Third', tag: 'other' });
      const filtered = await api().get('/api/lti/courses/101/line_items?tag=other');
      expect(filtered.type).toBe('application/vnd.ims.lis.v2.lineitemcontainer+json');
      expect(JSON.parse(filtered.text)).toHaveLength(2);
      const page1 = await api().get('/api/lti/courses/101/line_items?limit=2');
      expect(JSON.parse(page1.text)).toHaveLength(2);
      expect(page1.headers.link).toMatch(/<http:\/\/canvas\.test\/api\/lti\/courses\/101\/line_items\?limit=2&page=2>; rel="next"/);
      const byResource = JSON.parse((await api().get('/api/lti/courses/101/line_items?resource_id=tl1')).text) as unknown[];
      expect(byResource).toHaveLength(1);
      // Another tool's token sees none of them.
      const other = install(sb, tool);
      const otherToken = await ltiToken(sb, tool, other.clientId);
      const res = await request(sb.app).get('/api/lti/courses/101/line_items').set('User-Agent', UA).set('Authorization', `Bearer ${otherToken}`);
      expect(JSON.parse(res.text)).toEqual([]);
      expect((await request(sb.app).get(new URL(li.id).pathname).set('User-Agent', UA).set('Authorization', `Bearer ${otherToken}`)).status).toBe(404);
    });

    it('requires scoreMaximum and label, and a valid resourceLinkId', async () => {
      expect((await api().post('/api/lti/courses/101/line_items', { label: 'x' })).status).toBe(400);
      expect((await api().post('/api/lti/courses/101/line_items', { scoreMaximum: 5 })).status).toBe(400);
      expect((await api().post('/api/lti/courses/101/line_items', { scoreMaximum: 5, label: 'x', resourceLinkId: 'nope' })).status).toBe(412);
      expect((await api().post('/api/lti/courses/999/line_items', { scoreMaximum: 5, label: 'x' })).status).toBe(404);
    });

    it('checks scopes: a read-only token cannot create or score', async () => {
      const ro = await ltiToken(sb, tool, ids.clientId, ['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly']);
      const res = await request(sb.app).post('/api/lti/courses/101/line_items').set('User-Agent', UA).set('Authorization', `Bearer ${ro}`).send({ scoreMaximum: 1, label: 'x' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: { type: 'unauthorized', message: 'Insufficient permissions' } });
      expect((await request(sb.app).get('/api/lti/courses/101/line_items').set('User-Agent', UA).set('Authorization', `Bearer ${ro}`)).status).toBe(200);
      expect((await request(sb.app).get('/api/lti/courses/101/line_items').set('User-Agent', UA)).status).toBe(401);
    });

    it('applies a FullyGraded score as a new attempt by default, with the comment as a submission comment', async () => {
      const li = await createLineItem();
      const assignment = sb.data.assignments.find((a) => a.name === 'Tech Leader I badge');
      const learner = sb.data.user(101);
      const res = await score(li.id, { userId: learner?.ltiId, scoreGiven: 4, scoreMaximum: 5, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: ts(), comment: 'Badge awarded' });
      expect(res.status).toBe(200);
      expect(res.body.resultUrl).toMatch(new RegExp(`^${li.id}/results/\\d+$`));
      const sub = sb.data.submission(assignment?.id ?? 0, 101);
      expect(sub).toMatchObject({ attempt: 1, score: 8, workflowState: 'graded', submissionType: 'basic_lti_launch' });
      expect(sb.data.comments.filter((c) => c.submissionId === sub?.id).map((c) => c.comment)).toEqual(['Badge awarded']);
      const results = await api().get(`${new URL(li.id).pathname}/results`);
      expect(results.type).toBe('application/vnd.ims.lis.v2.resultcontainer+json');
      expect(JSON.parse(results.text)).toEqual([{ id: expect.any(String), scoreOf: li.id, userId: learner?.ltiId, resultScore: 8, resultMaximum: 10, comment: 'Badge awarded' }]);
    });

    it('does not create an attempt with new_submission: false, and accepts Canvas user ids', async () => {
      const li = await createLineItem();
      const assignment = sb.data.assignments.find((a) => a.name === 'Tech Leader I badge');
      const res = await score(li.id, { userId: '102', scoreGiven: 10, scoreMaximum: 10, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: ts(), 'https://canvas.instructure.com/lti/submission': { new_submission: false } });
      expect(res.status).toBe(200);
      expect(sb.data.submission(assignment?.id ?? 0, 102)).toMatchObject({ attempt: 0, score: 10, submittedAt: null });
    });

    it('rejects a timestamp earlier than the last score (400) and a non-student (422)', async () => {
      const li = await createLineItem();
      const base = { scoreGiven: 1, scoreMaximum: 10, activityProgress: 'Completed', gradingProgress: 'FullyGraded' };
      expect((await score(li.id, { ...base, userId: '101', timestamp: ts() })).status).toBe(200);
      const earlier = await score(li.id, { ...base, userId: '101', timestamp: ts(-60) });
      expect(earlier.status).toBe(400);
      expect(earlier.body.errors.message).toMatch(/before last updated timestamp/);
      expect((await score(li.id, { ...base, userId: '101', timestamp: ts(60) })).status).toBe(200);
      const teacher = await score(li.id, { ...base, userId: sb.data.user(3)?.ltiId, timestamp: ts() });
      expect(teacher.status).toBe(422);
      expect(teacher.body).toEqual({ errors: { type: 'unprocessable_entity', message: 'User not found in course or is not a student' } });
      expect((await score(li.id, { ...base, userId: 'not-a-user', timestamp: ts() })).status).toBe(422);
    });

    it('validates score bodies', async () => {
      const li = await createLineItem();
      const ok = { userId: '101', activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: ts() };
      expect((await score(li.id, { ...ok, activityProgress: 'Done' })).status).toBe(400);
      expect((await score(li.id, { ...ok, gradingProgress: 'Graded' })).status).toBe(400);
      expect((await score(li.id, { ...ok, timestamp: undefined })).status).toBe(400);
      expect((await score(li.id, { ...ok, scoreGiven: -1, scoreMaximum: 10 })).status).toBe(400);
      expect((await score(li.id, { ...ok, scoreGiven: 5 })).status).toBe(400);
      expect((await api().post(`${new URL(li.id).pathname}/scores`, { ...ok, scoreGiven: 1, scoreMaximum: 1 }, 'application/json')).status).toBe(415);
    });

    it('records progress without a score unless FullyGraded or PendingManual', async () => {
      const li = await createLineItem();
      const a = sb.data.assignments.find((x) => x.name === 'Tech Leader I badge');
      await score(li.id, { userId: '101', scoreGiven: 3, scoreMaximum: 10, activityProgress: 'Submitted', gradingProgress: 'Pending', timestamp: ts() });
      expect(sb.data.submission(a?.id ?? 0, 101)).toMatchObject({ attempt: 1, score: null, workflowState: 'submitted' });
    });

    it('deletes the assignment with its primary line item, and updates it with PUT', async () => {
      const li = await createLineItem();
      const path = new URL(li.id).pathname;
      const put = await request(sb.app).put(path).set('User-Agent', UA).set('Authorization', `Bearer ${token}`).set('Content-Type', LINEITEM).send(JSON.stringify({ label: 'Renamed', scoreMaximum: 20 }));
      expect(put.status).toBe(200);
      const a = sb.data.assignments.find((x) => x.name === 'Renamed');
      expect(a?.pointsPossible).toBe(20);
      const del = await request(sb.app).delete(path).set('User-Agent', UA).set('Authorization', `Bearer ${token}`);
      expect(del.status).toBe(204);
      expect(sb.data.assignment(a?.id ?? 0)).toBeUndefined();
      expect((await api().get(path)).status).toBe(404);
    });
  });

  describe('NRPS', () => {
    it('lists members with roles, pagination and the Canvas message claims for rlid', async () => {
      const token = await ltiToken(sb, tool, ids.clientId);
      const get = (q: string) => request(sb.app).get(`/api/lti/courses/101/names_and_roles${q}`).set('User-Agent', UA).set('Authorization', `Bearer ${token}`);
      const first = await get('?limit=5');
      expect(first.status).toBe(200);
      expect(first.type).toBe('application/vnd.ims.lti-nrps.v2.membershipcontainer+json');
      const body = JSON.parse(first.text) as { id: string; context: { title: string }; members: { user_id: string; roles: string[]; name?: string; email?: string; status: string }[] };
      expect(body.context.title).toBe('Tech Leader I');
      expect(body.members).toHaveLength(5);
      expect(first.headers.link).toMatch(/rel="next"/);
      const second = JSON.parse((await get('?limit=5&page=2')).text) as typeof body;
      const third = JSON.parse((await get('?limit=5&page=3')).text) as typeof body;
      expect(body.members.length + second.members.length + third.members.length).toBe(11);
      expect((await get('?limit=5&page=3')).headers.link).not.toMatch(/rel="next"/);
      const learners = JSON.parse((await get('?role=http://purl.imsglobal.org/vocab/lis/v2/membership%23Learner')).text) as typeof body;
      expect(learners.members).toHaveLength(8);
      expect(learners.members[0]).toMatchObject({ status: 'Active', name: expect.any(String), email: expect.any(String), roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'] });
      const ta = body.members.find((m) => m.user_id === sb.data.user(4)?.ltiId);
      expect(ta?.roles).toEqual(['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor', 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant']);
      const linked = sb.actions.linkAssignmentToTool(101, 2005, ids.toolId);
      const withRlid = JSON.parse((await get(`?rlid=${linked.resourceLinkId}&role=Learner&limit=1`)).text) as { members: { message: Record<string, unknown>[] }[] };
      expect(withRlid.members[0]?.message[0]).toMatchObject({
        'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiResourceLinkRequest',
        'https://www.instructure.com/canvas_user_id': 101,
        'https://www.instructure.com/canvas_user_login_id': 'tellison',
        'https://purl.imsglobal.org/spec/lti/claim/custom': { canvas_user_id: '101', canvas_assignment_id: '2005' },
      });
    });

    it('needs the NRPS scope', async () => {
      const token = await ltiToken(sb, tool, ids.clientId, [ALL_SCOPES[0] as string]);
      expect((await request(sb.app).get('/api/lti/courses/101/names_and_roles').set('User-Agent', UA).set('Authorization', `Bearer ${token}`)).status).toBe(401);
    });
  });
});
