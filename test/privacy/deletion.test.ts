import { snapshotEvidenceSource } from '../../src/progress/toReview';
import path from 'node:path';
import { startWorld, allAt, type World } from '../review/support/world';
import { review, json } from '../review/support/api';
import { createSandbox, loadScenario } from '../../src/sandbox';
import { connectToolToSandbox } from '../../src/sandbox/connectTool';
import { freePort } from '../support/stack';
import { Browser } from '../support/browser';
import { JOBS } from '../../src/progress/service';
import { REVOCATION_REASON } from '../../src/privacy/deletion';
import { submitStored, PDF } from './support';

/**
 * Deleting one educator's data at their request (docs/privacy.md): an admin confirms on a page (CSRF), then nothing
 * of the person remains in any table (their user id, Canvas id, LTI sub, name and email are searched for in every
 * row of every table), their credentials are revoked and still verify as revoked, review scores stay anonymised,
 * and another educator's data and another district's are untouched.
 */
describe('deleting one educator’s data', () => {
  let w: World;
  let closeB: () => Promise<void>;
  let tenantB: string;
  const ELLISON = { canvas: '101', name: 'Tamika Ellison', email: 'tamika.ellison@qcps.example.org' };
  const ids: Record<string, string> = {};
  let originalCredential: Record<string, unknown>;

  /** The award the review's decision made (award, signed credential, CEU entry), her name shown, and preferences. */
  async function award(canvasUserId: string, itemId: string) {
    const userId = await w.userId(canvasUserId);
    const [a] = await w.q<{ issued_credential_id: string }>('SELECT issued_credential_id FROM awards WHERE review_item_id = $1', [itemId]);
    await w.q('UPDATE issued_credentials SET show_name = true WHERE id = $1', [a!.issued_credential_id]);
    await w.q(`INSERT INTO earner_preferences (tenant_id, user_id, public_slug) VALUES ($1, $2, $3)`, [w.tenantId, userId, `slug-${canvasUserId}`]);
    const [issued] = await w.q<{ id: string; credential: Record<string, unknown> }>('SELECT id, credential FROM issued_credentials WHERE id = $1', [a!.issued_credential_id]);
    return issued!;
  }

  /** Progress rows as the sync writes them. */
  async function progress(tenantId: string, courseId: string, credentialId: string, canvasUserId: string, name: string) {
    await w.q(`INSERT INTO canvas_identities (tenant_id, canvas_user_id, name, sources) VALUES ($1, $2, $3, '{roster}') ON CONFLICT (tenant_id, canvas_user_id) DO UPDATE SET name = excluded.name`, [tenantId, canvasUserId, name]);
    await w.q(`INSERT INTO progress_roster (tenant_id, course_id, canvas_user_id, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [tenantId, courseId, canvasUserId, name]);
    await w.q(`INSERT INTO credential_progress (tenant_id, course_id, credential_id, canvas_user_id, state, summary) VALUES ($1, $2, $3, $4, 'awarded', $5) ON CONFLICT DO NOTHING`, [tenantId, courseId, credentialId, canvasUserId, `${name} is done`]);
  }

  beforeAll(async () => {
    w = await startWorld();
    w.stack.tool.app.review.setEvidenceSource(snapshotEvidenceSource(w.stack.tool.db.orm));
    const reviewer = await w.as(4);
    for (const [canvas, name] of [[ELLISON.canvas, ELLISON.name, ELLISON.email], ['102', 'Brian Okoye', 'brian.okoye@qcps.example.org']] as const) {
      const { item } = await submitStored(w, canvas, { text: `${name}'s lesson`, files: [{ filename: `${name} lesson.pdf`, contentType: 'application/pdf', bytes: PDF }] });
      ids[`item${canvas}`] = item.id;
      await (await w.as(canvas)).api(`/review/items/${item.id}`); // (refused: an educator is no reviewer)
      expect(await review(reviewer, item.id, { scores: allAt('meets'), decision: 'award', feedback: `Great work, ${name.split(' ')[0]}.`, comments: { 'ferpa-cipa': `${name} cited FERPA well.` } })).toBe('awarded');
      await reviewer.api(`/review/items/${item.id}/attachments/${(await w.q<{ id: string }>('SELECT f.id FROM evidence_files f JOIN evidence_snapshots s ON s.id = f.snapshot_id WHERE s.canvas_user_id = $1', [canvas]))[0]!.id}?download=1`);
      const issued = await award(canvas, item.id);
      ids[`cred${canvas}`] = issued.id;
      if (canvas === ELLISON.canvas) originalCredential = issued.credential;
      await progress(w.tenantId, w.course101, w.credential.id, canvas, name);
      await w.q(`INSERT INTO review_affiliations (tenant_id, course_id, user_id, section_ids) VALUES ($1, $2, $3, '{201}') ON CONFLICT DO NOTHING`, [w.tenantId, w.course101, await w.userId(canvas)]);
    }
    await w.q(`INSERT INTO course_sync_states (course_id, tenant_id, issues) VALUES ($1, $2, $3) ON CONFLICT (course_id) DO UPDATE SET issues = excluded.issues`, [w.course101, w.tenantId, JSON.stringify([{ kind: 'educator_failed', canvasUserId: '101', message: 'Could not read Tamika Ellison’s modules', at: new Date().toISOString() }, { kind: 'educator_failed', canvasUserId: '102', message: 'Could not read Brian Okoye’s modules', at: new Date().toISOString() }])]);
    // A queued evidence snapshot job about her (it would fetch her files again).
    await w.stack.tool.app.jobs.send(JOBS.snapshotEvidence, { tenantId: w.tenantId, courseId: w.course101, credentialId: w.credential.id, canvasUserId: '101' }, { startAfterSeconds: 3600 });

    // District B: the same Canvas ids, another tenant. Tamika Ellison exists there too.
    const port = await freePort();
    const b = createSandbox({ baseUrl: `http://localhost:${port}`, scenario: loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
    closeB = (await b.listen(port, '127.0.0.1')).close;
    const installed = await connectToolToSandbox(w.stack.tool.app, w.stack.config, b, 'District B');
    const init = b.loginInitiation({ userId: '101', courseId: '101', toolId: installed.toolId });
    const u = new URL(init.url);
    for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
    const page = await new Browser({ topLevelHost: new URL(b.baseUrl).host }).get(u.toString());
    expect(page.status).toBe(200);
    // (Other test files share the database: district B is the tenant of this sandbox's issuer.)
    tenantB = (await w.q<{ id: string }>('SELECT id FROM tenants WHERE issuer = $1 AND client_id = $2', [b.issuer, installed.clientId]))[0]!.id;
    await w.q(`INSERT INTO canvas_identities (tenant_id, canvas_user_id, name, sources) VALUES ($1, '101', $2, '{roster}') ON CONFLICT DO NOTHING`, [tenantB, ELLISON.name]);
    // ltijs keeps no id_tokens (microcred never asks it for one later), so her name is not there to begin with.
    // (Other test files of the same run share ltijs's tables: count only these two districts' platforms.)
    expect((await w.q("SELECT 1 FROM ltijs_idtoken WHERE strpos(doc::text, 'Tamika Ellison') > 0 AND doc->>'iss' IN ($1, $2)", [w.stack.sandbox.issuer, b.issuer])).length).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await closeB?.();
    await w.stop();
  });

  /** Every row of every table (ours, ltijs's, the job queue's) as text. */
  async function tablesContaining(needle: string): Promise<string[]> {
    const schemas = ['public', w.stack.config.jobs.schema];
    const tables = await w.q<{ s: string; t: string }>(`SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'`, [schemas]);
    const found: string[] = [];
    for (const { s, t } of tables) {
      const [r] = await w.q<{ n: string }>(`SELECT count(*) AS n FROM "${s}"."${t}" x WHERE strpos(x::text, $1) > 0`, [needle]);
      if (Number(r!.n) > 0) found.push(`${s}.${t}`);
    }
    return found;
  }

  /** Every column that names a person (user, earner, reviewer, actor, Canvas user id, LTI sub…), checked for a value. */
  async function columnsHolding(value: string, tenantId: string): Promise<string[]> {
    const cols = await w.q<{ t: string; c: string }>(
      `SELECT c.table_name AS t, c.column_name AS c FROM information_schema.columns c
        JOIN information_schema.columns tc ON tc.table_schema = c.table_schema AND tc.table_name = c.table_name AND tc.column_name = 'tenant_id'
        WHERE c.table_schema = 'public' AND c.column_name ~ '(user|earner|reviewer|actor|claimed_by|_by$|lti_sub|login_hint)'`,
    );
    const found: string[] = [];
    for (const { t, c } of cols) {
      const [r] = await w.q<{ n: string }>(`SELECT count(*) AS n FROM "${t}" WHERE tenant_id = $1 AND "${c}"::text = $2`, [tenantId, value]);
      if (Number(r!.n) > 0) found.push(`${t}.${c}`);
    }
    return found;
  }

  it('asks an admin to confirm, refuses others and forms without the CSRF token', async () => {
    const admin = await w.as(1);
    const userId = await w.userId(ELLISON.canvas);
    ids.user = userId;
    ids.sub = (await w.q<{ lti_sub: string }>('SELECT lti_sub FROM users WHERE id = $1', [userId]))[0]!.lti_sub;

    const list = await admin.api('/admin/privacy?q=Ellison');
    expect(list.status).toBe(200);
    expect(await list.text()).toContain(`/admin/privacy/people/${userId}`);
    const confirm = await admin.api(`/admin/privacy/people/${userId}`);
    const html = await confirm.text();
    expect(confirm.status).toBe(200);
    expect(html).toContain('Delete Tamika Ellison’s data');
    expect(html).toMatch(/Issued credentials<\/dt><dd>1</);

    expect((await (await w.as(4)).api(`/api/privacy/people/${userId}/delete`, { method: 'POST', json: { confirm: true } })).status).toBe(403);
    const form = (body: Record<string, string>) => fetch(`${admin.base}/admin/privacy/people/${userId}/delete`, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
    expect((await form({ confirm: 'yes' })).status).toBe(403);
    const unticked = await form({ _csrf: admin.csrf });
    expect(unticked.status).toBe(400);
    expect(await unticked.text()).toContain('Tick the box');
    expect((await w.q('SELECT 1 FROM users WHERE id = $1', [userId])).length).toBe(1);

    // As the page says: she is removed from the Canvas course first, or the next roster read brings her back.
    w.stack.sandbox.data.unenroll(101, 101);
    const done = await form({ _csrf: admin.csrf, confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toContain('/admin/privacy?notice=deleted');
    const after = await (await fetch(`${admin.base}/admin/privacy?notice=deleted`)).text();
    expect(after).toContain('Person’s data deleted');
  });

  it('leaves nothing of her in any table', async () => {
    const [tB] = await w.q<{ issuer: string; client_id: string; deployment_id: string }>('SELECT issuer, client_id, deployment_id FROM tenants WHERE id = $1', [tenantB]);
    if (!tB) throw new Error('no district B');
    const [tA] = await w.q<{ issuer: string; client_id: string; deployment_id: string }>('SELECT issuer, client_id, deployment_id FROM tenants WHERE id = $1', [w.tenantId]);
    for (const needle of [ids.user!, ids.sub!, ELLISON.name, ELLISON.email, 'Tamika']) {
      const tables = await tablesContaining(needle);
      // District B's own copy of her is the only place she may remain.
      const inA = [];
      for (const t of tables) {
        const [s, name] = t.split('.') as [string, string];
        const hasTenant = (await w.q(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'tenant_id'`, [s, name])).length > 0;
        if (!hasTenant) {
          // ltijs's tables have no tenant: a row is district A's when it names A's platform (id_token) or context.
          // (Other test files of the same run leave their own districts' rows there.)
          const notB = name === 'ltijs_idtoken' ? `doc->>'iss' = $2 AND doc->>'clientId' = $3` : name === 'ltijs_contexttoken' ? `starts_with(doc->>'contextId', $2)` : 'true';
          const param = name === 'ltijs_idtoken' ? [tA!.issuer, tA!.client_id] : [encodeURIComponent(tA!.issuer + tA!.client_id + tA!.deployment_id)];
          const [r] = await w.q<{ n: string }>(`SELECT count(*) AS n FROM "${s}"."${name}" x WHERE strpos(x::text, $1) > 0 AND ${notB}`, notB === 'true' ? [needle] : [needle, ...param]);
          if (Number(r!.n) > 0) inA.push(t);
          continue;
        }
        const [r] = await w.q<{ n: string }>(`SELECT count(*) AS n FROM "${s}"."${name}" x WHERE tenant_id = $1 AND strpos(x::text, $2) > 0`, [w.tenantId, needle]);
        if (Number(r!.n) > 0) inA.push(t);
      }
      expect([needle, inA]).toEqual([needle, []]);
    }
    expect(await columnsHolding(ids.user!, w.tenantId)).toEqual([]);
    expect(await columnsHolding(ELLISON.canvas, w.tenantId)).toEqual([]);
    expect(await columnsHolding(ids.sub!, w.tenantId)).toEqual([]);
    const [jobs] = await w.q<{ n: string }>(`SELECT count(*) AS n FROM ${w.stack.config.jobs.schema}.job WHERE data->>'canvasUserId' = '101' AND data->>'tenantId' = $1`, [w.tenantId]);
    expect(Number(jobs!.n)).toBe(0);
  });

  it('revokes her credential, which still verifies as revoked, and keeps review scores anonymised', async () => {
    const [cred] = await w.q<{ revoked_at: Date | null; revocation_reason: string; show_name: boolean; earner_user_id: string }>('SELECT revoked_at, revocation_reason, show_name, earner_user_id FROM issued_credentials WHERE id = $1', [ids.cred101]);
    expect(cred!.revoked_at).not.toBeNull();
    expect(cred!.revocation_reason).toBe(REVOCATION_REASON);
    const verified = await w.stack.tool.app.badges.verifyCredential(originalCredential);
    expect(verified.checks.proof.ok).toBe(true);
    expect(verified.checks.status.ok).toBe(false);
    const pub = await fetch(`${w.stack.tool.url}/credentials/${ids.cred101}`, { headers: { Accept: 'text/html' } });
    const page = await pub.text();
    expect(pub.status).toBe(200);
    expect(page).toMatch(/revoked/i);
    expect(page).not.toContain(ELLISON.name);

    const [placeholder] = await w.q<{ lti_sub: string; name: string | null; email: string | null; canvas_user_id: string | null }>('SELECT lti_sub, name, email, canvas_user_id FROM users WHERE id = $1', [cred!.earner_user_id]);
    expect(placeholder).toEqual({ lti_sub: `deleted:${cred!.earner_user_id}`, name: null, email: null, canvas_user_id: null });
    const [item] = await w.q<{ earner_id: string; status: string }>('SELECT earner_id, status FROM review_items WHERE id = $1', [ids.item101]);
    expect(item).toEqual({ earner_id: cred!.earner_user_id, status: 'awarded' });
    const [rev] = await w.q<{ scores: Record<string, string>; feedback: string; criterion_comments: Record<string, string> }>('SELECT scores, feedback, criterion_comments FROM reviews WHERE item_id = $1', [ids.item101]);
    expect(rev).toEqual({ scores: allAt('meets'), feedback: '', criterion_comments: {} });
    const calibration = await (await w.as(1)).api('/api/review/calibration');
    expect(calibration.status).toBe(200);

    const [log] = await w.q<{ actor_id: string; subject_ref: string; detail: Record<string, number> }>("SELECT actor_id, subject_ref, detail FROM privacy_audit WHERE tenant_id = $1 AND action = 'delete_person'", [w.tenantId]);
    expect(log).toMatchObject({ actor_id: await w.userId(1), subject_ref: cred!.earner_user_id });
    expect(log!.detail).toMatchObject({ revoked: 1, users: 1, snapshots: 1 });
    // Her session is gone.
    expect((await (await w.as(ELLISON.canvas)).api('/api/review/feedback')).status).toBe(401);
  });

  it('leaves another educator and another district untouched', async () => {
    const brian = await w.userId(102);
    const [cred] = await w.q<{ revoked_at: Date | null; earner_user_id: string }>('SELECT revoked_at, earner_user_id FROM issued_credentials WHERE id = $1', [ids.cred102]);
    expect(cred).toEqual({ revoked_at: null, earner_user_id: brian });
    const counts = await w.q<Record<string, string>>(
      `SELECT (SELECT count(*) FROM awards WHERE earner_id = $1) AS awards, (SELECT count(*) FROM ceu_ledger WHERE earner_id = $1) AS ceu,
              (SELECT count(*) FROM evidence_files f JOIN evidence_snapshots s ON s.id = f.snapshot_id WHERE s.tenant_id = $2 AND s.canvas_user_id = '102' AND f.bytes IS NOT NULL) AS files,
              (SELECT count(*) FROM credential_progress WHERE tenant_id = $2 AND canvas_user_id = '102') AS progress,
              (SELECT count(*) FROM canvas_identities WHERE tenant_id = $2 AND canvas_user_id = '102') AS identities,
              (SELECT count(*) FROM earner_preferences WHERE user_id = $1) AS prefs,
              (SELECT count(*) FROM review_audit WHERE item_id = $3 AND action = 'view_attachment' AND detail ? 'filename') AS audit`,
      [brian, w.tenantId, ids.item102],
    );
    expect(counts[0]).toEqual({ awards: '1', ceu: '1', files: '1', progress: '1', identities: '1', prefs: '1', audit: '1' });
    const [rev] = await w.q<{ feedback: string }>('SELECT feedback FROM reviews WHERE item_id = $1', [ids.item102]);
    expect(rev!.feedback).toBe('Great work, Brian.');
    const [issues] = await w.q<{ issues: { canvasUserId: string }[] }>('SELECT issues FROM course_sync_states WHERE course_id = $1', [w.course101]);
    expect(issues!.issues.map((i) => i.canvasUserId)).toEqual(['102']);

    const inB = await w.q<{ name: string }>('SELECT name FROM users WHERE tenant_id = $1 AND canvas_user_id = $2', [tenantB, '101']);
    expect(inB).toEqual([{ name: ELLISON.name }]);
    expect((await w.q('SELECT 1 FROM canvas_identities WHERE tenant_id = $1 AND canvas_user_id = $2', [tenantB, '101'])).length).toBe(1);
    expect((await w.q(`SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.tenant_id = $1 AND u.canvas_user_id = '101'`, [tenantB])).length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown person and refuses an admin deleting themselves', async () => {
    const admin = await w.as(1);
    expect((await admin.api('/api/privacy/people/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await admin.api('/api/privacy/people/no-such-canvas-id')).status).toBe(404);
    const self = await admin.api(`/api/privacy/people/${await w.userId(1)}/delete`, { method: 'POST', json: { confirm: true } });
    expect(self.status).toBe(400);
    expect((await json<{ error: { message: string } }>(self)).error.message).toMatch(/your own data/);
    // A roster-only educator (never launched) is found by Canvas id, and deleted through the API.
    await progress(w.tenantId, w.course101, w.credential.id, '199', 'Rosa Quintero');
    const summary = await json<{ launched: boolean; counts: { progress: number } }>(await admin.api('/api/privacy/people/199'));
    expect(summary).toMatchObject({ launched: false, counts: { progress: 1 } });
    const del = await admin.api('/api/privacy/people/199/delete', { method: 'POST', json: { confirm: true } });
    expect(del.status).toBe(200);
    expect(await tablesContaining('Rosa Quintero')).toEqual([]);
  });
});
