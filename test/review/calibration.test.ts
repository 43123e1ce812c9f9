import { Browser } from '../support/browser';
import { allAt, startWorld, type World } from './support/world';
import { claim, decideApi, json, queue, review, type ErrorBody } from './support/api';

/**
 * Calibration and fairness: second reviews (all, borderline), a third reviewer when two disagree, agreement figures,
 * exemplars before reviewing, blind review, conflicts of interest, and who sees which courses.
 */
describe('calibration, blind review and conflicts of interest', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.stop());

  const failing = allAt('meets', { 'google-workspace': 'approaching' });

  it('asks a second, independent reviewer; when they agree the decision stands', async () => {
    const cred = await w.newCredential('Second review for all', { secondReview: 'all' });
    const item = await w.submit(101, { credential: cred });
    const [a, b] = [await w.as(4), await w.as(5)];
    expect(await review(a, item.id, { scores: allAt('meets'), decision: 'award', feedback: 'From the first reviewer.' })).toBe('second_review');
    // Back in the queue for someone else: the first reviewer cannot take it again, and the educator hears nothing yet.
    expect((await queue(a)).items.map((i) => i.id)).not.toContain(item.id);
    expect((await queue(b)).items.find((i) => i.id === item.id)).toMatchObject({ status: 'pending', round: 2 });
    const again = await claim(a, item.id);
    expect(again.status).toBe(403);
    expect((await json<ErrorBody>(again)).error.message).toMatch(/already reviewed this submission/);
    const earnerView = await json<{ items: { id: string; status: string; feedback: unknown }[] }>(await (await w.as(101)).api('/api/review/feedback'));
    expect(earnerView.items.find((i) => i.id === item.id)).toMatchObject({ status: 'pending', feedback: null });
    // The second reviewer does not see the first one's scores.
    const view = await json<{ review: { state: string; scores: Record<string, string> } }>(await b.api(`/api/review/items/${item.id}`));
    expect(view.review).toMatchObject({ state: 'none', scores: {} });

    expect(await review(b, item.id, { scores: allAt('exceeds', { 'ferpa-cipa': 'meets' }), decision: 'award', feedback: 'From the second reviewer.' })).toBe('awarded');
    const decided = await json<{ items: { id: string; status: string; feedback: { feedback: string } }[] }>(await (await w.as(101)).api('/api/review/feedback'));
    expect(decided.items.find((i) => i.id === item.id)).toMatchObject({ status: 'awarded', feedback: { feedback: 'From the first reviewer.' } });
  });

  it('sends a disagreement to a third reviewer, whose decision is final; agreement figures follow', async () => {
    const cred = await w.newCredential('Second review, disagreeing', { secondReview: 'all' });
    const item = await w.submit(102, { credential: cred });
    const [a, b, c] = [await w.as(4), await w.as(5), await w.as(6)];
    expect(await review(a, item.id, { scores: allAt('meets'), decision: 'award' })).toBe('second_review');
    expect(await review(b, item.id, { scores: failing, decision: 'not_yet', feedback: 'Google Workspace is not shown yet.' })).toBe('third_review');
    expect((await claim(a, item.id)).status).toBe(403);
    expect((await claim(b, item.id)).status).toBe(403);
    expect((await queue(c)).items.find((i) => i.id === item.id)).toMatchObject({ round: 3 });
    expect(await review(c, item.id, { scores: failing, decision: 'not_yet', feedback: 'Third reviewer: add the Classroom link.' })).toBe('not_yet');
    const feedback = await json<{ items: { id: string; status: string; feedback: { feedback: string } }[] }>(await (await w.as(102)).api('/api/review/feedback'));
    expect(feedback.items.find((i) => i.id === item.id)).toMatchObject({ status: 'not_yet', feedback: { feedback: 'Third reviewer: add the Classroom link.' } });

    // Three reviews of one item: pairs a–b, a–c, b–c. Per criterion: google-workspace agrees only for b–c.
    const report = await json<{ perCriterion: { criterionId: string; pairs: number; exactAgreement: number; kappa: number | null }[]; perReviewer: { reviewerId: string; name: string; levels: { pairs: number; exactAgreement: number }; decisions: { pairs: number; exactAgreement: number } }[] }>(
      await w.designer.api(`/api/review/calibration?credential=${cred.id}`),
    );
    expect(report.perCriterion.find((c) => c.criterionId === 'google-workspace')).toMatchObject({ pairs: 3, exactAgreement: 0.333 });
    expect(report.perCriterion.find((c) => c.criterionId === 'ferpa-cipa')).toMatchObject({ pairs: 3, exactAgreement: 1 });
    const rashad = report.perReviewer.find((r) => r.name === 'Rashad Greene')!;
    expect(rashad.decisions).toMatchObject({ pairs: 2, exactAgreement: 0 });
    expect(rashad.levels).toMatchObject({ pairs: 8, exactAgreement: 0.75 });
    expect(report.perReviewer.find((r) => r.name === 'Owen Fitzgerald')!.decisions).toMatchObject({ pairs: 2, exactAgreement: 0.5 });
    // A reviewer sees only their own row.
    const own = await json<{ perReviewer: { name: string }[] }>(await a.api(`/api/review/calibration?credential=${cred.id}`));
    expect(own.perReviewer.map((r) => r.name)).toEqual(['Rashad Greene']);
    const page = await new Browser().get(`${w.designer.base}/review/calibration?credential=${cred.id}`);
    expect(page.body).toContain('Core Google Workspace');
    expect(page.body).toContain('33%');
  });

  it('asks for a second review of borderline results only', async () => {
    const cred = await w.newCredential('Borderline check', { secondReview: 'borderline' });
    const clear = await w.submit(103, { credential: cred });
    const close = await w.submit(104, { credential: cred });
    const a = await w.as(4);
    expect(await review(a, clear.id, { scores: allAt('exceeds'), decision: 'award' })).toBe('awarded');
    expect(await review(a, close.id, { scores: allAt('meets'), decision: 'award' })).toBe('second_review');
    expect((await w.q<{ calibration: string }>('SELECT calibration FROM review_items WHERE id = $1', [close.id]))[0]!.calibration).toBe('borderline');
  });

  it('makes a new reviewer score the exemplars before reviewing', async () => {
    const cred = await w.newCredential('With exemplars');
    const source = await w.submit(105, { credential: cred, text: 'An exemplary lesson plan with student work.' });
    const created = await w.designer.api('/api/review/exemplars', { method: 'POST', json: { itemId: source.id, title: 'A clear pass', trueScores: allAt('meets') } });
    expect(created.status).toBe(201);
    const exemplarId = (await json<{ id: string }>(created)).id;
    expect((await (await w.as(4)).api('/api/review/exemplars', { method: 'POST', json: { itemId: source.id, title: 'x', trueScores: allAt('meets') } })).status).toBe(403);

    const item = await w.submit(106, { credential: cred });
    const reviewer = await w.as(6);
    const refused = await claim(reviewer, item.id);
    expect(refused.status).toBe(403);
    expect((await json<ErrorBody>(refused)).error.message).toMatch(/Score the 1 exemplar submission .* \(0 of 1 done\)/);
    const queuePage = await new Browser().get(`${reviewer.base}/review`);
    expect(queuePage.body).toContain('Score the exemplars first');
    expect(queuePage.body).toContain('A clear pass');

    // The exemplar page shows the evidence without the agreed scores until an attempt.
    const exPage = await new Browser().get(`${reviewer.base}/review/exemplars/${exemplarId}`);
    expect(exPage.body).toContain('An exemplary lesson plan with student work.');
    expect(exPage.body).not.toContain('Agreed level');
    const low = await json<{ agreement: number; passed: boolean; calibrated: boolean }>(await reviewer.api(`/api/review/exemplars/${exemplarId}/attempts`, { method: 'POST', json: { scores: allAt('meets', { 'ferpa-cipa': 'exceeds', 'google-workspace': 'approaching' }) } }));
    expect(low).toMatchObject({ agreement: 0.5, passed: false, calibrated: false });
    expect((await claim(reviewer, item.id)).status).toBe(403);
    const good = await json<{ agreement: number; passed: boolean; calibrated: boolean }>(await reviewer.api(`/api/review/exemplars/${exemplarId}/attempts`, { method: 'POST', json: { scores: allAt('meets') } }));
    expect(good).toMatchObject({ agreement: 1, passed: true, calibrated: true });
    expect((await claim(reviewer, item.id)).status).toBe(200);
    const report = await json<{ perReviewer: { name: string; exemplars: { pairs: number; exactAgreement: number } }[] }>(await w.designer.api('/api/review/calibration'));
    expect(report.perReviewer.find((r) => r.name === 'Owen Fitzgerald')!.exemplars).toMatchObject({ pairs: 8, exactAgreement: 0.75 });
  });

  it('hides the educator’s name in blind review', async () => {
    const cred = await w.newCredential('Blind review', { blind: true });
    const item = await w.submit(107, { credential: cred });
    const ta = await w.as(4);
    const row = (await queue(ta)).items.find((i) => i.id === item.id)!;
    expect(row.earner).toEqual({ id: null, name: expect.stringMatching(/^Educator [0-9A-F]{4}$/), hidden: true });
    const raw = await (await ta.api(`/api/review/queue?credential=${cred.id}`)).text();
    expect(raw).not.toContain('Hyun-woo Park');
    expect(raw).not.toContain(await w.userId(107));
    const api = await (await ta.api(`/api/review/items/${item.id}`)).text();
    expect(api).not.toContain('Hyun-woo Park');
    const page = await new Browser().get(`${ta.base}/review/items/${item.id}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('Hyun-woo Park');
    expect(page.body).toContain('blind review');
  });

  it('never lets reviewers review their own submission', async () => {
    const item = await w.submit(4);
    const ta = await w.as(4);
    expect((await queue(ta, 'status=all')).items.map((i) => i.id)).not.toContain(item.id);
    const res = await claim(ta, item.id);
    expect(res.status).toBe(403);
    expect((await json<ErrorBody>(res)).error.message).toBe('You cannot review your own submission.');
    expect((await ta.api(`/api/review/items/${item.id}`)).status).toBe(403);
    expect((await claim(await w.as(5), item.id)).status).toBe(200);
  });

  it('keeps reviewers from educators of their own section or school when the credential asks', async () => {
    const cred = await w.newCredential('No same-section review', { excludeSameSection: true });
    const token = w.stack.sandbox.issueUserToken({ userId: 2 }).accessToken;
    await w.stack.tool.app.canvas.store.setServiceToken(w.tenantId, token, { setBy: await w.userId(1), canvasUser: '2' });
    for (const u of [101, 105, 106, 108]) await w.userId(u);
    const sync = await w.designer.api('/api/review/sections/sync', { method: 'POST' });
    expect(sync.status).toBe(200);
    expect((await json<{ people: number }>(sync)).people).toBeGreaterThanOrEqual(8);

    const item = await w.submit(105, { credential: cred }); // section 203, like TA 5
    const [same, other] = [await w.as(5), await w.as(6)];
    expect((await queue(same)).items.map((i) => i.id)).not.toContain(item.id);
    const refused = await claim(same, item.id);
    expect(refused.status).toBe(403);
    expect((await json<ErrorBody>(refused)).error.message).toMatch(/Conflict of interest/);
    expect((await claim(other, item.id)).status).toBe(200);

    // Schools are not in Canvas enrollments: an admin records them.
    const admin = await w.as(1);
    for (const u of [6, 101]) expect((await admin.api('/api/review/affiliations', { method: 'PUT', json: { userId: await w.userId(u), courseId: w.course101, sectionIds: [], school: 'Eastside Elementary' } })).status).toBe(200);
    const sameSchool = await w.submit(101, { credential: cred });
    expect((await claim(other, sameSchool.id)).status).toBe(403);
    expect((await claim(await w.as(4), sameSchool.id)).status).toBe(200);
    // Without the setting, sections do not matter.
    const plain = await w.submit(105, { credential: await w.newCredential('Sections allowed') });
    expect((await claim(same, plain.id)).status).toBe(200);
  });

  it('shows course reviewers their courses and district reviewers every course', async () => {
    const item = await w.submit(108, { credential: await w.newCredential('Scope check') });
    const district = await w.as(8);
    expect((await queue(district)).items.map((i) => i.id)).toContain(item.id);
    const otherCourseTa = await w.as(7);
    expect((await queue(otherCourseTa, 'status=all')).items).toEqual([]);
    expect((await claim(otherCourseTa, item.id)).status).toBe(403);
    expect((await otherCourseTa.api(`/api/review/items/${item.id}`)).status).toBe(403);
    expect((await claim(district, item.id)).status).toBe(200);
    expect((await decideApi(district, item.id, { scores: allAt('exceeds'), decision: 'award' })).status).toBe(200);
  });
});
