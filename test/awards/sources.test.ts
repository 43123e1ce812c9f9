import { body } from '../catalog/support';
import { json, waitFor } from '../review/support/api';
import { startAwardsWorld, type AwardsWorld } from './support';

/**
 * The award's sources besides review: stacks (earning the last member awards the stack in the same transaction,
 * and its next level opens in Canvas), bulk awards (a designer, a reason), and automatic mode (every required
 * module complete in Canvas, read by the progress sync). And exactly once, under 1,000 concurrent duplicates.
 */
describe('award sources', () => {
  let w: AwardsWorld;
  let a: { id: string; versionId: string };
  let b: { id: string; versionId: string };
  const awardBulk = (credentialId: string, earners: string[], reason: unknown = 'Completed the district summer institute.') =>
    w.designer.api('/api/awards/bulk', { method: 'POST', json: { credentialId, reason, earners } });

  beforeAll(async () => {
    w = await startAwardsWorld();
    a = await w.attachedCredential('Digital Citizenship (sources)');
    b = await w.attachedCredential('Canvas Basics (sources)');
    for (const u of [101, 102, 103, 104, 105, 106, 4]) await w.userId(u);
  }, 120_000);
  afterAll(() => w.stop());

  it('gives exactly one award, one ledger entry and one credential for 1,000 concurrent duplicate requests', async () => {
    const earnerId = await w.userId(106);
    const input = { tenantId: w.tenantId, earnerId, achievement: { versionId: a.versionId }, courseId: w.course101, source: 'bulk' as const, awardedBy: await w.userId(2), reason: 'Load test' };
    const outcomes = await Promise.all(Array.from({ length: 1000 }, () => w.stack.tool.app.awards.award(input)));
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.award.id)).size).toBe(1);
    const count = async (sql: string) => Number((await w.q<{ n: string }>(sql, [earnerId, a.versionId]))[0]!.n);
    expect(await count('SELECT count(*) AS n FROM awards WHERE earner_id = $1 AND version_id = $2')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM ceu_ledger l JOIN awards x ON x.id = l.award_id WHERE x.earner_id = $1 AND x.version_id = $2')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM issued_credentials WHERE earner_user_id = $1 AND version_id = $2')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM award_passbacks p JOIN awards x ON x.id = p.award_id WHERE x.earner_id = $1 AND x.version_id = $2')).toBe(2);
    const [row] = await w.q<{ credential: object }>('SELECT credential FROM issued_credentials WHERE earner_user_id = $1 AND version_id = $2', [earnerId, a.versionId]);
    await w.expectVerifies(row!.credential);
  }, 180_000);

  it('awards a stack when its last member is earned, and opens the next level in Canvas', async () => {
    const created = await w.designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Tech Leader I (stack)', description: 'Both.', kind: 'ordered', members: [{ credentialId: a.id }, { credentialId: b.id }] } });
    expect(created.status).toBe(201);
    const stack = await body<{ id: string }>(created);
    expect((await w.designer.api(`/api/catalog/stacks/${stack.id}/publish`, { method: 'POST' })).status).toBe(200);
    const level = await w.designer.api(`/api/awards/stacks/${stack.id}/next-level`, { method: 'PUT', json: { action: 'enroll', canvasCourseId: '102' } });
    expect(level.status).toBe(200);
    expect((await w.designer.api(`/api/awards/stacks/${stack.id}/next-level`, { method: 'PUT', json: { action: 'unlock_module' } })).status).toBe(400);

    // The first member: no stack yet.
    expect((await json<{ awarded: unknown[] }>(await awardBulk(a.id, ['105']))).awarded).toHaveLength(1);
    expect(await w.q('SELECT 1 FROM awards WHERE stack_id = $1', [stack.id])).toHaveLength(0);
    // The last member: the stack, in the same transaction.
    const last = await json<{ awarded: { awardId: string; stacks: string[] }[] }>(await awardBulk(b.id, ['105']));
    expect(last.awarded[0]!.stacks).toHaveLength(1);
    const [stackAward] = await w.q<{ id: string; source: string; issued_credential_id: string; hours: string }>('SELECT id, source, issued_credential_id, hours::text FROM awards WHERE stack_id = $1', [stack.id]);
    expect(stackAward).toMatchObject({ id: last.awarded[0]!.stacks[0], source: 'stack' });
    expect(await w.q('SELECT 1 FROM ceu_ledger WHERE award_id = $1', [stackAward!.id])).toHaveLength(0); // the members carry the hours
    const [issued] = await w.q<{ credential: { credentialSubject: { achievement: { achievementType: string } } } }>('SELECT credential FROM issued_credentials WHERE id = $1', [stackAward!.issued_credential_id]);
    expect(issued!.credential.credentialSubject.achievement.achievementType).toBe('LearningProgram');
    await w.expectVerifies(issued!.credential);

    // The next level: educator 105 is enrolled in Tech Leader II (course 102) by the Canvas enrollments API.
    const rows = await w.waitForPassbacks(stackAward!.id);
    expect(rows.map((r) => [r.kind, r.state])).toEqual([['next_level', 'sent'], ['notification', 'sent']]);
    expect(w.stack.sandbox.data.enrollments.find((e) => e.courseId === 102 && e.userId === 105)).toMatchObject({ type: 'StudentEnrollment', state: 'active' });
    expect(w.stack.sandbox.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/courses/102/enrollments' && r.status === 200)).toBe(true);
    // Awarding the members again changes nothing.
    expect((await json<{ alreadyHeld: unknown[] }>(await awardBulk(b.id, ['105']))).alreadyHeld).toHaveLength(1);
    expect(await w.q('SELECT 1 FROM awards WHERE stack_id = $1', [stack.id])).toHaveLength(1);
  }, 60_000);

  it('unlocks (publishes) the next level’s module in Canvas for an N-of-M stack', async () => {
    const created = await body<{ id: string }>(await w.designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Any one (stack)', description: 'One of two.', kind: 'n_of_m', requiredCount: 1, members: [{ credentialId: a.id }, { credentialId: b.id }] } }));
    await w.designer.api(`/api/catalog/stacks/${created.id}/publish`, { method: 'POST' });
    const module = w.stack.sandbox.data.modules.find((m) => m.id === 1103)!;
    module.published = false;
    expect((await w.designer.api(`/api/awards/stacks/${created.id}/next-level`, { method: 'PUT', json: { action: 'unlock_module', canvasCourseId: '102', canvasModuleId: '1103' } })).status).toBe(200);
    const first = await json<{ awarded: { stacks: string[] }[] }>(await awardBulk(a.id, ['104']));
    expect(first.awarded[0]!.stacks).toHaveLength(1);
    await w.waitForPassbacks(first.awarded[0]!.stacks[0]!);
    expect(module.published).toBe(true);
  }, 60_000);

  it('needs a reason and a designer for a bulk award', async () => {
    const noReason = await awardBulk(a.id, ['103'], '  ');
    expect(noReason.status).toBe(400);
    expect((await json<{ error: { fields: Record<string, string> } }>(noReason)).error.fields.reason).toBe('Give a reason for the bulk award.');
    expect((await awardBulk(a.id, ['103'], null)).status).toBe(400);
    for (const who of [103, 4]) {
      const s = await w.as(who);
      const res = await s.api('/api/awards/bulk', { method: 'POST', json: { credentialId: a.id, reason: 'Because.', earners: ['103'] } });
      expect(res.status).toBe(403);
    }
    expect(await w.q('SELECT 1 FROM awards WHERE earner_id = $1 AND version_id = $2', [await w.userId(103), a.versionId])).toHaveLength(0);
    // Without the CSRF token, even a designer is refused.
    const forged = await fetch(`${w.designer.base}/api/awards/bulk`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ credentialId: a.id, reason: 'x', earners: ['103'] }) });
    expect(forged.status).toBe(403);
    // The page works without JavaScript: the form posts, the reason is required there too.
    const page = await w.designer.api('/awards/bulk');
    expect(await page.text()).toContain('Why these educators get it without review');
    const form = new URLSearchParams({ _csrf: w.designer.csrf, credentialId: a.id, reason: '' });
    form.append('earners', '103');
    const posted = await fetch(`${w.designer.base}/awards/bulk`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(posted.status).toBe(400);
    expect(await posted.text()).toContain('Give a reason for the bulk award.');
    form.set('reason', 'Completed the summer institute.');
    const ok = await fetch(`${w.designer.base}/awards/bulk`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Awarded to 1 educator');
  }, 60_000);

  it('revokes an award with a reason: verifiers see it revoked and the CEU ledger is reversed', async () => {
    const [awarded] = (await json<{ awarded: { awardId: string }[] }>(await awardBulk(b.id, ['102']))).awarded;
    const awardId = awarded!.awardId;
    const noReason = await w.designer.api(`/api/awards/${awardId}/revoke`, { method: 'POST', json: { reason: ' ' } });
    expect(noReason.status).toBe(400);
    for (const who of [102, 4]) expect((await (await w.as(who)).api(`/api/awards/${awardId}/revoke`, { method: 'POST', json: { reason: 'No.' } })).status).toBe(403);
    const ok = await w.designer.api(`/api/awards/${awardId}/revoke`, { method: 'POST', json: { reason: 'Awarded to the wrong educator' } });
    expect(ok.status).toBe(200);
    // Again: nothing more happens.
    expect((await w.designer.api(`/api/awards/${awardId}/revoke`, { method: 'POST', json: { reason: 'Twice' } })).status).toBe(200);
    const ledger = await w.q<{ kind: string; hours: string }>('SELECT kind, hours FROM ceu_ledger WHERE award_id = $1 ORDER BY kind', [awardId]);
    expect(ledger.map((l) => [l.kind, Number(l.hours)])).toEqual([['earned', Number(ledger[0]!.hours)], ['reversed', -Number(ledger[0]!.hours)]]);
    const [cred] = await w.q<{ credential: object; revocation_reason: string }>('SELECT c.credential, c.revocation_reason FROM issued_credentials c JOIN awards a ON a.issued_credential_id = c.id WHERE a.id = $1', [awardId]);
    expect(cred!.revocation_reason).toBe('Awarded to the wrong educator');
    const verified = await w.stack.tool.app.badges.verifyCredential(cred!.credential);
    expect([verified.verified, verified.checks.status]).toEqual([false, { ok: false, message: 'The issuer has revoked this credential.' }]);
  });

  it('awards automatically once every required module is complete (automatic mode)', async () => {
    const auto = await w.attachedCredential('Face-to-face (automatic)', ['1005']);
    const earner = await w.as(103);
    expect((await earner.api(`/api/awards/settings/${auto.id}`, { method: 'PUT', json: { mode: 'automatic' } })).status).toBe(403);
    const set = await w.designer.api(`/api/awards/settings/${auto.id}`, { method: 'PUT', json: { mode: 'automatic' } });
    expect(await set.json()).toEqual({ credentialId: auto.id, mode: 'automatic' });
    const progress = w.stack.tool.app.progress;
    const module = w.stack.sandbox.data.modules.find((m) => m.id === 1005)!;
    for (const item of [10052, 10053, 10054]) w.stack.sandbox.actions.uncompleteItem(101, item, 102);
    const doneAlready = w.stack.sandbox.data.students(101).filter((u) => w.stack.sandbox.data.moduleState(module, u.id).state === 'completed').map((u) => u.id);
    expect(doneAlready).not.toContain(102);
    await progress.sync.syncCourse({ tenantId: w.tenantId, courseId: w.course101, mode: 'full' });
    const awardedTo = async () => (await w.q<{ c: string }>('SELECT u.canvas_user_id AS c FROM awards x JOIN users u ON u.id = x.earner_id WHERE x.version_id = $1', [auto.versionId])).map((r) => Number(r.c)).sort();
    // Educators who had already completed the module in Canvas (known by launch or NRPS) are awarded at once.
    expect((await awardedTo()).every((id) => doneAlready.includes(id))).toBe(true);
    // Educator 102 completes module 1005 in Canvas (three must_mark_done items).
    for (const item of [10052, 10053, 10054]) w.stack.sandbox.actions.completeItem(101, item, 102);
    await progress.sync.syncCourse({ tenantId: w.tenantId, courseId: w.course101, mode: 'full' });
    expect(await awardedTo()).toContain(102);
    const [award] = await w.q<{ id: string; source: string; earner_id: string; issued_credential_id: string }>('SELECT id, source, earner_id, issued_credential_id FROM awards WHERE version_id = $1 AND earner_id = $2', [auto.versionId, await w.userId(102)]);
    expect(award).toMatchObject({ source: 'automatic', earner_id: await w.userId(102) });
    expect((await w.q<{ state: string }>('SELECT state FROM credential_progress WHERE credential_id = $1 AND canvas_user_id = $2', [auto.id, '102']))[0]!.state).toBe('awarded');
    const [issued] = await w.q<{ credential: object }>('SELECT credential FROM issued_credentials WHERE id = $1', [award!.issued_credential_id]);
    await w.expectVerifies(issued!.credential);
    // A later sync changes nothing (exactly once).
    const before = (await awardedTo()).length;
    await progress.sync.syncCourse({ tenantId: w.tenantId, courseId: w.course101, mode: 'full' });
    expect(await awardedTo()).toHaveLength(before);
    await waitFor(async () => (await w.passbacks(award!.id)).every((p) => p.state !== 'pending' && p.state !== 'retrying'));
  }, 90_000);

  it('issued only credentials that verify, with our verifier and the DCC verifier', async () => {
    expect(await w.expectAllVerify()).toBeGreaterThanOrEqual(8);
  }, 120_000);
});
