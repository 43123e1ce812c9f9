import { snapshotEvidenceSource } from '../../src/progress/toReview';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { logger } from '../../src/log';
import { generateScenario } from '../../src/sandbox';
import { submitForReview } from '../../src/review/service';
import { startStack, TEST_SECRET, type Stack } from '../support/stack';
import { sessionOf } from '../support/session';
import { Browser } from '../support/browser';
import { body, forgetAndStop, techLeaderI } from '../catalog/support';
import { attachCredential, completeModules, courseOf, userByCanvasId, waitFor } from '../progress/support';


/**
 * No tokens or personal data in the logs (docs/privacy.md): a whole story — launches, the catalog, a progress sync
 * with an evidence snapshot, a review and the educator reading the decision, plus errors — runs with the logger at
 * `trace` and its output captured; no session token, CSRF token, id_token or other JWT, Canvas access token,
 * SECRET_KEY, email address or person's name appears in any line.
 */
const lines: string[] = [];
// pino writes through the stream under this symbol (children share it); the level is read when children are made.
(logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = { write: (s: string) => void lines.push(s) };
logger.level = 'trace';

const artifactDir = path.resolve('test-artifacts/privacy');
const MODULES = ['100', '101', '102'];
const EVIDENCE = '1005';

describe('the logs of a whole story', () => {
  let stack: Stack;
  const secrets = new Map<string, string>();
  const scenario = generateScenario({ educators: 4, modules: 6, seed: 3 });

  const launch = async (userId: string, browser = new Browser()) => {
    const { page } = await stack.launch(userId, { courseId: '1', browser });
    expect(page.status).toBe(200);
    const s = sessionOf(page);
    secrets.set(`session token of ${userId}`, s.base.split('/s/')[1]!);
    secrets.set(`CSRF token of ${userId}`, s.csrf);
    for (const p of browser.history) {
      const idToken = /name="id_token" value="([^"]+)"/.exec(p.body)?.[1];
      if (idToken) secrets.set(`id_token of ${userId}`, idToken);
    }
    return s;
  };

  beforeAll(async () => {
    stack = await startStack({ scenario });
  }, 60_000);
  afterAll(() => forgetAndStop(stack));

  it('runs launch, catalog, progress sync, review and feedback', async () => {
    const designer = await launch('4');
    const created = await body<{ id: string }>(await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Logged credential' }) }));
    expect((await designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' })).status).toBe(200);
    expect((await designer.api('/catalog')).status).toBe(200);

    const { tenantId, courseId } = await courseOf(stack, '1');
    const designerRow = await userByCanvasId(stack, tenantId, '4');
    const credentialId = await attachCredential(stack, { tenantId, courseId, designerId: designerRow!.id, name: 'Digital citizenship', moduleIds: MODULES, assignmentId: EVIDENCE, canvasCourseId: '1' });
    const { accessToken } = stack.sandbox.issueUserToken({ userId: 1 });
    secrets.set('Canvas access token', accessToken);
    await stack.tool.app.canvas.store.setServiceToken(tenantId, accessToken, { setBy: designerRow!.id, canvasUser: '1' });

    // The educator does the work in Canvas, with a file; the sync sees it and the snapshot job keeps the evidence.
    completeModules(stack.sandbox, 1, 100, MODULES);
    stack.sandbox.actions.submit(1, EVIDENCE, 100, { body: '<p>My lesson</p>', attachments: [{ filename: 'lesson.pdf', contentType: 'application/pdf', bytes: '%PDF-1.4\n%%EOF\n' }] });
    const educator = await launch('100');
    await stack.tool.app.progress.sync.syncCourse({ tenantId, courseId, mode: 'full' });
    const snapshot = await waitFor(async () => (await stack.tool.db.sql.query<{ id: string }>("SELECT id FROM evidence_snapshots WHERE tenant_id = $1 AND canvas_user_id = '100'", [tenantId])).rows[0]);
    expect((await educator.api('/earner')).status).toBe(200);

    // The review (the progress engine hands the snapshot to the review in main; here the test does).
    stack.tool.app.review.setEvidenceSource(snapshotEvidenceSource(stack.tool.db.orm));
    const [version] = (await stack.tool.db.sql.query<{ id: string }>('SELECT current_version_id AS id FROM micro_credentials WHERE id = $1', [credentialId])).rows;
    const earner = await userByCanvasId(stack, tenantId, '100');
    const item = await submitForReview(stack.tool.app.review.deps, { tenantId, courseId, credentialId, versionId: version!.id, earnerId: earner!.id, attempt: 1, snapshotId: snapshot.id, submittedAt: new Date() });
    const admin = await launch('1');
    expect((await admin.api(`/review/items/${item.id}`)).status).toBe(200);
    expect((await admin.api(`/api/review/items/${item.id}/claim`, { method: 'POST' })).status).toBe(200);
    const scores = { 'digital-citizenship': 'meets', 'ferpa-cipa': 'meets', 'google-workspace': 'meets', 'navigating-canvas': 'meets' };
    const decided = await admin.api(`/api/review/items/${item.id}/decision`, { method: 'POST', json: { scores, decision: 'not_yet', overrideComment: 'Needs a reflection.', feedback: 'Add a reflection, please.' } });
    expect(decided.status).toBe(200);
    expect((await educator.api('/review/feedback')).status).toBe(200);

    // Errors and refusals log too: a bad form, a refused page, an unknown session, a launch replay.
    expect((await educator.api('/review')).status).toBe(403);
    expect((await designer.api('/api/catalog/credentials', { method: 'POST', json: { name: '' } })).status).toBe(400);
    expect((await fetch(`${stack.tool.url}/s/${'x'.repeat(43)}/earner?ltik=abc.def.ghi`)).status).toBe(401);
    const replay = [...secrets].find(([k]) => k.startsWith('id_token'))![1];
    expect((await fetch(`${stack.tool.url}/lti/launch`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ id_token: replay, state: 'nope' }) })).status).toBeGreaterThanOrEqual(400);
    await stack.tool.app.jobs.stop();
  }, 120_000);

  it('redacts secrets and personal data that code might hand the logger', () => {
    const before = lines.length;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    logger.error({ err: { message: 'Canvas refused', config: { headers: { Authorization: 'Bearer canvas-token-123456' }, data: `grant_type=client_credentials&client_assertion=${jwt}` } } }, 'canvas call failed');
    logger.warn({ user: { email: 'someone@district.example', name: 'Some One' }, id_token: jwt, access_token: 'canvas-token-123456' }, 'odd');
    logger.info({ email: 'someone@district.example', name: 'Some One' }, 'who');
    const out = lines.slice(before).join('');
    expect(lines.length).toBe(before + 3);
    for (const v of [jwt, 'canvas-token-123456', 'someone@district.example', 'Some One']) expect(out).not.toContain(v);
    expect(out).toContain('[redacted]');
  });

  it('has logged the story, and no token or personal data in it', () => {
    const log = lines.join('');
    fs.mkdirSync(artifactDir, { recursive: true });
    fs.writeFileSync(path.join(artifactDir, 'story.log'), log);
    expect(lines.length).toBeGreaterThan(30);
    expect(log).toContain('"msg":"request"');
    expect(log).toContain('course synced');
    expect(log).toContain('evidence snapshot taken');
    expect(log).toContain('/s/[session]/');

    secrets.set('SECRET_KEY', TEST_SECRET);
    for (const u of scenario.users) {
      secrets.set(`name of ${u.id}`, u.name);
      if (u.email) secrets.set(`email of ${u.id}`, u.email);
    }
    expect(secrets.size).toBeGreaterThan(15);
    const leaks = [...secrets].filter(([, v]) => v && log.includes(v)).map(([k]) => k);
    expect(leaks).toEqual([]);
    expect(log.match(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g) ?? []).toEqual([]);
    expect(log.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g) ?? []).toEqual([]);
    expect(log).not.toMatch(/Bearer [A-Za-z0-9~._-]{10,}/);
  });
});
