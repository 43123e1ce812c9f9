/**
 * Sync stories against the sandbox Canvas with 200 educators: first (full) sync, incremental sync within its
 * request budget, Canvas's throttle, an outage mid-sync that resumes, and bad input from Canvas.
 */
import { CanvasUnavailable } from '../../src/canvas/errors';
import { generateScenario } from '../../src/sandbox';
import type { SyncReport } from '../../src/progress/sync';
import { startStack, type Stack } from '../support/stack';
import { forgetAndStop } from '../catalog/support';
import { attachCredential, completeModules, courseOf, truth, userByCanvasId, waitFor } from './support';

const EDUCATORS = 200;
const MODULES = ['100', '101', '102'];
const EVIDENCE = '1005';
const educatorIds = Array.from({ length: EDUCATORS }, (_, i) => 100 + i);

jest.setTimeout(120_000);

describe('syncing a course of 200 educators with Canvas', () => {
  let stack: Stack;
  let tenantId: string;
  let courseId: string;
  const modulesPath = '/api/v1/courses/1/modules';
  let ready = 0;

  // The REST requests of the sync (LTI service calls of other jobs, such as the NRPS import, use other tokens).
  // The sync's REST requests (snapshot jobs and the NRPS import run alongside and are counted elsewhere).
  const SYNC_PATH = /^\/api\/v1\/courses\/1\/(modules|bulk_user_progress|students\/submissions|assignments)$/;
  const requestsSince = (from: number) => stack.sandbox.requests.slice(from).filter((x) => x.tokenKind === 'oauth' && SYNC_PATH.test(x.path));
  const sync = (mode: 'auto' | 'full' | 'incremental' = 'auto'): Promise<SyncReport> => stack.tool.app.progress.sync.syncCourse({ tenantId, courseId, mode });
  const progressOf = async (uid: number) => (await stack.tool.app.progress.repo.progressFor(tenantId, courseId, String(uid)))[0];

  async function expectMatchesCanvas(ids: number[]): Promise<void> {
    for (const uid of ids) {
      const t = truth(stack.sandbox, uid, MODULES, EVIDENCE);
      const row = await progressOf(uid);
      expect([uid, row?.doneModuleIds.sort(), row?.evidenceState]).toEqual([uid, t.done.sort(), t.submitted ? 'submitted' : 'missing']);
      const ready = t.done.length === MODULES.length && t.submitted;
      // Ready, or already in the review queue (the snapshot job hands it over).
      expect([uid, row?.state === 'ready_for_review' || row?.state === 'in_review']).toEqual([uid, ready]);
    }
  }

  beforeAll(async () => {
    stack = await startStack({ scenario: generateScenario({ educators: EDUCATORS, modules: 6 }) });
    await stack.launch('4', { courseId: '1' }); // the designer: microcred learns the course and the Canvas URL
    ({ tenantId, courseId } = await courseOf(stack, '1'));
    const designer = await userByCanvasId(stack, tenantId, '4');
    await attachCredential(stack, { tenantId, courseId, designerId: designer!.id, name: 'Digital citizenship', moduleIds: MODULES, assignmentId: EVIDENCE, canvasCourseId: '1' });
    // The district's service token (an account admin in Canvas).
    const { accessToken } = stack.sandbox.issueUserToken({ userId: 1 });
    await stack.tool.app.canvas.store.setServiceToken(tenantId, accessToken, { setBy: designer!.id, canvasUser: '1' });
  });
  afterAll(() => forgetAndStop(stack));

  it('first sync: reads the roster, the evidence, and each educator’s modules once', async () => {
    const from = stack.sandbox.requests.length;
    const r = await sync();
    expect(r).toMatchObject({ mode: 'full', educators: EDUCATORS, modulesRead: EDUCATORS, throttled: 0 });
    const sent = requestsSince(from);
    expect(sent.filter((x) => x.path === modulesPath)).toHaveLength(EDUCATORS);
    expect(sent.filter((x) => x.path.endsWith('/bulk_user_progress'))).toHaveLength(2);
    expect(sent.filter((x) => x.path.endsWith('/students/submissions'))).toHaveLength(2);
    expect(r.requests).toBe(sent.length);
    expect(r.requests).toBe(EDUCATORS + 4);
    expect(sent.every((x) => x.status === 200 && x.tokenKind === 'oauth' && x.userId === 1)).toBe(true);
    await expectMatchesCanvas(educatorIds);
    const state = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
    expect(state).toMatchObject({ status: 'idle', runId: null, total: EDUCATORS, done: EDUCATORS, lastRequests: r.requests });
    expect(state?.submittedSince).toBeInstanceOf(Date);
    expect(state?.moduleNames['100']).toBe('Module 1');
  });

  it('incremental sync: reads modules only for educators whose progress changed, within 2 + pages + changed requests', async () => {
    const sb = stack.sandbox;
    // Educators who have something left to do (the scenario is random), so each action really changes Canvas.
    const open = (modules: string[], skip: number[]) =>
      educatorIds.filter((uid) => !skip.includes(uid)).map((uid) => ({ uid, item: modules.flatMap((m) => sb.data.itemsOf(Number(m))).find((i) => i.completionRequirement && i.type !== 'Assignment' && !sb.data.itemCompletion(i, uid).completed) })).find((x) => x.item);
    const a = open(MODULES, [])!;
    const b = open(['104'], [a.uid])!;
    const noEvidence = educatorIds.filter((uid) => ![a.uid, b.uid].includes(uid) && !sb.data.submission(Number(EVIDENCE), uid)?.submittedAt);
    const [c, d] = noEvidence;
    const changed = [a.uid, b.uid, c!, d!];
    sb.actions.completeItem(1, a.item!.id, a.uid);
    sb.actions.completeItem(1, b.item!.id, b.uid); // a module that is not required: Canvas's counts change anyway
    completeModules(sb, 1, c!, MODULES);
    sb.actions.submit(1, Number(EVIDENCE), c!, { body: '<p>My evidence</p>' });
    sb.actions.submit(1, Number(EVIDENCE), d!, { body: '<p>Evidence only</p>' }); // also completes module 6's must_submit item
    ready = c!;
    const from = sb.requests.length;
    const r = await sync();
    const sent = requestsSince(from);
    expect(r.mode).toBe('incremental');
    const modulesReads = sent.filter((x) => x.path === modulesPath);
    expect(modulesReads).toHaveLength(changed.length);
    expect(r.modulesRead).toBe(changed.length);
    const extraPages = r.pages - 2; // bulk_user_progress and students/submissions each answer in ≥ 1 page
    expect(r.requests).toBe(sent.length);
    expect(r.requests).toBeLessThanOrEqual(2 + extraPages + changed.length);
    await expectMatchesCanvas([...changed, 100, 102]);
    expect(['ready_for_review', 'in_review']).toContain((await progressOf(ready))?.state);
    expect((await progressOf(ready))?.summary).toBe('All 3 modules done; evidence submitted — ready for review');
  });

  it('stays under Canvas’s throttle with zero failed requests', async () => {
    // A costly Canvas: 5 units a request; a sync's 1,000+ units overflow the 600 bucket unless paced.
    stack.sandbox.setThrottle({ cost: 5, outflow: 200 });
    try {
      const from = stack.sandbox.requests.length;
      const r = await sync('full');
      const sent = requestsSince(from);
      expect(r.modulesRead).toBe(EDUCATORS);
      expect(sent.filter((x) => x.status !== 200 && !x.throttled)).toEqual([]);
      expect(sent.filter((x) => x.throttled)).toHaveLength(r.throttled);
      expect(r.throttled).toBe(0);
      expect((await stack.tool.app.progress.repo.syncState(tenantId, courseId))?.issues).toEqual([]);
    } finally {
      stack.sandbox.setThrottle(false);
    }
  });

  it('resumes after a Canvas outage mid-sync without reading anyone twice or losing anything', async () => {
    const sb = stack.sandbox;
    completeModules(sb, 1, 120, MODULES);
    const from = sb.requests.length;
    const first = (await progressOf(120))!.updatedAt;
    // Canvas goes down after 80 educators' modules were read.
    const watcher = setInterval(() => {
      if (requestsSince(from).filter((x) => x.path === modulesPath).length >= 80) {
        sb.faults.add({ path: modulesPath, status: 500 });
        clearInterval(watcher);
      }
    }, 1);
    await expect(sync('full')).rejects.toBeInstanceOf(CanvasUnavailable);
    clearInterval(watcher);
    const failed = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
    expect(failed?.status).toBe('failed');
    expect(failed?.lastError).toMatch(/Canvas did not answer \(HTTP 500\).*saved.*continues automatically.*\(\d+ of 200 educators read\)/);
    const readBefore = failed!.done;
    expect(readBefore).toBeGreaterThanOrEqual(70);
    expect(readBefore).toBeLessThan(EDUCATORS);

    sb.faults.clear();
    const resumedFrom = sb.requests.length;
    const r = await sync('incremental'); // the interrupted full run continues whatever was asked
    expect(r).toMatchObject({ mode: 'full', resumed: true, modulesRead: EDUCATORS - readBefore });
    expect(requestsSince(resumedFrom).filter((x) => x.path === modulesPath)).toHaveLength(EDUCATORS - readBefore);
    expect((await progressOf(120))!.updatedAt.getTime()).toBeGreaterThan(first.getTime());
    const done = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
    expect(done).toMatchObject({ status: 'idle', runId: null, lastError: null, done: EDUCATORS, total: EDUCATORS });
    await expectMatchesCanvas(educatorIds);
  });

  it('records bad answers, deleted modules and assignments and unenrolled educators for the designer, and keeps state', async () => {
    const sb = stack.sandbox;
    // Their evidence went to review (the snapshot job hands it over): from then on the review owns their state.
    const before = await waitFor(async () => {
      const p = await progressOf(ready);
      return p?.state === 'in_review' ? p : undefined;
    });
    // One educator's modules come back as malformed JSON (every retry); another is removed from the course.
    sb.faults.add({ path: modulesPath, malformed: true, times: 1 });
    sb.actions.unenroll(1, 133);
    sb.actions.deleteModule(1, 102);
    const r = await sync('full');
    const kinds = r.issues.map((i) => i.kind).sort();
    expect(kinds).toEqual(['educator_failed', 'module_deleted', 'unenrolled']);
    expect(r.issues.find((i) => i.kind === 'module_deleted')?.message).toBe('“Digital citizenship” requires module 102, which is no longer in Canvas. Nobody can finish it until you attach it to modules that exist.');
    expect(r.issues.find((i) => i.kind === 'educator_failed')?.message).toMatch(/^Could not read .+’s modules from Canvas \(Canvas sent an answer microcred could not read \(malformed JSON\)\.\)\. The next sync tries again\.$/);
    expect(r.issues.find((i) => i.kind === 'unenrolled')?.message).toMatch(/is no longer enrolled in the Canvas course\. Their progress and evidence are kept\.$/);
    expect(await progressOf(133)).toMatchObject({ enrolled: false });
    const after = await progressOf(ready);
    // The module is reported, but evidence already under review is not pulled back.
    expect(after).toMatchObject({ state: 'in_review', evidenceState: 'submitted', missingModuleIds: ['102'] });
    expect(after?.summary).toBe('2 of 3 modules done; evidence submitted; a required module is no longer in Canvas — being reviewed');
    expect(before.state).toBe('in_review');

    // The evidence assignment disappears: Canvas refuses the whole listing; what we knew stays.
    sb.actions.deleteAssignment(1, Number(EVIDENCE));
    const r2 = await sync('full');
    expect(r2.issues.find((i) => i.kind === 'assignment_deleted')?.message).toBe('The evidence assignment of “Digital citizenship” (Canvas assignment 1005) is no longer in Canvas or is unpublished. Evidence cannot be read until you attach a published assignment; what was read before is kept.');
    expect((await progressOf(ready))?.evidenceState).toBe('submitted');
    const page = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
    expect(page?.issues.map((i) => i.kind)).toContain('assignment_deleted');
  });

  it('uses the designer’s stored token when the district has no service token, and says so when there is neither', async () => {
    await stack.tool.app.canvas.store.setServiceToken(tenantId, null, { setBy: (await userByCanvasId(stack, tenantId, '4'))!.id, canvasUser: null });
    await expect(sync('incremental')).rejects.toMatchObject({ reason: 'not_configured' });
    const st = await stack.tool.app.progress.repo.syncState(tenantId, courseId);
    expect(st?.lastError).toBe('microcred has no Canvas access to read this course in the background. Ask your district administrator to set a Canvas service token, or connect microcred to Canvas as the designer who attached the micro-credentials.');

    const designer = await userByCanvasId(stack, tenantId, '4');
    const t = stack.sandbox.issueUserToken({ userId: 4 });
    await stack.tool.app.canvas.store.saveUserToken(tenantId, designer!.id, { clientId: 'sandbox', canvasUserId: '4', accessToken: t.accessToken, refreshToken: t.refreshToken, expiresInSeconds: 3600, scopes: [] });
    const from = stack.sandbox.requests.length;
    const r = await sync('incremental');
    expect(r).toMatchObject({ mode: 'incremental', resumed: true }); // the interrupted run is finished
    expect(requestsSince(from).every((x) => x.userId === 4)).toBe(true);
  });
});
