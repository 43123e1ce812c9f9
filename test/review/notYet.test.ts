import { Browser } from '../support/browser';
import { sandboxCourseReader, techLeaderI } from '../catalog/support';
import { runPassback } from '../../src/review/passback';
import { startWorld, type World } from './support/world';
import { claim, decideApi, json, queue, review, waitFor } from './support/api';

/**
 * “Not yet” is the normal path: the educator reads feedback per criterion in microcred, a job posts it to Canvas
 * (a submission comment, and a rubric assessment on the assignment's Canvas rubric), and the next Canvas attempt
 * comes back as a resubmission linked to the previous one, up to the credential's maximum of attempts.
 */
describe('not yet, feedback and resubmission', () => {
  let w: World;
  let credential: { id: string; versionId: string };
  let firstId: string;
  const notYetScores = { _10: 'name_4', _11: 'name_5', _12: 'name_7', _13: 'name_9' };

  beforeAll(async () => {
    w = await startWorld();
    w.stack.tool.app.catalog.setCourseReader(sandboxCourseReader(w.stack));
    // The district's service token (acting as the course's TA in Canvas) lets jobs write to Canvas.
    const token = w.stack.sandbox.issueUserToken({ userId: 4 }).accessToken;
    await w.stack.tool.app.canvas.store.setServiceToken(w.tenantId, token, { setBy: await w.userId(1), canvasUser: '4' });
    // A micro-credential whose rubric is the evidence assignment's Canvas rubric (ids kept), attached to it.
    const created = await json<{ id: string }>(await w.designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Tech Leader I (Canvas rubric)' }) }));
    const attached = await w.designer.api(`/api/catalog/credentials/${created.id}/attachment`, { method: 'PUT', json: { moduleIds: ['1006'], assignmentId: '2005', importRubric: true } });
    expect(attached.status).toBe(200);
    const published = await json<{ current: { id: string; definition: { rubric: { criteria: { id: string }[] } } } }>(await w.designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' }));
    expect(published.current.definition.rubric.criteria.map((c) => c.id)).toEqual(['_10', '_11', '_12', '_13']);
    credential = { id: created.id, versionId: published.current.id };
    expect((await w.designer.api(`/api/review/settings/${created.id}`, { method: 'PUT', json: { maxAttempts: 2 } })).status).toBe(200);
  });
  afterAll(() => w.stop());

  it('posts “not yet” to Canvas as a submission comment and a rubric assessment, once', async () => {
    const item = await w.submit(102, { credential, text: 'Reflection: how I use Google Classroom and Canvas with my 4th graders.' });
    firstId = item.id;
    const ta = await w.as(4);
    const outcome = await review(ta, item.id, { scores: notYetScores, decision: 'not_yet', comments: { _10: 'Add the students’ reflections to your lesson.' }, feedback: 'A good start: the lesson itself is missing.' });
    expect(outcome).toBe('not_yet');

    const sub = w.stack.sandbox.data.submission(2005, 102)!;
    const comment = await waitFor(() => w.stack.sandbox.data.comments.find((c) => c.submissionId === sub.id && c.comment.startsWith('Not yet: Tech Leader I (Canvas rubric)')));
    expect(comment.comment).toContain('A good start: the lesson itself is missing.');
    expect(comment.comment).toContain('• Digital citizenship lesson: Not yet (below the passing level) — Add the students’ reflections to your lesson.');
    expect(comment.authorId).toBe(4);
    const assessment = await waitFor(() => w.stack.sandbox.data.rubricAssessments.find((a) => a.submissionId === sub.id));
    expect(assessment.data._10).toEqual({ points: 0, rating_id: 'name_4', comments: 'Add the students’ reflections to your lesson.' });
    expect(assessment.data._11).toMatchObject({ points: 2, rating_id: 'name_5' });
    await waitFor(async () => (await w.q('SELECT 1 FROM review_audit WHERE item_id = $1 AND action = $2', [item.id, 'passback'])).length > 0);

    // A retry of the job (say, after a crash) does not post the comment twice.
    expect(await runPassback(w.stack.tool.app.review.deps, { tenantId: w.tenantId, itemId: item.id })).toBe('skipped');
    expect(w.stack.sandbox.data.comments.filter((c) => c.submissionId === sub.id && c.comment.startsWith('Not yet:'))).toHaveLength(1);
  });

  it('shows the educator the feedback per criterion in microcred', async () => {
    const earner = await w.as(102);
    const page = await new Browser().get(`${earner.base}/review/feedback`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Tech Leader I (Canvas rubric): attempt 1');
    expect(page.body).toContain('A good start: the lesson itself is missing.');
    expect(page.body).toContain('Add the students’ reflections to your lesson.');
    expect(page.body).toContain('(1 attempt left)');
    // Another educator sees none of it.
    const other = await json<{ items: { id: string }[] }>(await (await w.as(103)).api('/api/review/feedback'));
    expect(other.items.map((i) => i.id)).not.toContain(firstId);
  });

  it('brings the next attempt back as a resubmission linked to the previous one, with its feedback pinned', async () => {
    const again = await w.submit(102, { credential, attempt: 2, text: 'Revised: now with my students’ reflections.' });
    expect(again.previousItemId).toBe(firstId);
    // Idempotent: the progress engine may call again for the same attempt.
    expect((await w.submit(102, { credential, attempt: 2 })).id).toBe(again.id);

    const ta = await w.as(5);
    const q = await queue(ta);
    expect(q.items.find((i) => i.id === again.id)).toMatchObject({ attempt: 2, resubmission: true });
    const view = await json<{ earlier: { id: string; attempt: number; feedback: { feedback: string; criteria: { id: string; level: string; comment: string }[] } }[] }>(await ta.api(`/api/review/items/${again.id}`));
    expect(view.earlier).toHaveLength(1);
    expect(view.earlier[0]).toMatchObject({ id: firstId, attempt: 1, feedback: { feedback: 'A good start: the lesson itself is missing.' } });
    expect(view.earlier[0]!.feedback.criteria[0]).toMatchObject({ id: '_10', level: 'Not yet', comment: 'Add the students’ reflections to your lesson.' });
    const page = await new Browser().get(`${ta.base}/review/items/${again.id}`);
    expect(page.body).toContain('Earlier attempts');
    expect(page.body).toContain('Attempt 1: Not yet');
  });

  it('stops at the maximum number of attempts', async () => {
    const ta = await w.as(5);
    const second = (await w.q<{ id: string }>('SELECT id FROM review_items WHERE previous_item_id = $1', [firstId]))[0]!.id;
    expect(await review(ta, second, { scores: notYetScores, decision: 'not_yet', feedback: 'Still missing the reflections.' })).toBe('not_yet');
    const third = await w.submit(102, { credential, attempt: 3 });
    expect(third).toMatchObject({ status: 'closed', closedReason: 'max_attempts', previousItemId: second });
    expect((await queue(ta, 'status=all')).items.map((i) => i.id)).toContain(third.id);
    expect((await queue(ta)).items.map((i) => i.id)).not.toContain(third.id);
    expect((await claim(ta, third.id)).status).toBe(409);
    const earner = await w.as(102);
    const page = await new Browser().get(`${earner.base}/review/feedback`);
    expect(page.body).toContain('You have used every attempt for this micro-credential.');
    expect(page.body).toContain('You have no attempts left');
  });

  it('replaces an attempt still waiting when a newer one arrives', async () => {
    const first = await w.submit(103, { credential });
    const second = await w.submit(103, { credential, attempt: 2 });
    expect(second.previousItemId).toBe(first.id);
    expect((await w.q<{ status: string }>('SELECT status FROM review_items WHERE id = $1', [first.id]))[0]!.status).toBe('superseded');
    const ta = await w.as(4);
    const res = await decideApi(ta, first.id, { scores: notYetScores, decision: 'not_yet' });
    expect(res.status).toBe(409);
  });
});
