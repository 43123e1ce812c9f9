import { ROUTE_TABLE } from '../../src/app';
import { describedApi } from '../../src/web/openapi';
import { startStack, type Stack } from '../support/stack';
import { apiAs, forgetAndStop, type Api } from '../catalog/support';
import { allAt, png, startWorld, type World } from './support/world';
import { json } from './support/api';

/**
 * Who may use the review's routes, walked from the route table (a new review route cannot escape it): an
 * educator, a course designer who is not a reviewer, and a reviewer of another district.
 */
describe('review authorization', () => {
  let w: World;
  let other: Stack;
  let ids: Record<string, string>;
  // The table fills when an app is built (every stack adds its routes again): read it after beforeAll, once per route.
  let routes: (typeof ROUTE_TABLE)[number][] = [];

  beforeAll(async () => {
    w = await startWorld();
    other = await startStack();
    const item = await w.submit(101, { files: [{ filename: 'poster.png', contentType: 'image/png', bytes: png(4, 4) }] });
    const snap = await w.stack.tool.app.review.deps.evidence.snapshot(w.tenantId, item.snapshotId);
    const ex = await json<{ id: string }>(await w.designer.api('/api/review/exemplars', { method: 'POST', json: { itemId: item.id, title: 'Exemplar', trueScores: allAt('meets') } }));
    const seen = new Set<string>();
    routes = ROUTE_TABLE.filter((r) => (r.path.startsWith('/review') || r.path.startsWith('/api/review')) && !seen.has(`${r.method} ${r.path}`) && !!seen.add(`${r.method} ${r.path}`));
    ids = { id: item.id, attachmentId: snap!.attachments[0]!.id, credentialId: w.credential.id, exemplarId: ex.id };
  });
  afterAll(async () => {
    await forgetAndStop(other);
    await w.stop();
  });

  const pathOf = (path: string) =>
    path.replace(':attachmentId', ids.attachmentId!).replace(':credentialId', ids.credentialId!).replace('/exemplars/:id', `/exemplars/${ids.exemplarId}`).replace(':id', ids.id!);
  const bodyOf = (path: string): unknown => {
    if (path.endsWith('/draft')) return { scores: {} };
    if (path.endsWith('/decision')) return { scores: allAt('meets'), decision: 'award' };
    if (path.endsWith('/attempts')) return { scores: allAt('meets') };
    if (path.includes('/settings/')) return { maxAttempts: 3 };
    if (path.endsWith('/api/review/exemplars')) return { itemId: ids.id, title: 'x', trueScores: allAt('meets') };
    if (path.endsWith('/affiliations')) return { userId: '00000000-0000-4000-8000-000000000000', courseId: '00000000-0000-4000-8000-000000000000' };
    if (path === '/review/items/:id') return { 'score-ferpa-cipa': 'meets', decision: 'draft' };
    return {};
  };
  const call = (who: Api, r: (typeof ROUTE_TABLE)[number]) => who.api(pathOf(r.path), { method: r.method.toUpperCase(), json: r.method === 'get' ? undefined : bodyOf(r.path) });

  it('covers every review route, each described in the OpenAPI document when it is an API route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(30);
    for (const r of routes.filter((x) => x.kind === 'api')) expect([r.method, r.path, !!describedApi(r.method, r.path)]).toEqual([r.method, r.path, true]);
  });

  it('gives an educator 403 everywhere but their own feedback', async () => {
    const earner = await w.as(102);
    for (const r of routes) {
      const res = await call(earner, r);
      const expected = r.action === 'review.feedback' ? 200 : 403;
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, expected]);
    }
  });

  it('gives a course designer who is not a reviewer 403 on the queue, the items and their files', async () => {
    const designer = w.designer;
    for (const r of routes) {
      const res = await call(designer, r);
      // Designers configure review (settings, exemplars, sections) and read agreement figures; they do not review.
      if (['review.configure', 'review.calibration', 'review.feedback'].includes(r.action)) expect([r.method, r.path, res.status]).not.toEqual([r.method, r.path, 403]);
      else expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 403]);
    }
  });

  it('shows a reviewer of another district nothing: 404 for this district’s items, 403 for what reviewers may not do', async () => {
    const foreign = await apiAs(other, '4');
    for (const r of routes) {
      const res = await call(foreign, r);
      const usesId = r.path.includes(':');
      const expected = ['review.assign', 'review.audit', 'review.configure'].includes(r.action) ? 403 : usesId ? 404 : 200;
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, expected]);
    }
    const q = await json<{ items: unknown[]; counts: Record<string, number> }>(await foreign.api('/api/review/queue?status=all'));
    expect(q.items).toEqual([]);
    expect(q.counts).toEqual({ pending: 0, in_review: 0, mine: 0, decided: 0 });
  });
});
