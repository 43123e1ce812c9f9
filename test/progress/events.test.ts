/**
 * Canvas Live Events, fast refreshes, evidence snapshots, identity mapping and the pages, against the sandbox with
 * 200 educators. The sandbox emits events in-process; the test signs them as Canvas does and posts them over HTTP.
 */
import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { generateScenario } from '../../src/sandbox';
import { canvasIdentities } from '../../src/progress/schema';
import { HANDLED_EVENTS } from '../../src/progress/events';
import { startStack, type Stack } from '../support/stack';
import { sessionOf } from '../support/session';
import { canvasEnvelope, postEvent, startEventSigner, type EventSigner } from '../support/liveEvents';
import { forgetAndStop, png } from '../catalog/support';
import { attachCredential, completeModules, courseOf, userByCanvasId, waitFor } from './support';

jest.setTimeout(90_000);

const MODULES = ['100', '101', '102'];
const EVIDENCE = '1005';

describe('Canvas events, snapshots, identities and pages', () => {
  let stack: Stack;
  let signer: EventSigner;
  let tenantId: string;
  let courseId: string;
  let eventsUrl: string;
  const posted: Promise<Response>[] = [];
  const delivered: { name: string; jwt: string; status: number }[] = [];
  let forwarding = true;

  const progressOf = async (uid: number) => (await stack.tool.app.progress.repo.progressFor(tenantId, courseId, String(uid)))[0];

  beforeAll(async () => {
    stack = await startStack({ scenario: generateScenario({ educators: 200, modules: 6, seed: 7 }) });
    signer = await startEventSigner();
    await stack.launch('4', { courseId: '1' });
    ({ tenantId, courseId } = await courseOf(stack, '1'));
    const designer = await userByCanvasId(stack, tenantId, '4');
    await attachCredential(stack, { tenantId, courseId, designerId: designer!.id, name: 'Formative assessment', moduleIds: MODULES, assignmentId: EVIDENCE, canvasCourseId: '1' });
    const { accessToken } = stack.sandbox.issueUserToken({ userId: 1 });
    await stack.tool.app.canvas.store.setServiceToken(tenantId, accessToken, { setBy: designer!.id, canvasUser: '1' });
    await stack.tool.app.progress.repo.setSettings(tenantId, { liveEventsJwksUrl: signer.jwksUrl });
    eventsUrl = `${stack.tool.url}/canvas/events/${tenantId}`;
    await stack.tool.app.progress.sync.syncCourse({ tenantId, courseId });
    // Canvas's Live Events, delivered over HTTPS as signed JWTs.
    for (const name of HANDLED_EVENTS) {
      stack.sandbox.events.on(name, (payload) => {
        if (!forwarding) return;
        const jwt = signer.sign(canvasEnvelope(name, payload, { courseId: 1 }));
        const p = postEvent(eventsUrl, jwt, delivered.length % 2 ? 'json' : 'jwt');
        posted.push(p);
        void p.then((res) => delivered.push({ name, jwt, status: res.status }));
      });
    }
  });
  afterAll(async () => {
    forwarding = false;
    await Promise.allSettled(posted);
    await signer.close();
    await forgetAndStop(stack);
  });

  it('maps LTI subs to Canvas user ids through NRPS (with rlid) and launches, never by email', async () => {
    const sb = stack.sandbox;
    const rows = await waitFor(async () => {
      const all = await stack.tool.db.orm.select().from(canvasIdentities).where(eq(canvasIdentities.tenantId, tenantId));
      const nrps = all.filter((r) => r.sources.includes('nrps'));
      return nrps.length >= 200 ? nrps : undefined;
    });
    for (const uid of [100, 150, 299]) {
      const r = rows.find((x) => x.canvasUserId === String(uid));
      expect(r).toMatchObject({ ltiSub: sb.data.user(uid)!.ltiId, sources: expect.arrayContaining(['nrps', 'roster']) });
    }
    await stack.launch('105', { courseId: '1' });
    const [launched] = await stack.tool.db.orm.select().from(canvasIdentities).where(and(eq(canvasIdentities.tenantId, tenantId), eq(canvasIdentities.canvasUserId, '105')));
    const user = await userByCanvasId(stack, tenantId, '105');
    expect(launched).toMatchObject({ ltiSub: sb.data.user(105)!.ltiId, userId: user!.id, sources: ['launch', 'nrps', 'roster'] });
  });

  let earner = 0;
  it('updates an educator within seconds of Canvas’s events, tolerating duplicates and refusing forgeries', async () => {
    const sb = stack.sandbox;
    earner = [...Array(200).keys()].map((i) => 100 + i).find((uid) => !sb.data.submission(Number(EVIDENCE), uid)?.submittedAt && sb.data.moduleState(sb.data.module(100)!, uid).state !== 'completed')!;
    expect((await progressOf(earner))?.state).not.toBe('ready_for_review');
    const from = sb.requests.length;
    completeModules(sb, 1, earner, MODULES);
    sb.actions.submit(1, Number(EVIDENCE), earner, {
      body: '<p>Exit tickets from three lessons</p>',
      attachments: [
        { filename: 'plan.pdf', contentType: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n') },
        { filename: 'board.png', contentType: 'image/png', bytes: png(3, 2) },
        { filename: 'photo.png', contentType: 'image/png', bytes: Buffer.from('this is not a picture\n') },
      ],
    });
    await Promise.all(posted);
    const row = await waitFor(async () => {
      const r = await progressOf(earner);
      return r?.state === 'ready_for_review' || r?.state === 'in_review' ? r : undefined;
    });
    expect(row.summary).toMatch(/^All 3 modules done; evidence submitted — (ready for review|being reviewed)$/);
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((d) => d.status === 202)).toBe(true);
    // A refresh reads two things for that one educator, never the whole course.
    const rest = sb.requests.slice(from).filter((x) => x.tokenKind === 'oauth' && x.path.startsWith('/api/v1/courses/1/'));
    expect(rest.every((x) => x.path === '/api/v1/courses/1/modules' || x.path === '/api/v1/courses/1/students/submissions' || x.path.includes('/submissions/'))).toBe(true);
    expect(rest.some((x) => x.path.endsWith('/bulk_user_progress'))).toBe(false);

    // The same delivery again: accepted as a duplicate, nothing queued twice.
    const again = await postEvent(eventsUrl, delivered[0]!.jwt);
    expect([again.status, ((await again.json()) as { status: string }).status]).toEqual([200, 'duplicate']);
    // Signed by someone else, or not signed: refused.
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signer.sign(canvasEnvelope('submission_updated', { user_id: earner, assignment_id: 1005 }, { courseId: 1 }), { key: privateKey });
    expect((await postEvent(eventsUrl, forged)).status).toBe(401);
    const unsigned = await fetch(eventsUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(canvasEnvelope('submission_updated', { user_id: earner }, { courseId: 1 })) });
    expect(unsigned.status).toBe(400);
    expect((await fetch(`${stack.tool.url}/canvas/events/00000000-0000-4000-8000-000000000000`, { method: 'POST', body: delivered[0]!.jwt })).status).toBe(404);
    // An event for a course without micro-credentials is acknowledged and ignored.
    const other = await postEvent(eventsUrl, signer.sign(canvasEnvelope('submission_created', { user_id: earner, assignment_id: 9 }, { courseId: 2 })));
    expect([other.status, ((await other.json()) as { status: string }).status]).toEqual([202, 'ignored']);
  });

  it('snapshots the evidence when the educator becomes ready: hashes of the bytes Canvas served, content types checked', async () => {
    const snaps = await waitFor(async () => {
      const s = await stack.tool.app.progress.repo.snapshots(tenantId, (await progressOf(earner))!.credentialId, String(earner));
      return s.length ? s : undefined;
    });
    expect(snaps).toHaveLength(1);
    const snap = snaps[0]!;
    expect(snap).toMatchObject({ attempt: 1, body: '<p>Exit tickets from three lessons</p>', submissionType: 'online_upload', status: 'partial', canvasAssignmentId: EVIDENCE });
    const sub = stack.sandbox.data.submission(Number(EVIDENCE), earner)!;
    expect(snap.submittedAt?.toISOString().replace(/\.\d{3}Z$/, 'Z')).toBe(sub.submittedAt);
    expect(snap.files).toHaveLength(3);
    for (const f of snap.files) {
      const served = stack.sandbox.data.attachment(f.canvasFileId)!.bytes;
      expect([f.filename, f.sha256]).toEqual([f.filename, crypto.createHash('sha256').update(served).digest('hex')]);
      expect(Buffer.compare(f.bytes!, served)).toBe(0);
    }
    const byName = Object.fromEntries(snap.files.map((f) => [f.filename, f]));
    expect(byName['plan.pdf']).toMatchObject({ detectedContentType: 'application/pdf', status: 'stored' });
    expect(byName['board.png']).toMatchObject({ detectedContentType: 'image/png', status: 'stored' });
    expect(byName['photo.png']).toMatchObject({ declaredContentType: 'image/png', detectedContentType: 'text/plain', status: 'type_mismatch', note: 'Canvas says image/png, but the file is text/plain.' });
    expect((await progressOf(earner))?.snapshotAttempt).toBe(1);
  });

  it('keeps the evidence after Canvas loses the file, and snapshots a new attempt', async () => {
    const sb = stack.sandbox;
    const credentialId = (await progressOf(earner))!.credentialId;
    const pdf = (await stack.tool.app.progress.repo.snapshots(tenantId, credentialId, String(earner)))[0]!.files.find((f) => f.filename === 'plan.pdf')!;
    // Canvas deletes the file, then the educator submits again.
    sb.data.attachments.splice(sb.data.attachments.findIndex((a) => String(a.id) === pdf.canvasFileId), 1);
    sb.actions.submit(1, Number(EVIDENCE), earner, { body: '<p>Second try, with a link</p>', url: 'https://example.org/lesson' });
    await Promise.all(posted);
    const snaps = await waitFor(async () => {
      const s = await stack.tool.app.progress.repo.snapshots(tenantId, credentialId, String(earner));
      return s.length === 2 ? s : undefined;
    });
    expect(snaps.map((s) => s.attempt)).toEqual([1, 2]);
    const kept = snaps[0]!.files.find((f) => f.filename === 'plan.pdf')!;
    expect(kept.sha256).toBe(pdf.sha256);
    expect(crypto.createHash('sha256').update(kept.bytes!).digest('hex')).toBe(pdf.sha256);
    expect(snaps[1]).toMatchObject({ attempt: 2, body: '<p>Second try, with a link</p>', files: [] });
    expect((await progressOf(earner))).toMatchObject({ evidenceAttempt: 2, snapshotAttempt: 2, summary: 'All 3 modules done; evidence submitted (attempt 2) — being reviewed' });
  });

  it('shows the educator their progress with links into Canvas, refreshed at launch', async () => {
    const { page } = await stack.launch(String(earner), { courseId: '1' });
    expect(page.url).toMatch(/\/earner$/);
    expect(page.body).toContain('Formative assessment');
    expect(page.body).toContain('All 3 modules done; evidence submitted (attempt 2) — being reviewed');
    expect(page.body).toContain(`href="${stack.sandboxUrl}/courses/1/modules#module_100"`);
    expect(page.body).toContain(`href="${stack.sandboxUrl}/courses/1/assignments/1005"`);
    expect(page.body).toContain('Module 1</a> — done');
    expect(page.body).toContain('Checking Canvas for your latest progress…'); // the launch's fast refresh is under way
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const other = 100 + [...Array(200).keys()].find((i) => i + 100 !== earner && !stack.sandbox.data.submission(Number(EVIDENCE), i + 100)?.submittedAt)!;
    const second = await stack.launch(String(other), { courseId: '1' });
    const session = sessionOf(second.page);
    const mine = (await (await session.api('/api/progress/me')).json()) as { credentials: { summary: string; modulesTotal: number }[]; poll: { active: boolean } };
    expect(mine.credentials[0]).toMatchObject({ modulesTotal: 3, summary: expect.stringMatching(/^\d of 3 modules done; evidence not submitted yet$/) });
    // The launch queued a fast refresh; it lands within seconds.
    await waitFor(async () => !((await (await session.api('/api/progress/me')).json()) as { poll: { active: boolean } }).poll.active);
    expect((await session.api('/api/progress/course')).status).toBe(403);
  });

  it('shows the designer the course table and syncs on request', async () => {
    const { page, browser } = await stack.launch('4', { courseId: '1' });
    const session = sessionOf(page);
    const table = await browser.get(`${session.base}/progress`);
    expect(table.status).toBe(200);
    expect(table.body).toContain('Course progress');
    expect(table.body).toContain('Formative assessment');
    expect(table.body).toMatch(/<td data-label="Modules">3 of 3<\/td>\s*<td data-label="Evidence">Submitted \(attempt 2\)<\/td>/);
    expect(table.body).not.toMatch(/style=|<script(?![^>]*\bsrc=)/);
    const before = (await stack.tool.app.progress.repo.syncState(tenantId, courseId))!.lastSyncAt!;
    const after = await browser.post(`${session.base}/progress/sync`, { _csrf: session.csrf });
    expect(after.url).toMatch(/\/progress\?queued=1$/);
    expect(after.body).toContain('Sync queued.');
    expect(after.body).toMatch(/<progress class="progress__bar"|Up to date|Last sync/);
    const state = await waitFor(async () => {
      const s = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
      return s && s.status === 'idle' && s.lastSyncAt && s.lastSyncAt > before ? s : undefined;
    }, 30_000, 250);
    expect(state.lastRequests).toBeGreaterThan(0);
    const json = (await (await session.api('/api/progress/course?rows=0')).json()) as { sync: { active: boolean; label: string } };
    expect(json.sync).toMatchObject({ active: false, label: 'Up to date' });
    const api = await session.api('/api/progress/course/sync', { method: 'POST', json: { mode: 'sideways' } });
    expect(api.status).toBe(400);
  });
});
