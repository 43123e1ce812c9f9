import { json, waitFor } from '../review/support/api';
import { startAwardsWorld, type AwardsWorld } from './support';

/**
 * Grades back to Canvas through Canvas's bad days: the sandbox answers 500, refuses the token (401), hangs (a
 * timeout), or refuses the score's timestamp as earlier than the result's last one (400/422/412). The job
 * retries (within the call, then with the queue's backoff) and the passback ends `sent`; a passback Canvas will
 * not take until someone acts ends `failed` with the reason, and the designer's Retry sends it.
 */
describe('award passbacks through Canvas faults', () => {
  let w: AwardsWorld;
  let credential: { id: string; versionId: string };
  let lineItemId: number;
  let bulk: (earners: string[]) => Promise<{ awarded: { canvasUserId: string; awardId: string }[] }>;

  beforeAll(async () => {
    w = await startAwardsWorld();
    // Quick retries for the test: short timeouts and backoff.
    Object.assign(w.stack.tool.app.awards.ags.options, { timeoutMs: 800, retries: 3, backoffMs: 20 });
    credential = await w.attachedCredential('Tech Leader I (faults)');
    lineItemId = (await w.gradedAssignment(credential.id)).lineItemId;
    for (const u of [101, 102, 103, 104, 105]) await w.userId(u);
    bulk = async (earners) => json(await w.designer.api('/api/awards/bulk', { method: 'POST', json: { credentialId: credential.id, reason: 'Completed the district summer institute.', earners } }));
  }, 120_000);
  afterAll(() => w.stop());

  const scorePath = () => new RegExp(`^/api/lti/courses/101/line_items/${lineItemId}/scores$`);
  const agsRow = async (awardId: string) => (await w.waitForPassbacks(awardId, (s) => s.length > 0 && s.every((x) => x !== 'pending' && x !== 'retrying'))).find((r) => r.kind === 'ags_score')!;

  it('ends sent after a 500, a refused token and a timeout', async () => {
    w.stack.sandbox.faults.add({ method: 'POST', path: scorePath(), status: 500, times: 1 });
    w.stack.sandbox.faults.add({ method: 'POST', path: scorePath(), status: 401, body: JSON.stringify({ errors: [{ message: 'Invalid access token.' }] }), times: 1 });
    w.stack.sandbox.faults.add({ method: 'POST', path: scorePath(), timeout: true, times: 1 });
    const { awarded } = await bulk(['101']);
    const row = await agsRow(awarded[0]!.awardId);
    expect(row).toMatchObject({ state: 'sent', attempts: 1 });
    const scores = w.stack.sandbox.requests.filter((r) => r.method === 'POST' && scorePath().test(r.path));
    expect(scores.map((r) => r.status)).toEqual(expect.arrayContaining([500, 401, 200]));
    // The refused token was dropped and a new one asked for.
    expect(w.stack.sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/login/oauth2/token' && r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(w.stack.sandbox.data.results.find((r) => r.lineItemId === lineItemId && r.userId === 101)).toMatchObject({ resultScore: 10 });
  }, 60_000);

  it('moves the timestamp past Canvas’s when Canvas says it is too early (400, 422, 412)', async () => {
    const { awarded } = await bulk(['102']);
    await agsRow(awarded[0]!.awardId);
    // Canvas's clock is ahead: the result was updated “in the future” for us.
    const ahead = new Date(Date.now() + 60_000).toISOString();
    const result = w.stack.sandbox.data.results.find((r) => r.lineItemId === lineItemId && r.userId === 102)!;
    result.timestamp = ahead;
    for (const status of [422, 412]) w.stack.sandbox.faults.add({ method: 'POST', path: scorePath(), status, body: JSON.stringify({ errors: { type: 'bad_request', message: `Provided timestamp of x before last updated timestamp of ${ahead}` } }), times: 1 });
    const passback = (await w.passbacks(awarded[0]!.awardId)).find((r) => r.kind === 'ags_score')!;
    await w.q(`UPDATE award_passbacks SET state = 'pending' WHERE id = $1`, [passback.id]);
    const state = await w.stack.tool.app.awards.runPassback({ tenantId: w.tenantId, passbackId: passback.id });
    expect(state).toBe('sent');
    // Sent after Canvas's own timestamp, which the sandbox (strict like Canvas: 400 when earlier) accepted.
    expect(Date.parse(w.stack.sandbox.data.results.find((r) => r.lineItemId === lineItemId && r.userId === 102)!.timestamp)).toBeGreaterThan(Date.parse(ahead));
  }, 60_000);

  it('leaves a passback retrying when Canvas stays down, and the queue’s retry sends it', async () => {
    w.stack.sandbox.faults.add({ method: 'POST', path: scorePath(), status: 503, times: 4 });
    const { awarded } = await bulk(['103']);
    const retrying = await waitFor(async () => (await w.passbacks(awarded[0]!.awardId)).find((r) => r.kind === 'ags_score' && r.state === 'retrying'));
    expect(retrying.last_error).toMatch(/Canvas answered 503/);
    // The designer does not wait for the backoff: Retry.
    const retried = await w.designer.api(`/api/awards/passbacks/${retrying.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    const row = await agsRow(awarded[0]!.awardId);
    expect(row.state).toBe('sent');
  }, 60_000);

  it('marks a passback failed, with the reason, when the course has no graded assignment for the credential; Retry sends it once there is one', async () => {
    const other = await w.attachedCredential('Tech Leader I (no line item)');
    const { awarded } = await json<{ awarded: { awardId: string }[] }>(await w.designer.api('/api/awards/bulk', { method: 'POST', json: { credentialId: other.id, reason: 'Summer institute.', earners: ['104'] } }));
    const failed = await agsRow(awarded[0]!.awardId);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed.last_error).toBe('No graded assignment for “Tech Leader I (no line item)” in this Canvas course. Add it as a graded assignment with “Add to course” (Deep Linking), then retry.');
    const page = await w.designer.api('/awards');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('No graded assignment for “Tech Leader I (no line item)”');

    await w.gradedAssignment(other.id);
    const earner = await w.as(104);
    expect((await earner.api(`/api/awards/passbacks/${(await w.passbacks(awarded[0]!.awardId)).find((r) => r.kind === 'ags_score')!.id}/retry`, { method: 'POST' })).status).toBe(403);
    const id = (await w.passbacks(awarded[0]!.awardId)).find((r) => r.kind === 'ags_score')!.id;
    expect((await w.designer.api(`/api/awards/passbacks/${id}/retry`, { method: 'POST' })).status).toBe(200);
    expect((await agsRow(awarded[0]!.awardId)).state).toBe('sent');
    expect((await w.designer.api(`/api/awards/passbacks/${id}/retry`, { method: 'POST' })).status).toBe(409);
  }, 60_000);

  it('issued only credentials that verify, with our verifier and the DCC verifier', async () => {
    expect(await w.expectAllVerify()).toBe(4);
  }, 120_000);
});
