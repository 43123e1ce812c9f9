import { json, review, waitFor } from '../review/support/api';
import { NOT_YET, PASS, startAwardsWorld, type AwardsWorld } from './support';

/**
 * The whole story: a reviewer decides Award → in the decision's transaction the award, the CEU ledger entry, the
 * signed credential, the progress row and the outbox → jobs put the score on the credential's line item in the
 * Canvas gradebook (AGS), the rubric assessment and a comment on the evidence assignment, and a message to the
 * educator. “Not yet” sends its own message; an educator who opted out gets none.
 */
describe('review → award → Canvas', () => {
  let w: AwardsWorld;
  let credential: { id: string; versionId: string };
  let lineItemId: number;

  beforeAll(async () => {
    w = await startAwardsWorld();
    credential = await w.attachedCredential('Tech Leader I (awards)');
    lineItemId = (await w.gradedAssignment(credential.id)).lineItemId;
  }, 120_000);
  afterAll(() => w.stop());

  it('awards in the decision’s transaction and grades the educator in Canvas through AGS', async () => {
    // Progress knows the educator (the row the award turns to `awarded`).
    await w.q(`INSERT INTO credential_progress (tenant_id, course_id, credential_id, canvas_user_id, state) VALUES ($1, $2, $3, '101', 'in_review')`, [w.tenantId, w.course101, credential.id]);
    const attemptsBefore = w.stack.sandbox.data.submissions.filter((s) => s.userId === 101).map((s) => [s.assignmentId, s.attempt]);
    const item = await w.submit(101, { credential, text: 'My digital citizenship unit.', files: [{ filename: 'plan.pdf', contentType: 'application/pdf', bytes: '%PDF-1.4 lesson plan' }] });
    const outcome = await review(await w.as(4), item.id, { scores: PASS, decision: 'award', feedback: 'A model lesson.', comments: { _10: 'Students led the discussion.' } });
    expect(outcome).toBe('awarded');

    // Check the new state: one award, its ledger entry, the credential, the progress row.
    const [award] = await w.q<{ id: string; source: string; hours: number; issued_credential_id: string; review_item_id: string; awarded_by: string }>('SELECT * FROM awards WHERE tenant_id = $1 AND version_id = $2', [w.tenantId, credential.versionId]);
    expect(award).toMatchObject({ source: 'review', review_item_id: item.id, awarded_by: await w.userId(4) });
    const ledger = await w.q<{ hours: string; ceus: string; title: string; earned_on: string }>('SELECT hours::text, ceus::text, title, earned_on::text FROM ceu_ledger WHERE award_id = $1', [award!.id]);
    expect(ledger).toHaveLength(1);
    expect(Number(ledger[0]!.ceus)).toBeCloseTo(Number(ledger[0]!.hours) / 10, 5);
    expect(ledger[0]!.title).toBe('Tech Leader I (awards)');
    expect((await w.q<{ state: string }>('SELECT state FROM credential_progress WHERE credential_id = $1 AND canvas_user_id = $2', [credential.id, '101']))[0]!.state).toBe('awarded');

    const res = await fetch(`${w.stack.tool.url}/credentials/${award!.issued_credential_id}.json`);
    const vc = (await res.json()) as { credentialSubject: { result: { resultDescription: string; achievedLevel: string }[]; evidence?: unknown; creditsEarned: number; source: { name: string } }; evidence: { id: string; name: string }[] };
    expect(vc.credentialSubject.result.map((r) => r.achievedLevel.replace(/^.*\/criteria\/([^/]+)\/levels\/([^/]+)$/, '$1:$2')).sort()).toEqual(Object.entries(PASS).map(([c, l]) => `${c}:${l}`).sort());
    expect(vc.evidence.map((e) => e.id)).toEqual(expect.arrayContaining([expect.stringMatching(/^urn:sha256:[0-9a-f]{64}$/)]));
    expect(vc.evidence).toHaveLength(2); // the file and the written evidence
    expect(vc.credentialSubject.source.name).toBe('Sandbox District');
    await w.expectVerifies(vc);

    // The outbox drains: grade, rubric, message, all sent.
    const rows = await w.waitForPassbacks(award!.id);
    expect(rows.map((r) => [r.kind, r.state])).toEqual([['ags_score', 'sent'], ['notification', 'sent'], ['rubric_assessment', 'sent']]);

    // The AGS score sits in the sandbox gradebook: the rubric points, the verification link, no new attempt.
    const result = w.stack.sandbox.data.results.find((r) => r.lineItemId === lineItemId && r.userId === 101)!;
    expect(result).toMatchObject({ resultScore: 10, resultMaximum: 10, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
    expect(result.comment).toContain(`${w.stack.config.publicUrl}/credentials/${award!.issued_credential_id}`);
    const li = w.stack.sandbox.data.lineItems.find((l) => l.id === lineItemId)!;
    expect(w.stack.sandbox.data.submission(li.assignmentId, 101)).toMatchObject({ score: 10 });
    const after = w.stack.sandbox.data.submissions.filter((s) => s.userId === 101 && s.assignmentId !== li.assignmentId).map((s) => [s.assignmentId, s.attempt]);
    expect(after).toEqual(attemptsBefore.filter(([a]) => a !== li.assignmentId));
    expect(w.stack.sandbox.requests.some((r) => r.method === 'POST' && r.path === `/api/lti/courses/101/line_items/${lineItemId}/scores` && r.status === 200 && r.tokenKind === 'lti')).toBe(true);

    // The rubric assessment and the comment on the evidence assignment.
    const sub = w.stack.sandbox.data.submission(2005, 101)!;
    const assessment = w.stack.sandbox.data.rubricAssessments.find((a) => a.submissionId === sub.id)!;
    expect(assessment.data._10).toMatchObject({ rating_id: 'name_2', points: 4, comments: 'Students led the discussion.' });
    const comment = w.stack.sandbox.data.comments.find((c) => c.submissionId === sub.id && c.comment.startsWith('Awarded: Tech Leader I (awards)'))!;
    expect(comment.comment).toContain('A model lesson.');

    // The educator's message in Canvas, with the link.
    const convo = w.stack.sandbox.data.conversations.find((c) => c.participantIds.includes(101) && c.subject === 'You earned Tech Leader I (awards)')!;
    expect(convo.messages[0]!.body).toContain(`/credentials/${award!.issued_credential_id}`);

    // The designers' page shows it, sent.
    const page = await json<{ awards: { earner: string; passbacks: { kind: string; state: string }[] }[] }>(await w.designer.api('/api/awards/course'));
    expect(page.awards[0]!.passbacks.every((p) => p.state === 'sent')).toBe(true);
  }, 60_000);

  it('sends “not yet” as a Canvas message, unless the educator opted out', async () => {
    const before = w.stack.sandbox.data.conversations.length;
    const item = await w.submit(102, { credential, text: 'First try.' });
    expect(await review(await w.as(4), item.id, { scores: NOT_YET, decision: 'not_yet', feedback: 'Teach the lesson first.' })).toBe('not_yet');
    const notice = await waitFor(async () => (await w.q<{ state: string }>('SELECT state FROM not_yet_notices WHERE review_item_id = $1 AND state <> $2', [item.id, 'pending']))[0]);
    expect(notice.state).toBe('sent');
    const convo = w.stack.sandbox.data.conversations.slice(before).find((c) => c.participantIds.includes(102))!;
    expect(convo.subject).toBe('Not yet: Tech Leader I (awards)');
    expect(convo.messages[0]!.body).toContain('attempt 1');

    // Educator 103 turns both messages off (the preference API the portfolio page calls).
    const earner = await w.as(103);
    const set = await earner.api('/me/preferences', { method: 'PUT', json: { notifyNotYet: false, notifyAward: false } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ notifyAward: false, notifyNotYet: false });
    expect((await earner.api('/me/preferences', { method: 'PUT', json: { notifyAward: 'yes' } })).status).toBe(400);
    const quiet = await w.submit(103, { credential, text: 'Attempt one.' });
    await review(await w.as(4), quiet.id, { scores: NOT_YET, decision: 'not_yet' });
    const skipped = await waitFor(async () => (await w.q<{ state: string; last_error: string }>('SELECT state, last_error FROM not_yet_notices WHERE review_item_id = $1 AND state <> $2', [quiet.id, 'pending']))[0]);
    expect(skipped).toEqual({ state: 'skipped', last_error: 'The educator turned “not yet” messages off.' });
    const again = await w.submit(103, { credential, text: 'Attempt two.', attempt: 2 });
    await review(await w.as(4), again.id, { scores: PASS, decision: 'award' });
    const [award] = await w.q<{ id: string }>('SELECT id FROM awards WHERE review_item_id = $1', [again.id]);
    const rows = await w.waitForPassbacks(award!.id);
    expect(rows.find((r) => r.kind === 'notification')).toMatchObject({ state: 'skipped', last_error: 'The educator turned award messages off.' });
    expect(w.stack.sandbox.data.conversations.some((c) => c.participantIds.includes(103))).toBe(false);
  }, 60_000);

  it('issued only credentials that verify, with our verifier and the DCC verifier', async () => {
    expect(await w.expectAllVerify()).toBe(2);
  }, 120_000);
});
