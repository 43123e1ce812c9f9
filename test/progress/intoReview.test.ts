/**
 * From Canvas to the reviewer and back: an educator completes the modules and submits evidence in Canvas, the
 * progress engine snapshots it and queues it for review, the reviewer sees the real evidence (the bytes Canvas
 * served), says “not yet”, the educator's progress shows it, and a new Canvas attempt comes back as a
 * resubmission linked to the first.
 */
import crypto from 'node:crypto';
import { generateScenario } from '../../src/sandbox';
import { startStack, type Stack } from '../support/stack';
import { sessionOf } from '../support/session';
import { forgetAndStop, png, type Api } from '../catalog/support';
import { attachCredential, completeModules, courseOf, userByCanvasId, waitFor } from './support';
import { decideApi, claim, json } from '../review/support/api';

jest.setTimeout(90_000);

const MODULES = ['100', '101', '102'];
const EVIDENCE = '1005';

interface ReviewView {
  item: { id: string; status: string; attempt: number };
  earner: { name: string };
  rubric: { criteria: { id: string; levels: { id: string; points: number }[] }[] };
  evidence: { text?: string; attachments: { id: string; filename: string; sha256: string; downloadUrl?: string; url?: string }[] };
  earlier: { attempt: number }[];
}

describe('evidence from Canvas goes to review, and the outcome comes back to progress', () => {
  let stack: Stack;
  let tenantId: string;
  let courseId: string;
  let credentialId: string;
  let reviewer: Api;
  let earner = 0;
  let stranger = 0;

  const progressOf = async () => (await stack.tool.app.progress.repo.progressFor(tenantId, courseId, String(earner))).find((p) => p.credentialId === credentialId);
  const itemsOf = async (canvasUserId: number) =>
    (
      await stack.tool.db.sql.query<{ id: string; status: string; attempt: number; previous_item_id: string | null; snapshot_id: string }>(
        'SELECT i.id, i.status, i.attempt, i.previous_item_id, i.snapshot_id FROM review_items i JOIN users u ON u.id = i.earner_id WHERE i.tenant_id = $1 AND u.canvas_user_id = $2 ORDER BY i.attempt',
        [tenantId, String(canvasUserId)],
      )
    ).rows;
  const items = () => itemsOf(earner);

  beforeAll(async () => {
    stack = await startStack({ scenario: generateScenario({ educators: 60, modules: 6, seed: 11 }) });
    await stack.launch('4', { courseId: '1' });
    ({ tenantId, courseId } = await courseOf(stack, '1'));
    const designer = await userByCanvasId(stack, tenantId, '4');
    credentialId = await attachCredential(stack, { tenantId, courseId, designerId: designer!.id, name: 'Formative assessment', moduleIds: MODULES, assignmentId: EVIDENCE, canvasCourseId: '1' });
    const { accessToken } = stack.sandbox.issueUserToken({ userId: 1 });
    await stack.tool.app.canvas.store.setServiceToken(tenantId, accessToken, { setBy: designer!.id, canvasUser: '1' });
    await stack.tool.app.progress.sync.syncCourse({ tenantId, courseId });
    // Two educators who have neither evidence nor the first module yet.
    const sb = stack.sandbox;
    [earner, stranger] = [...Array(60).keys()].map((i) => 100 + i).filter((uid) => !sb.data.submission(Number(EVIDENCE), uid)?.submittedAt && sb.data.moduleState(sb.data.module(100)!, uid).state !== 'completed') as [number, number];
    const { page } = await stack.launch('3', { courseId: '1' });
    reviewer = sessionOf(page);
  });
  afterAll(() => forgetAndStop(stack));

  it('queues the evidence once the modules are done, and the reviewer sees exactly what Canvas served', async () => {
    const sb = stack.sandbox;
    // The educator launches once (so microcred knows them), then works in Canvas.
    await stack.launch(String(earner), { courseId: '1' });
    completeModules(sb, 1, earner, MODULES);
    sb.actions.submit(1, Number(EVIDENCE), earner, {
      body: '<p>Exit tickets <script>alert(1)</script> from three lessons</p>',
      attachments: [
        { filename: 'plan.pdf', contentType: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n') },
        { filename: 'board.png', contentType: 'image/png', bytes: png(3, 2) },
        { filename: 'photo.png', contentType: 'image/png', bytes: Buffer.from('this is not a picture\n') },
      ],
    });
    await stack.tool.app.progress.requestRefresh({ tenantId, courseId, canvasUserId: String(earner) });
    const [item] = await waitFor(async () => {
      const rows = await items();
      return rows.length ? rows : undefined;
    });
    expect(item).toMatchObject({ status: 'pending', attempt: 1, previous_item_id: null });
    expect(await progressOf()).toMatchObject({ state: 'in_review', summary: 'All 3 modules done; evidence submitted — being reviewed' });

    const view = await json<ReviewView>(await reviewer.api(`/api/review/items/${item!.id}`));
    expect(view.evidence.text).toContain('Exit tickets');
    expect(view.evidence.attachments.map((a) => a.filename).sort()).toEqual(['board.png', 'photo.png', 'plan.pdf']);
    const board = view.evidence.attachments.find((a) => a.filename === 'board.png')!;
    const served = png(3, 2);
    expect(board.sha256).toBe(crypto.createHash('sha256').update(served).digest('hex'));
    const res = await reviewer.api(`/review/items/${item!.id}/attachments/${board.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), served)).toBe(0);
    // A file whose bytes are not what Canvas claimed is never served as that type.
    const fake = view.evidence.attachments.find((a) => a.filename === 'photo.png')!;
    const fakeRes = await reviewer.api(`/review/items/${item!.id}/attachments/${fake.id}`);
    expect(fakeRes.headers.get('content-type')).not.toMatch(/^image\//);
    // Another tenant's id, or nonsense, is simply not found.
    expect((await reviewer.api(`/review/items/${item!.id}/attachments/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });

  it('says “not yet” to the educator, and a new Canvas attempt comes back as a resubmission', async () => {
    const [first] = await items();
    const view = await json<ReviewView>(await reviewer.api(`/api/review/items/${first!.id}`));
    const lowest = Object.fromEntries(view.rubric.criteria.map((c) => [c.id, [...c.levels].sort((a, b) => a.points - b.points)[0]!.id]));
    expect((await claim(reviewer, first!.id)).status).toBe(200);
    const d = await decideApi(reviewer, first!.id, { scores: lowest, decision: 'not_yet', feedback: 'Add your students’ reflections.' });
    expect(d.status).toBe(200);
    expect(await progressOf()).toMatchObject({ state: 'returned' });
    // The educator's home says so and leads to the feedback per criterion.
    const { page: home } = await stack.launch(String(earner), { courseId: '1' });
    expect(home.body).toContain('Not yet — feedback waiting');
    const link = /href="([^"]+\/review\/feedback)"/.exec(home.body)?.[1];
    expect(link).toBeDefined();
    const feedback = await sessionOf(home).api('/review/feedback');
    expect(feedback.status).toBe(200);
    expect(await feedback.text()).toContain('Add your students’ reflections.');
    // A sync that sees the same attempt leaves it returned.
    await stack.tool.app.progress.sync.refreshUser({ tenantId, courseId, canvasUserId: String(earner) });
    expect((await progressOf())?.state).toBe('returned');

    stack.sandbox.actions.submit(1, Number(EVIDENCE), earner, { body: '<p>Second try, with the reflections</p>' });
    await stack.tool.app.progress.requestRefresh({ tenantId, courseId, canvasUserId: String(earner) });
    const rows = await waitFor(async () => {
      const r = await items();
      return r.length === 2 ? r : undefined;
    });
    expect(rows[1]).toMatchObject({ attempt: 2, status: 'pending', previous_item_id: first!.id });
    expect(rows[0]).toMatchObject({ status: 'not_yet' });
    expect(await progressOf()).toMatchObject({ state: 'in_review', evidenceAttempt: 2 });
    const second = await json<ReviewView>(await reviewer.api(`/api/review/items/${rows[1]!.id}`));
    expect(second.evidence.text).toContain('Second try');
    expect(second.earlier.map((e) => e.attempt)).toEqual([1]);
  });

  it('waits for an educator microcred does not know yet, and submits at their first launch', async () => {
    const sb = stack.sandbox;
    // Known only to the REST API (no launch, no NRPS sub yet): nothing to put a name on.
    await stack.tool.db.sql.query('DELETE FROM canvas_identities WHERE tenant_id = $1 AND canvas_user_id = $2', [tenantId, String(stranger)]);
    completeModules(sb, 1, stranger, MODULES);
    sb.actions.submit(1, Number(EVIDENCE), stranger, { body: '<p>Evidence</p>' });
    await stack.tool.app.progress.sync.refreshUser({ tenantId, courseId, canvasUserId: String(stranger) });
    await waitFor(async () => (await stack.tool.app.progress.repo.progressFor(tenantId, courseId, String(stranger))).find((p) => p.snapshotAttempt === 1));
    expect(await itemsOf(stranger)).toEqual([]);
    await stack.launch(String(stranger), { courseId: '1' });
    const [item] = await waitFor(async () => {
      const rows = await itemsOf(stranger);
      return rows.length ? rows : undefined;
    });
    expect(item).toMatchObject({ attempt: 1, status: 'pending' });
  });
});
