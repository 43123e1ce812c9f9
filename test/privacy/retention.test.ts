import { snapshotEvidenceSource } from '../../src/progress/toReview';
import { startWorld, allAt, type World } from '../review/support/world';
import { review, json, waitFor } from '../review/support/api';
import { purgeExpiredEvidence, RETENTION_JOB } from '../../src/privacy/retention';
import { submitStored, storeSnapshot, PDF, daysAgo } from './support';

/**
 * Evidence retention (docs/privacy.md): files are purged EVIDENCE_RETENTION_DAYS (365 here, the default) after the
 * decision, keeping their SHA-256, size, type and name; what is still under review, recently decided or an
 * exemplar keeps its bytes; the job is idempotent and batched; the review page says "purged on …" with the hash.
 * And every evidence view and file download is in the review audit, which admins read on the privacy pages.
 */
describe('evidence retention and the evidence access audit', () => {
  let w: World;
  const files = async (snapshotId: string) => w.q<{ id: string; bytes: Buffer | null; sha256: string; size: number; filename: string; declared_content_type: string }>('SELECT id, bytes, sha256, size, filename, declared_content_type FROM evidence_files WHERE snapshot_id = $1', [snapshotId]);
  // A decision back then: the item's, and the award the decision made (retention counts from the later of the two).
  const decideAt = async (itemId: string, when: Date, status?: string) => {
    await w.q(`UPDATE review_items SET decided_at = $2, updated_at = $2${status ? `, status = '${status}'` : ''} WHERE id = $1`, [itemId, when]);
    await w.q('UPDATE awards SET awarded_at = $2 WHERE review_item_id = $1', [itemId, when]);
  };

  beforeAll(async () => {
    w = await startWorld();
    w.stack.tool.app.review.setEvidenceSource(snapshotEvidenceSource(w.stack.tool.db.orm));
  }, 120_000);
  afterAll(() => w.stop());

  it('purges files of old decisions only, keeps their metadata, and is idempotent', async () => {
    const reviewer = await w.as(4);
    const file = (name: string) => ({ filename: name, contentType: 'application/pdf', bytes: Buffer.concat([PDF, Buffer.from(name)]) });
    // Awarded 400 days ago: due.
    const old = await submitStored(w, 101, { files: [file('lesson-101.pdf'), file('slides-101.pdf')] });
    expect(await review(reviewer, old.item.id, { scores: allAt('meets'), decision: 'award', feedback: 'Well done.' })).toBe('awarded');
    await decideAt(old.item.id, daysAgo(400));
    // Awarded 10 days ago: kept.
    const recent = await submitStored(w, 102, { files: [file('lesson-102.pdf')] });
    await review(reviewer, recent.item.id, { scores: allAt('meets'), decision: 'award' });
    await decideAt(recent.item.id, daysAgo(10));
    // Still waiting (submitted long ago): kept.
    const waiting = await submitStored(w, 103, { files: [file('lesson-103.pdf')] });
    await w.q('UPDATE review_items SET submitted_at = $2, updated_at = $2 WHERE id = $1', [waiting.item.id, daysAgo(500)]);
    // Replaced by a newer attempt 400 days ago: due. "Not yet" 400 days ago: due.
    const superseded = await submitStored(w, 104, { files: [file('draft-104.pdf')] });
    await decideAt(superseded.item.id, daysAgo(400), 'superseded');
    const notYet = await submitStored(w, 106, { files: [file('draft-106.pdf')] });
    await review(reviewer, notYet.item.id, { scores: allAt('not-yet'), decision: 'not_yet', feedback: 'Add a reflection.' });
    await decideAt(notYet.item.id, daysAgo(380));
    // An exemplar's evidence (decided long ago) stays while it is an exemplar.
    const exemplar = await submitStored(w, 107, { files: [file('exemplar-107.pdf')] });
    await review(reviewer, exemplar.item.id, { scores: allAt('exceeds'), decision: 'award' });
    await decideAt(exemplar.item.id, daysAgo(700));
    const ex = await w.designer.api('/api/review/exemplars', { method: 'POST', json: { itemId: exemplar.item.id, title: 'A strong lesson', trueScores: allAt('exceeds') } });
    expect(ex.status).toBe(201);
    // No review at all, awarded automatically 400 days ago (an awards row): due.
    const automatic = await storeSnapshot(w, 105, { files: [file('auto-105.pdf')] });
    await w.q(`INSERT INTO awards (tenant_id, earner_id, course_id, credential_id, version_id, source, awarded_at) VALUES ($1, $2, $3, $4, $5, 'automatic', $6)`, [w.tenantId, await w.userId(105), w.course101, w.credential.id, w.credential.versionId, daysAgo(400)]);

    const before = Date.now();
    const run = await purgeExpiredEvidence(w.stack.tool.db, { retentionDays: 365, batchSize: 2 });
    expect(run.purged).toBe(5);
    expect(run.batches).toBe(3);
    expect(run.bytes).toBeGreaterThan(5 * PDF.length);

    for (const s of [old.stored, superseded.stored, notYet.stored, automatic]) {
      for (const [i, f] of (await files(s.snapshotId)).entries()) {
        expect(f.bytes).toBeNull();
        expect(f.sha256).toBe(s.sha256[s.fileIds.indexOf(f.id)] ?? s.sha256[i]);
        expect(f.size).toBeGreaterThan(0);
        expect(f.filename).toMatch(/\.pdf$/);
        expect(f.declared_content_type).toBe('application/pdf');
      }
    }
    for (const s of [recent.stored, waiting.stored, exemplar.stored]) for (const f of await files(s.snapshotId)) expect(f.bytes).not.toBeNull();
    const purges = await w.q<{ purged_at: Date; decided_at: Date }>('SELECT purged_at, decided_at FROM evidence_purges WHERE file_id = ANY($1::uuid[])', [old.stored.fileIds]);
    expect(purges).toHaveLength(2);
    expect(new Date(purges[0]!.purged_at).getTime()).toBeGreaterThanOrEqual(before - 5_000);
    // The reviewer's summary stays.
    const [kept] = await w.q<{ feedback: string; scores: Record<string, string> }>("SELECT feedback, scores FROM reviews WHERE item_id = $1 AND state = 'submitted'", [old.item.id]);
    expect(kept).toMatchObject({ feedback: 'Well done.', scores: allAt('meets') });
    const [log] = await w.q<{ detail: { files: number } }>("SELECT detail FROM privacy_audit WHERE tenant_id = $1 AND action = 'retention_purge'", [w.tenantId]);
    expect(log!.detail.files).toBe(5);

    // A second run finds nothing.
    expect((await purgeExpiredEvidence(w.stack.tool.db, { retentionDays: 365 })).purged).toBe(0);

    // The review page says what was there and when it went; the file itself is gone (410).
    const admin = await w.as(1);
    const page = await admin.api(`/review/items/${old.item.id}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Purged on');
    expect(html).toContain(old.stored.sha256[0]);
    expect(html).toContain('lesson-101.pdf');
    expect(html).not.toContain(`/attachments/${old.stored.fileIds[0]}`);
    const item = await json<{ evidence: { attachments: { id: string; kind: string; purgedAt: string | null; sha256: string }[] } }>(await admin.api(`/api/review/items/${old.item.id}`));
    expect(item.evidence.attachments.every((a) => a.kind === 'purged' && a.purgedAt && a.sha256.length === 64)).toBe(true);
    const gone = await admin.api(`/review/items/${old.item.id}/attachments/${old.stored.fileIds[0]}`);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain(old.stored.sha256[0]);
    // Kept files still open.
    const open = await admin.api(`/review/items/${recent.item.id}/attachments/${recent.stored.fileIds[0]}`);
    expect(open.status).toBe(200);
    expect(Buffer.from(await open.arrayBuffer()).subarray(0, 8).toString()).toBe('%PDF-1.4');
  });

  it('runs as a scheduled daily job on the queue', async () => {
    const schema = w.stack.config.jobs.schema;
    const [sched] = await w.q<{ cron: string }>(`SELECT cron FROM ${schema}.schedule WHERE name = $1`, [RETENTION_JOB]);
    expect(sched?.cron).toBe('17 3 * * *');
    const due = await submitStored(w, 108, { files: [{ filename: 'late.pdf', contentType: 'application/pdf', bytes: PDF }] });
    await decideAt(due.item.id, daysAgo(366), 'closed');
    await w.stack.tool.app.jobs.send(RETENTION_JOB, {});
    await waitFor(async () => ((await files(due.stored.snapshotId))[0]!.bytes === null ? true : undefined));
  });

  it('audits every evidence view and file download, and shows the audit to admins only', async () => {
    const admin = await w.as(1);
    const reviewer = await w.as(6);
    const { item, stored } = await submitStored(w, 102, { attempt: 2, files: [{ filename: 'Reflection of Marcus.pdf', contentType: 'application/pdf', bytes: PDF }] });
    const countOf = async (action: string) => Number((await w.q<{ n: string }>('SELECT count(*) AS n FROM review_audit WHERE item_id = $1 AND action = $2', [item.id, action]))[0]!.n);
    expect(await countOf('view_evidence')).toBe(0);
    expect((await reviewer.api(`/review/items/${item.id}`)).status).toBe(200);
    expect((await reviewer.api(`/api/review/items/${item.id}`)).status).toBe(200);
    expect(await countOf('view_evidence')).toBe(2);
    expect((await reviewer.api(`/review/items/${item.id}/attachments/${stored.fileIds[0]}`)).status).toBe(200);
    expect((await reviewer.api(`/review/items/${item.id}/attachments/${stored.fileIds[0]}?download=1`)).status).toBe(200);
    expect(await countOf('view_attachment')).toBe(2);

    const byItem = await json<{ events: { action: string; actor: { name: string }; filename: string | null; download: boolean }[] }>(await admin.api(`/api/privacy/audit?item=${item.id}`));
    expect(byItem.events.map((e) => [e.action, e.download])).toEqual([['view_attachment', true], ['view_attachment', false], ['view_evidence', false], ['view_evidence', false]]);
    expect(byItem.events[0]!.actor.name).toBe('Owen Fitzgerald');
    expect(byItem.events[0]!.filename).toBe('Reflection of Marcus.pdf');
    // By educator: both of educator 102's submissions (the first was viewed in the retention test).
    const earner = await w.userId(102);
    const byPerson = await json<{ events: { item: { id: string } }[] }>(await admin.api(`/api/privacy/audit?person=${earner}`));
    expect(new Set(byPerson.events.map((e) => e.item.id)).size).toBe(2);
    const page = await admin.api(`/admin/privacy/audit?person=${earner}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Downloaded Reflection of Marcus.pdf');
    expect((await reviewer.api(`/api/privacy/audit?item=${item.id}`)).status).toBe(403);
    expect((await admin.api('/api/privacy/audit')).status).toBe(400);
  });
});
