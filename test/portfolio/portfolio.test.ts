import path from 'node:path';
import type { Browser as Chromium, BrowserContext, Page } from 'playwright-core';
import { cycleOf } from '../../src/portfolio/cycles';
import { ceus } from '../../src/catalog/rules';
import { techLeaderI, body } from '../catalog/support';
import { blockNetwork } from '../badges/support';
import { dccVerify, routeDccFetch } from '../badges/dcc';
import { artifact, launchChromium } from '../support/chromium';
import { startPortfolioWorld, json, postForm, page, allAt, type PortfolioWorld, type Awarded } from './support';

/**
 * The educator's portfolio, as Tamika Ellison (educator 101) sees it: badges from several micro-credentials and a
 * stack, one revoked; hours in two renewal cycles; the downloads (credential JSON, baked badge, a CLR that two
 * independent verifiers accept, the printable transcript); the public link on and off; "show my name"; and the
 * export of everything stored about her and nothing about anyone else. Then the pages in Chromium with axe-core.
 */

interface PortfolioJson {
  badges: { id: string; name: string; kind: string; state: string; issuedOn: string; validUntil: string | null; hours: number; ceus: number; showName: boolean; pageUrl: string; jsonUrl: string; bakedUrl: string; linkedInUrl: string | null; revocationReason: string | null }[];
  counts: { valid: number; total: number };
  stacks: { name: string; earned: number; required: number; complete: boolean; members: { name: string; earned: boolean }[] }[];
  ledger: { cycle: { years: number; anchor: string }; groups: { start: string; end: string; current: boolean; totalHours: number; totalCeus: number; entries: { title: string; kind: string; hours: number; ceus: number; earnedOn: string; verifyUrl: string | null }[] }[] };
  preferences: { notifyAward: boolean; notifyNotYet: boolean; publicSlug: string | null };
  publicUrl: string | null;
}

const HOURS = techLeaderI().hours;

describe('the portfolio', () => {
  let w: PortfolioWorld;
  let tamika: Awaited<ReturnType<PortfolioWorld['as']>>;
  let tl1: Awarded;
  let older: Awarded;
  let revoked: Awarded;
  let stackAward: Awarded;
  let blindCred: { id: string; versionId: string };
  const today = new Date().toISOString().slice(0, 10);
  const current = cycleOf(today);
  // A day in the previous renewal cycle.
  const lastCycleDay = new Date(new Date(`${current.start}T12:00:00Z`).getTime() - 100 * 86_400_000);

  beforeAll(async () => {
    w = await startPortfolioWorld();
    tamika = await w.as(101);
    const workspace = await w.newCredential('Tech Leader I: Google Workspace');
    const studio = await w.newCredential('Tech Leader I: Canvas Studio');
    const capstone = await w.newCredential('Tech Leader I: Capstone');
    blindCred = await w.newCredential('Tech Leader I: Blind-reviewed', { blind: true });
    // An ordered stack of three: Tamika holds two of them.
    const created = await body<{ id: string }>(await w.designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Tech Leader I pathway', description: 'Three steps', kind: 'ordered', members: [{ credentialId: w.credential.id }, { credentialId: workspace.id }, { credentialId: capstone.id }] } }));
    const published = await w.designer.api(`/api/catalog/stacks/${created.id}/publish`, { method: 'POST' });
    expect(published.status).toBe(200);

    tl1 = await w.reviewAndAward(101, { submittedAt: new Date(Date.now() - 3 * 86_400_000) });
    older = await w.award(101, { credential: workspace, awardedAt: lastCycleDay });
    revoked = await w.award(101, { credential: studio });
    await w.revokeAward(revoked, 'Awarded to the wrong educator');
    // The blind-reviewed one: decided by reviewer 4, whose name must not reach the export.
    await w.reviewAndAward(101, { credential: blindCred });
    stackAward = await w.award(101, { stackId: created.id });
    // Somebody else's award in the same district: must never show in Tamika's portfolio or export.
    await w.reviewAndAward(102);
  }, 240_000);
  afterAll(() => w?.stop());

  it('lists every badge with its state, hours, downloads and a LinkedIn link; stack progress as members earned of required', async () => {
    const p = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
    expect(p.counts).toEqual({ valid: 4, total: 5 });
    const byName = Object.fromEntries(p.badges.map((b) => [b.name, b]));
    expect(Object.keys(byName).sort()).toEqual(['Tech Leader I', 'Tech Leader I pathway', 'Tech Leader I: Blind-reviewed', 'Tech Leader I: Canvas Studio', 'Tech Leader I: Google Workspace'].sort());
    expect(byName['Tech Leader I']).toMatchObject({ kind: 'micro-credential', state: 'valid', hours: HOURS, ceus: ceus(HOURS), issuedOn: today });
    expect(byName['Tech Leader I: Canvas Studio']).toMatchObject({ state: 'revoked', revocationReason: 'Awarded to the wrong educator', linkedInUrl: null });
    expect(byName['Tech Leader I pathway']).toMatchObject({ kind: 'stack', state: 'valid', hours: 0 });
    const b = byName['Tech Leader I']!;
    expect(b.pageUrl).toBe(`${w.stack.config.publicUrl}/credentials/${tl1.credentialId}`);
    // Downloads are the public routes: the signed JSON and the baked badge (the generated art is an SVG).
    const cred = await fetch(b.jsonUrl);
    expect(cred.status).toBe(200);
    expect(((await cred.json()) as { id: string }).id).toBe(b.pageUrl);
    expect(b.bakedUrl).toBe(`${b.pageUrl}/badge.svg`);
    const baked = await fetch(b.bakedUrl);
    expect([baked.status, baked.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    expect(await baked.text()).toContain('<openbadges:credential>');
    // LinkedIn's add-to-profile form, filled in.
    const li = new URL(b.linkedInUrl!);
    expect(li.origin + li.pathname).toBe('https://www.linkedin.com/profile/add');
    expect(Object.fromEntries(li.searchParams)).toEqual({
      startTask: 'CERTIFICATION_NAME', name: 'Tech Leader I', organizationName: 'Sandbox District', issueYear: today.slice(0, 4), issueMonth: String(Number(today.slice(5, 7))), certUrl: b.pageUrl, certId: tl1.credentialId,
    });
    expect(p.stacks).toEqual([{ id: expect.any(String), name: 'Tech Leader I pathway', earned: 2, required: 3, complete: true, members: [{ name: 'Tech Leader I', earned: true }, { name: 'Tech Leader I: Google Workspace', earned: true }, { name: 'Tech Leader I: Capstone', earned: false }] }]);
  });

  it('groups the CEU ledger per renewal cycle (5 years from July 1, 2025), with totals; a revoked award takes its hours back', async () => {
    const p = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
    expect(p.ledger.cycle).toEqual({ years: 5, anchor: '2025-07-01' });
    const [now, before] = p.ledger.groups;
    expect(p.ledger.groups).toHaveLength(2);
    expect(now).toMatchObject({ start: current.start, end: current.end, current: true });
    // Tech Leader I and the blind-reviewed one count; Canvas Studio is earned and reversed.
    expect(now!.entries.map((e) => [e.title, e.kind, e.hours])).toEqual(
      expect.arrayContaining([['Tech Leader I', 'earned', HOURS], ['Tech Leader I: Blind-reviewed', 'earned', HOURS], ['Tech Leader I: Canvas Studio', 'earned', HOURS], ['Tech Leader I: Canvas Studio', 'reversed', -HOURS]]),
    );
    expect(now!.entries).toHaveLength(4);
    expect([now!.totalHours, now!.totalCeus]).toEqual([2 * HOURS, 2 * ceus(HOURS)]);
    expect(before).toMatchObject({ current: false, totalHours: HOURS, totalCeus: ceus(HOURS), entries: [{ title: 'Tech Leader I: Google Workspace', earnedOn: lastCycleDay.toISOString().slice(0, 10), verifyUrl: `${w.stack.config.publicUrl}/credentials/${older.credentialId}` }] });
    expect(before!.end < now!.start).toBe(true);
    // A district with another cycle: 3 years from January 1, 2024.
    await w.q('INSERT INTO renewal_cycles (tenant_id, years, anchor) VALUES ($1, 3, $2)', [w.tenantId, '2024-01-01']);
    try {
      const q = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
      expect(q.ledger.groups.map((g) => [g.start, g.end])).toEqual([cycleOf(today, { years: 3, anchor: '2024-01-01' })].map((c) => [c.start, c.end]).concat(lastCycleDay < new Date('2024-01-01') ? [['2021-01-01', '2023-12-31']] : []));
    } finally {
      await w.q('DELETE FROM renewal_cycles WHERE tenant_id = $1', [w.tenantId]);
    }
  });

  it('shows it all on the page, with the forms and the notification choices', async () => {
    const { status, html } = await page(tamika, '/portfolio');
    expect(status).toBe(200);
    for (const text of ['My portfolio', 'Tech Leader I: Google Workspace', 'Revoked', 'Awarded to the wrong educator', '2 of 3 required', 'Add to LinkedIn profile', 'Printable CEU transcript', 'Export all my data', 'Turn on a public link', 'name="notifyAward"', '_method" value="PUT"']) expect([text, html.includes(text)]).toEqual([text, true]);
    expect(html).not.toContain('Brian Okoye');
    expect(html).toContain(`action="${new URL(tamika.base).pathname}/me/preferences"`);
  });

  it('downloads a signed CLR 2.0 of every badge not revoked, which our verifier and the DCC verifier accept', async () => {
    const res = await tamika.api('/api/portfolio/clr');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const clr = (await res.json()) as { type: string[]; credentialSubject: { verifiableCredential: { id: string }[]; association?: unknown[] } };
    expect(clr.type).toEqual(['VerifiableCredential', 'ClrCredential']);
    const ids = clr.credentialSubject.verifiableCredential.map((c) => c.id).sort();
    expect(ids).toHaveLength(4);
    expect(ids).not.toContain(`${w.stack.config.publicUrl}/credentials/${revoked.credentialId}`);
    expect(ids).toContain(`${w.stack.config.publicUrl}/credentials/${stackAward.credentialId}`);
    expect(clr.credentialSubject.association).toHaveLength(2);
    const ours = await w.stack.tool.app.badges.verifyCredential(clr);
    expect([ours.verified, ours.errors]).toEqual([true, []]);
    // The DCC verifier fetches did:web documents and status lists: route our host to the running tool, block the rest.
    const publicUrl = w.stack.config.publicUrl;
    const net = blockNetwork();
    try {
      routeDccFetch(net, new URL(publicUrl).host, (u) => net.realFetch(`${publicUrl}${u.pathname}`));
      const dcc = await dccVerify(clr);
      expect(dcc.fatal).toEqual([]);
      expect(dcc.log).toMatchObject({ valid_signature: true });
      // Award jobs keep talking to Canvas (the sandbox) in the background meanwhile; the verifiers never may.
      const canvas = new URL(w.stack.sandbox.baseUrl);
      expect(net.attempts.filter((a) => !a.startsWith(canvas.origin) && !a.includes(`"port":"${canvas.port}"`))).toEqual([]);
    } finally {
      net.restore();
    }
  });

  it('prints a transcript: title, educator, district issuer, each entry with hours, CEUs, date and verification URL, totals per cycle', async () => {
    const { status, html } = await page(tamika, '/portfolio/transcript');
    expect(status).toBe(200);
    for (const text of ['Continuing education transcript', 'Tamika Ellison', 'Sandbox District', `${w.stack.config.publicUrl}/credentials/${tl1.credentialId}`, `${w.stack.config.publicUrl}/credentials/${older.credentialId}`, 'Total for the cycle', `>${2 * HOURS}<`, `>${ceus(HOURS)}<`, 'data-print']) expect([text, html.includes(text)]).toEqual([text, true]);
    expect(html).toContain('/assets/css/portfolio.css');
    expect(html).not.toContain('Brian Okoye');
  });

  it('shares a public page only when turned on; off makes the link 404, and on again makes a new link', async () => {
    const before = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
    expect(before.publicUrl).toBeNull();
    // The form, as a browser without JavaScript sends it.
    const on = await postForm(tamika, '/portfolio/sharing', { share: 'on' });
    expect([on.status, on.headers.get('location')]).toEqual([303, `${new URL(tamika.base).pathname}/portfolio?notice=shared#sharing`]);
    const shared = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
    const link = shared.publicUrl!;
    expect(link).toMatch(new RegExp(`^${w.stack.config.publicUrl}/portfolio/[A-Za-z0-9_-]{22}$`));
    let pub = await fetch(link);
    let html = await pub.text();
    expect([pub.status, pub.headers.get('x-robots-tag'), pub.headers.get('cache-control')]).toEqual([200, 'noindex', 'no-store']);
    expect(html).toContain('Tech Leader I: Google Workspace');
    expect(html).not.toContain('Tech Leader I: Canvas Studio'); // revoked
    // Nothing private: no name (not opted in), no email, no hours, no course.
    for (const secret of ['Tamika', 'tamika.ellison@', 'hours', 'Tech Leader I</strong>']) expect([secret, html.includes(secret)]).toEqual([secret, false]);
    // "Show my name" on one badge: the name shows beside that badge only.
    expect((await postForm(tamika, `/portfolio/credentials/${tl1.credentialId}/name`, { show: 'on' })).status).toBe(303);
    html = await (await fetch(link)).text();
    expect(html.match(/Tamika Ellison/g)).toHaveLength(1);
    expect((await w.q<{ show_name: boolean }>('SELECT show_name FROM issued_credentials WHERE id = $1', [tl1.credentialId]))[0]!.show_name).toBe(true);
    // The JSON API does the same.
    expect((await tamika.api(`/api/portfolio/credentials/${tl1.credentialId}/show-name`, { method: 'PUT', json: { showName: false } })).status).toBe(200);
    expect(await (await fetch(link)).text()).not.toContain('Tamika Ellison');
    // Off: the link is dead.
    expect((await postForm(tamika, '/portfolio/sharing', { share: 'off' })).status).toBe(303);
    pub = await fetch(link);
    expect(pub.status).toBe(404);
    // On again (through the API): a new, different link; the old one stays dead.
    const again = await json<{ public: boolean; url: string }>(await tamika.api('/api/portfolio/sharing', { method: 'PUT', json: { public: true } }));
    expect(again.public).toBe(true);
    expect(again.url).not.toBe(link);
    expect((await fetch(again.url)).status).toBe(200);
    expect((await fetch(link)).status).toBe(404);
    expect((await fetch(`${w.stack.config.publicUrl}/portfolio/not-a-slug`)).status).toBe(404);
  });

  it('refuses bad input and other people’s badges clearly', async () => {
    const brian = await w.as(102);
    // Another educator cannot name themselves on Tamika's badge: it is not theirs (404, nothing changed).
    expect((await postForm(brian, `/portfolio/credentials/${tl1.credentialId}/name`, { show: 'on' })).status).toBe(404);
    expect((await brian.api(`/api/portfolio/credentials/${tl1.credentialId}/show-name`, { method: 'PUT', json: { showName: true } })).status).toBe(404);
    expect((await postForm(tamika, '/portfolio/sharing', { share: 'maybe' })).status).toBe(400);
    expect((await postForm(tamika, '/portfolio/sharing', { share: 'on' }, { csrf: false })).status).toBe(403);
    const bad = await tamika.api('/api/portfolio/sharing', { method: 'PUT', json: { public: 'yes' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('public');
    expect((await tamika.api('/api/portfolio/credentials/not-a-uuid/show-name', { method: 'PUT', json: { showName: true } })).status).toBe(404);
  });

  it('exports everything stored about the educator, and nothing about anyone else', async () => {
    const [tamikaId, brianId] = [await w.userId(101), await w.userId(102)];
    // Evidence snapshots as the progress engine stores them (one of Tamika's with a file; one of Brian's).
    const snap = async (canvasUserId: string, url: string) =>
      (await w.q<{ id: string }>(
        `INSERT INTO evidence_snapshots (tenant_id, course_id, credential_id, canvas_user_id, canvas_assignment_id, canvas_submission_id, attempt, submission_type, body, url, submitted_at)
         VALUES ($1, $2, $3, $4, '9001', $5, 1, 'online_text_entry', 'My lesson on digital citizenship', $6, now()) RETURNING id`,
        [w.tenantId, w.course101, w.credential.id, canvasUserId, `sub-${canvasUserId}`, url],
      ))[0]!.id;
    const mine = await snap('101', 'https://example.org/tamika-lesson');
    await snap('102', 'https://example.org/brian-lesson');
    await w.q("INSERT INTO evidence_files (tenant_id, snapshot_id, canvas_file_id, filename, declared_content_type, size, sha256, status) VALUES ($1, $2, '77', 'lesson.pdf', 'application/pdf', 1234, $3, 'stored')", [w.tenantId, mine, 'ab'.repeat(32)]);
    await w.q("INSERT INTO review_affiliations (tenant_id, course_id, user_id, section_ids, school) VALUES ($1, $2, $3, '{201}', 'Northside Middle') ON CONFLICT (course_id, user_id) DO UPDATE SET school = 'Northside Middle'", [w.tenantId, w.course101, tamikaId]);
    await w.q("INSERT INTO review_affiliations (tenant_id, course_id, user_id, section_ids, school) VALUES ($1, $2, $3, '{201}', 'Brians Own School') ON CONFLICT (course_id, user_id) DO UPDATE SET school = 'Brians Own School'", [w.tenantId, w.course101, brianId]);

    const res = await tamika.api('/me/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="?microcred-my-data-\d{4}-\d{2}-\d{2}\.json"?$/);
    const text = await res.text();
    const doc = JSON.parse(text) as Record<string, unknown> & {
      profile: { id: string; name: string; email: string };
      courses: { title: string }[];
      evidenceSnapshots: { url: string; textSha256: string; files: { filename: string; sha256: string }[] }[];
      submissions: { credential: string; blindReview: boolean; reviews: { reviewer: string | null; decision: string; feedback: string }[] }[];
      awards: { name: string }[];
      credentials: { id: string; credential: { id: string } }[];
      ceuLedger: { kind: string; hours: number }[];
      preferences: { publicPortfolio: boolean };
      affiliations: { school: string }[];
    };
    expect(doc.profile).toMatchObject({ id: tamikaId, name: 'Tamika Ellison', email: 'tamika.ellison@qcps.example.org' });
    expect(doc.courses.map((c) => c.title)).toContain('Tech Leader I');
    expect(doc.evidenceSnapshots).toEqual([expect.objectContaining({ url: 'https://example.org/tamika-lesson', textSha256: expect.stringMatching(/^[0-9a-f]{64}$/), files: [expect.objectContaining({ filename: 'lesson.pdf', sha256: 'ab'.repeat(32) })] })]);
    expect(text).not.toContain('My lesson on digital citizenship'); // metadata and hashes, not the text
    expect(doc.awards.map((a) => a.name).sort()).toEqual(['Tech Leader I', 'Tech Leader I pathway', 'Tech Leader I: Blind-reviewed', 'Tech Leader I: Canvas Studio', 'Tech Leader I: Google Workspace'].sort());
    expect(doc.credentials.map((c) => c.id)).toEqual(expect.arrayContaining([tl1, older, revoked, stackAward].map((a) => a.credentialId)));
    expect(doc.credentials).toHaveLength(5);
    expect(doc.ceuLedger.map((l) => l.kind).sort()).toEqual(['earned', 'earned', 'earned', 'earned', 'reversed']);
    expect(doc.affiliations).toEqual([expect.objectContaining({ school: 'Northside Middle' })]);
    // Reviews she received: the reviewer's name only where the review was not blind.
    const open = doc.submissions.find((s) => s.credential === 'Tech Leader I')!;
    const blind = doc.submissions.find((s) => s.credential === 'Tech Leader I: Blind-reviewed')!;
    expect(open.reviews).toEqual([expect.objectContaining({ reviewer: 'Rashad Greene', decision: 'award' })]);
    expect(blind).toMatchObject({ blindReview: true });
    expect(blind.reviews).toEqual([expect.objectContaining({ reviewer: null, decision: 'award' })]);
    // Nobody else: no other educator's name, email, evidence or school anywhere in the document.
    const others = await w.q<{ name: string; email: string }>("SELECT name, email FROM users WHERE tenant_id = $1 AND id <> $2 AND canvas_user_id NOT IN ('4')", [w.tenantId, tamikaId]);
    expect(others.length).toBeGreaterThan(3);
    for (const o of others) {
      expect([o.name, text.includes(o.name)]).toEqual([o.name, false]);
      expect([o.email, text.includes(o.email)]).toEqual([o.email, false]);
    }
    for (const s of ['brian-lesson', 'Brians Own School', brianId]) expect([s, text.includes(s)]).toEqual([s, false]);
  });

  describe('in Chromium', () => {
    let chromium: Chromium;
    let context: BrowserContext;
    beforeAll(async () => {
      chromium = await launchChromium();
      // axe's script needs the CSP bypassed in this context only.
      context = await chromium.newContext({ bypassCSP: true });
    });
    afterAll(async () => {
      await context?.close();
      await chromium?.close();
    });

    async function axe(p: Page) {
      await p.addScriptTag({ path: path.resolve('node_modules/axe-core/axe.min.js') });
      const result = await p.evaluate(async () => {
        const a = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> } }).axe;
        return a.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
    }

    it('passes axe-core (no serious or critical issue) on the portfolio, the transcript and the public page, on a desktop and a phone', async () => {
      const shared = await json<{ url: string }>(await tamika.api('/api/portfolio/sharing', { method: 'PUT', json: { public: true } }));
      await tamika.api(`/api/portfolio/credentials/${tl1.credentialId}/show-name`, { method: 'PUT', json: { showName: true } });
      const found: Record<string, unknown[]> = {};
      for (const width of [1280, 390]) {
        const p = await context.newPage();
        await p.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        for (const [name, url] of [
          ['portfolio', `${tamika.base}/portfolio`],
          ['transcript', `${tamika.base}/portfolio/transcript`],
          ['public', shared.url],
        ] as const) {
          const res = await p.goto(url);
          expect([name, res?.status()]).toEqual([name, 200]);
          await p.waitForLoadState('load');
          await p.screenshot({ path: artifact(`portfolio-${name}-${width}.png`), fullPage: true });
          const v = (await axe(p)).filter((x) => x.impact === 'serious' || x.impact === 'critical');
          if (v.length) found[`${name}@${width}`] = v;
          expect([name, width, await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)]).toEqual([name, width, true]);
        }
        await p.close();
      }
      expect(found).toEqual({});
      // The transcript prints without the app's header, navigation and buttons.
      const p = await context.newPage();
      await p.goto(`${tamika.base}/portfolio/transcript`);
      await p.emulateMedia({ media: 'print' });
      expect(await p.evaluate(() => [document.querySelector('.app-header'), document.querySelector('.transcript__actions')].map((e) => (e ? getComputedStyle(e).display : 'missing')))).toEqual(['none', 'none']);
      await p.pdf({ path: artifact('portfolio-transcript.pdf') });
      await p.close();
    });

    it('saves the notification choices with the form (PUT as JSON with the CSRF token) and says so', async () => {
      const p = await chromium.newPage();
      const sent: { method: string; body: string | null; csrf: string | undefined }[] = [];
      await p.route('**/me/preferences', async (route) => {
        const r = route.request();
        sent.push({ method: r.method(), body: r.postData(), csrf: r.headers()['x-csrf-token'] });
        await route.fulfill({ status: 200, contentType: 'application/json', body: '{}' });
      });
      await p.goto(`${tamika.base}/portfolio`);
      await p.getByLabel('A reviewer says “not yet” and leaves feedback').uncheck();
      await p.getByRole('button', { name: 'Save notification choices' }).click();
      await p.getByText('Saved.').waitFor();
      expect(sent).toEqual([{ method: 'PUT', body: JSON.stringify({ notifyAward: true, notifyNotYet: false }), csrf: tamika.csrf }]);
      await p.close();
    });
  });

  it('labels a badge past its validUntil as expired, on the portfolio and the public page', async () => {
    const [row] = await w.q<{ valid_until: Date | null }>('SELECT valid_until FROM issued_credentials WHERE id = $1', [older.credentialId]);
    await w.q("UPDATE issued_credentials SET valid_until = now() - interval '1 day' WHERE id = $1", [older.credentialId]);
    try {
      const p = await json<PortfolioJson>(await tamika.api('/api/portfolio'));
      expect(p.badges.find((b) => b.id === older.credentialId)).toMatchObject({ state: 'expired' });
      expect(p.counts.valid).toBe(3);
      const shared = await json<{ url: string }>(await tamika.api('/api/portfolio/sharing', { method: 'PUT', json: { public: true } }));
      const html = await (await fetch(shared.url)).text();
      expect(html).toMatch(/Tech Leader I: Google Workspace<\/h2><span class="pill pill--warning">Expired<\/span>/);
    } finally {
      await w.q('UPDATE issued_credentials SET valid_until = $2 WHERE id = $1', [older.credentialId, row!.valid_until]);
    }
  });

  // Keeps `allAt` and the helpers honest: a "not yet" decision leaves no award and no ledger entry.
  it('makes no award and no hours from a “not yet”', async () => {
    await w.notYet(103, allAt('meets', { 'ferpa-cipa': 'not-yet' }));
    const sofia = await w.as(103);
    const p = await json<PortfolioJson>(await sofia.api('/api/portfolio'));
    expect([p.badges.length, p.ledger.groups.length]).toEqual([0, 0]);
    const { html } = await page(sofia, '/portfolio');
    expect(html).toContain('No badges yet.');
  });
});
