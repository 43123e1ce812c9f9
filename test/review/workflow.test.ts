import { sql } from 'drizzle-orm';
import type { ReviewItemRow, ReviewRow } from '../../src/review/schema';
import { Browser, parseForm } from '../support/browser';
import { allAt, startWorld, type World } from './support/world';
import { claim, decideApi, draft, json, queue, type ErrorBody, type Evaluation } from './support/api';

/**
 * The review stories over HTTP: a reviewer takes the oldest submission, scores it, and awards it or says “not
 * yet” with feedback; overrides need a reason; the page works without JavaScript; everything is audited.
 */
describe('reviewing evidence', () => {
  let w: World;
  const awards: { item: ReviewItemRow; decision: ReviewRow; inTx: boolean }[] = [];
  beforeAll(async () => {
    w = await startWorld();
    w.stack.tool.app.review.setOnAward(async (_deps, e) => {
      // The hook runs inside the decision's transaction: it can write with `tx`.
      const r = await e.tx.execute(sql`SELECT status FROM review_items WHERE id = ${e.item.id}`);
      const rows = (Array.isArray(r) ? r : (r as { rows: { status: string }[] }).rows) as { status: string }[];
      awards.push({ item: e.item, decision: e.decision, inTx: rows[0]?.status === 'awarded' });
    });
  });
  afterAll(() => w.stop());

  it('awards: queue (oldest first, age shown) → claim → draft with the live result → award; the hook runs in the transaction', async () => {
    const older = await w.submit(101, { submittedAt: new Date(Date.now() - 3 * 86_400_000), text: '<p>My lesson on digital footprints.</p>' });
    const newer = await w.submit(102, { submittedAt: new Date(Date.now() - 3_600_000) });
    const ta = await w.as(4);

    const q = await queue(ta);
    const ids = q.items.map((i) => i.id);
    expect(ids.indexOf(older.id)).toBeLessThan(ids.indexOf(newer.id));
    expect(q.items.find((i) => i.id === older.id)).toMatchObject({ status: 'pending', ageLabel: '3 days', earner: { name: 'Tamika Ellison', hidden: false } });
    expect(q.counts.pending).toBeGreaterThanOrEqual(2);

    expect((await claim(ta, older.id)).status).toBe(200);
    const half = await json<{ evaluation: Evaluation }>(await draft(ta, older.id, { scores: { 'digital-citizenship': 'exceeds' } }));
    expect(half.evaluation).toMatchObject({ complete: false, summary: '1 of 4 criteria scored' });
    const full = await json<{ evaluation: Evaluation }>(await draft(ta, older.id, { scores: allAt('meets', { 'digital-citizenship': 'exceeds' }), comments: { 'digital-citizenship': 'A strong lesson.' }, feedback: 'Well done.' }));
    expect(full.evaluation).toMatchObject({ complete: true, passed: true, total: 9, maxTotal: 12, suggested: 'award' });

    const res = await decideApi(ta, older.id, { scores: allAt('meets', { 'digital-citizenship': 'exceeds' }), comments: { 'digital-citizenship': 'A strong lesson.' }, feedback: 'Well done.', decision: 'award' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ outcome: 'awarded', item: { status: 'awarded' } });
    expect(awards).toHaveLength(1);
    expect(awards[0]).toMatchObject({ item: { id: older.id, status: 'awarded' }, decision: { decision: 'award', override: false }, inTx: true });

    // The earner sees it in the tool.
    const earner = await w.as(101);
    const mine = await json<{ items: { id: string; status: string; feedback: { feedback: string; criteria: { title: string; level: string; comment: string }[] } }[] }>(await earner.api('/api/review/feedback'));
    expect(mine.items.find((i) => i.id === older.id)).toMatchObject({ status: 'awarded', feedback: { feedback: 'Well done.', criteria: expect.arrayContaining([{ id: 'digital-citizenship', title: 'Digital citizenship lesson', level: 'Exceeds', points: 3, met: true, comment: 'A strong lesson.' }]) } });

    // And the audit trail has who viewed, scored and decided, and when.
    await ta.api(`/api/review/items/${older.id}`);
    const admin = await w.as(1);
    const audit = await json<{ events: { action: string; actor: { name: string } | null; at: string }[] }>(await admin.api(`/api/review/items/${older.id}/audit`));
    const actions = audit.events.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['submit', 'claim', 'score', 'decision', 'view_evidence']));
    expect(audit.events.find((e) => e.action === 'decision')!.actor!.name).toBe('Rashad Greene');
    expect((await ta.api(`/api/review/items/${older.id}/audit`)).status).toBe(403);
  });

  it('refuses a decision on incomplete scores, and one against the computed result without a reason', async () => {
    const item = await w.submit(103);
    const ta = await w.as(4);
    expect((await claim(ta, item.id)).status).toBe(200);
    const partial = await decideApi(ta, item.id, { scores: { 'digital-citizenship': 'meets' }, decision: 'not_yet' });
    expect(partial.status).toBe(400);
    expect((await json<ErrorBody>(partial)).error.fields).toMatchObject({ 'scores.ferpa-cipa': 'Choose a level for “FERPA and CIPA in practice”.' });

    const failing = allAt('meets', { 'ferpa-cipa': 'approaching' });
    const noReason = await decideApi(ta, item.id, { scores: failing, decision: 'award' });
    expect(noReason.status).toBe(400);
    expect((await json<ErrorBody>(noReason)).error.fields!.overrideComment).toMatch(/Say why you award it anyway/);
    const unknown = await decideApi(ta, item.id, { scores: { ...failing, 'no-such': 'meets' }, decision: 'not_yet' });
    expect(unknown.status).toBe(400);

    const ok = await decideApi(ta, item.id, { scores: failing, decision: 'award', overrideComment: 'FERPA was assessed in the live session; see the sign-in sheet.' });
    expect(ok.status).toBe(200);
    const admin = await w.as(1);
    const audit = await json<{ events: { action: string; detail: Record<string, unknown> }[] }>(await admin.api(`/api/review/items/${item.id}/audit`));
    expect(audit.events.find((e) => e.action === 'override')!.detail).toMatchObject({ decision: 'award', computedPassed: false, comment: 'FERPA was assessed in the live session; see the sign-in sheet.' });
  });

  it('works without JavaScript: claim, save a draft, see the result, fix the errors the form shows, decide', async () => {
    const item = await w.submit(104);
    const ta = await w.as(5);
    const b = new Browser();
    const page = await b.get(`${ta.base}/review/items/${item.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Claim and review');
    const claimForm = parseForm(page.body.slice(page.body.indexOf('class="review-claim"') - 200))!;
    const claimed = await b.post(new URL(claimForm.action, page.url).toString(), claimForm.fields);
    expect(claimed.url).toContain(`/review/items/${item.id}`);
    expect(claimed.body).toContain('id="review-form"');

    const form = parseForm(claimed.body, 'review-form')!;
    const base = { _csrf: form.fields._csrf!, 'score-digital-citizenship': 'meets', 'score-ferpa-cipa': 'meets', 'comment-ferpa-cipa': 'Cite the district policy.', feedback: 'Nearly there.' };
    const saved = await b.post(new URL(form.action, claimed.url).toString(), { ...base, decision: 'draft' });
    expect(saved.url).toContain('notice=saved');
    expect(saved.body).toContain('Draft saved.');
    expect(saved.body).toContain('2 of 4 criteria scored');
    expect(saved.body).toMatch(/value="meets" checked/);
    expect(saved.body).toContain('Cite the district policy.');

    const incomplete = await b.post(new URL(form.action, claimed.url).toString(), { ...base, decision: 'not_yet' });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body).toContain('There are 2 problems');
    expect(incomplete.body).toContain('href="#criterion-google-workspace"');
    expect(incomplete.body).toContain('Cite the district policy.');

    const done = await b.post(new URL(form.action, claimed.url).toString(), { ...base, 'score-google-workspace': 'approaching', 'score-navigating-canvas': 'meets', decision: 'not_yet' });
    expect(done.status).toBe(200);
    expect(done.url).toContain('/review?notice=not_yet');
    expect(done.body).toContain('“Not yet” recorded');
  });

  it('moves next and previous through the queue, oldest first', async () => {
    const a = await w.submit(105, { submittedAt: new Date(Date.now() - 9 * 86_400_000) });
    const b = await w.submit(106, { submittedAt: new Date(Date.now() - 8 * 86_400_000) });
    const ta = await w.as(6);
    const view = await json<{ neighbours: { previous: string | null; next: string | null } }>(await ta.api(`/api/review/items/${b.id}`));
    expect(view.neighbours.previous).toBe(a.id);
    const first = await json<{ neighbours: { previous: string | null; next: string | null } }>(await ta.api(`/api/review/items/${a.id}`));
    expect(first.neighbours.next).toBe(b.id);
    // Age filter: only the two old ones wait a week or more.
    const old = await queue(ta, 'age=7');
    expect(old.items.map((i) => i.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(old.items.every((i) => i.ageLabel.endsWith('days'))).toBe(true);
    // “Review the next submission” claims the oldest one.
    const next = await json<{ item: { id: string } | null }>(await ta.api('/api/review/next', { method: 'POST', json: {} }));
    expect(next.item!.id).toBe(a.id);
    expect((await ta.api(`/api/review/items/${a.id}/release`, { method: 'POST' })).status).toBe(200);
    expect((await queue(ta, 'status=pending')).items.map((i) => i.id)).toContain(a.id);
  });

  it('lets exactly one of two reviewers win a claim made at the same moment', async () => {
    const [r1, r2] = [await w.as(4), await w.as(6)];
    for (let n = 0; n < 5; n++) {
      const item = await w.submit(107, { attempt: n + 1 });
      const results = await Promise.all([claim(r1, item.id), claim(r2, item.id)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect((await json<ErrorBody>(loser)).error.message).toMatch(/claimed this submission first|already reviewing/);
      const rows = await w.q<{ claimed_by: string }>('SELECT claimed_by FROM review_items WHERE id = $1', [item.id]);
      expect(rows).toHaveLength(1);
      expect([await w.userId(4), await w.userId(6)]).toContain(rows[0]!.claimed_by);
    }
  });

  it('gives reviewers pressing “Review next” at the same moment different submissions', async () => {
    const cred = await w.newCredential('Review next together');
    const items = await Promise.all([101, 102, 103, 104].map((e, i) => w.submit(e, { credential: cred, submittedAt: new Date(Date.now() - (10 - i) * 60_000) })));
    const reviewers = await Promise.all(['4', '5', '6', '8'].map((u) => w.as(u)));
    const got = await Promise.all(reviewers.map(async (r) => (await json<{ item: { id: string } | null }>(await r.api('/api/review/next', { method: 'POST', json: { credentialId: cred.id } }))).item?.id));
    expect(new Set(got).size).toBe(4);
    expect([...got].sort()).toEqual(items.map((i) => i.id).sort());
  });

  it('assigns waiting submissions to reviewers by load', async () => {
    const admin = await w.as(1);
    // Start from no claims: an administrator releases whatever is in review.
    for (const r of await w.q<{ id: string }>("SELECT id FROM review_items WHERE tenant_id = $1 AND status = 'in_review'", [w.tenantId])) {
      expect((await admin.api(`/api/review/items/${r.id}/release`, { method: 'POST' })).status).toBe(200);
    }
    const extra = await w.newCredential('Load balancing practice');
    for (const earner of [101, 102, 103, 104, 105, 106, 107]) await w.submit(earner, { credential: extra });
    const waiting = (await w.q<{ n: number }>("SELECT count(*)::int AS n FROM review_items WHERE tenant_id = $1 AND status = 'pending'", [w.tenantId]))[0]!.n;
    expect(waiting).toBeGreaterThanOrEqual(7);

    const res = await admin.api('/api/review/assign', { method: 'POST', json: {} });
    expect(res.status).toBe(200);
    const assigned = (await json<{ assigned: { itemId: string; reviewerId: string }[] }>(res)).assigned;
    expect(assigned).toHaveLength(waiting);
    // Course 101's reviewers: its three TAs and the district reviewer; never the admin, never a TA of another course.
    const reviewers = await Promise.all([4, 5, 6, 8].map((u) => w.userId(u)));
    const loads = reviewers.map((r) => assigned.filter((a) => a.reviewerId === r).length);
    expect(loads.reduce((x, y) => x + y, 0)).toBe(waiting);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    const audit = await w.q<{ n: number }>("SELECT count(*)::int AS n FROM review_audit WHERE tenant_id = $1 AND action = 'assign'", [w.tenantId]);
    expect(audit[0]!.n).toBe(waiting);
    // The assignee finds them under “Claimed by me”.
    const mine = await queue(await w.as(8), 'status=mine');
    expect(mine.items).toHaveLength(loads[3]!);
    expect((await (await w.as(4)).api('/api/review/assign', { method: 'POST', json: {} })).status).toBe(403);
  });

  it('serves evidence files from its own route: right type, nosniff, a sandbox, inline only for what browsers show safely', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    const item = await w.submit(101, {
      credential: await w.newCredential('Files check'),
      files: [
        { filename: 'lesson.pdf', contentType: 'application/pdf', bytes: '%PDF-1.4\n%%EOF\n' },
        { filename: 'diagram.svg', contentType: 'image/svg+xml', bytes: svg },
        { filename: 'notes "final".html', contentType: 'text/html', bytes: '<script>alert(1)</script>' },
      ],
    });
    const snap = (await w.stack.tool.app.review.deps.evidence.snapshot(w.tenantId, item.snapshotId))!;
    const ta = await w.as(4);
    const get = (i: number, download = false) => fetch(`${ta.base}/review/items/${item.id}/attachments/${snap.attachments[i]!.id}${download ? '?download=1' : ''}`);
    const pdf = await get(0);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe(`inline; filename="lesson.pdf"; filename*=UTF-8''lesson.pdf`);
    expect(pdf.headers.get('x-content-type-options')).toBe('nosniff');
    expect(pdf.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    expect(Buffer.from(await pdf.arrayBuffer()).toString()).toContain('%PDF-1.4');
    expect((await get(0, true)).headers.get('content-disposition')).toMatch(/^attachment;/);
    for (const i of [1, 2]) {
      const r = await get(i);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(r.headers.get('content-disposition')).toMatch(/^attachment;/);
    }
    expect((await get(2)).headers.get('content-disposition')).toBe(`attachment; filename="notes _final_.html"; filename*=UTF-8''notes%20%22final%22.html`);
    // A file of another submission is not reachable through this one.
    const otherItem = await w.submit(102, { credential: await w.newCredential('Files check, another'), files: [{ filename: 'x.png', contentType: 'image/png', bytes: 'x' }] });
    const otherFile = (await w.stack.tool.app.review.deps.evidence.snapshot(w.tenantId, otherItem.snapshotId))!.attachments[0]!.id;
    expect((await fetch(`${ta.base}/review/items/${item.id}/attachments/${otherFile}`)).status).toBe(404);
    const audit = await w.q<{ n: number }>("SELECT count(*)::int AS n FROM review_audit WHERE item_id = $1 AND action = 'view_attachment'", [item.id]);
    expect(audit[0]!.n).toBe(5);
  });
});
