import path from 'node:path';
import type { Page } from 'playwright-core';
import { createSandbox, loadScenario } from '../../src/sandbox';
import { connectToolToSandbox } from '../../src/sandbox/connectTool';
import { cycleOf } from '../../src/portfolio/cycles';
import { ceus } from '../../src/catalog/rules';
import { Browser } from '../support/browser';
import { sessionOf } from '../support/session';
import { freePort } from '../support/stack';
import { artifact, launchChromium } from '../support/chromium';
import { techLeaderI } from '../catalog/support';
import { startPortfolioWorld, json, page, allAt, type PortfolioWorld } from '../portfolio/support';

/**
 * District reports over real awards, reviews and schools: CEUs per educator for a period, awards per credential
 * and per school, time to award (median, 90th percentile), the "not yet" rate per criterion; their CSVs (quoting,
 * formula injection); the date filter; who may see them (and how much); and the page in Chromium with axe-core.
 */

type Api = Awaited<ReturnType<PortfolioWorld['as']>>;
interface ReportsJson {
  range: { from: string; to: string };
  scope: { course: string | null };
  ceus: { educator: string; email: string | null; entries: number; hours: number; ceus: number }[];
  awardsByCredential: { name: string; kind: string; awards: number; revoked: number; educators: number }[];
  awardsBySchool: { school: string; recorded: boolean; awards: number; educators: number }[];
  timeToAward: { overall: { awards: number; medianDays: number; p90Days: number }; perCredential: { credential: string; awards: number; medianDays: number; p90Days: number }[] };
  notYet: { credential: string; criterion: string; scored: number; notYet: number; rate: number }[];
}

const HOURS = techLeaderI().hours;
const CRITERIA = techLeaderI().rubric.criteria;
const DAY = 86_400_000;
const INJECTED = '=HYPERLINK("http://evil.example","Hyun-woo")';
const SCHOOL = 'Eastside, "Upper" Campus';

/** A tiny RFC 4180 reader for the assertions (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('reports', () => {
  let w: PortfolioWorld;
  let admin: Api;
  let designer: Api;
  let studioName: string;
  const today = new Date().toISOString().slice(0, 10);
  const cycleStart = cycleOf(today).start;
  let closeB: () => Promise<void>;
  let removeB: () => Promise<void>;
  let adminB: ReturnType<typeof sessionOf>;
  let earnerB: ReturnType<typeof sessionOf>;

  beforeAll(async () => {
    w = await startPortfolioWorld();
    admin = await w.as(1);
    designer = w.designer;
    const course = w.course101;
    const school = (canvas: number, name: string | null) => w.userId(canvas).then((id) => w.q('INSERT INTO review_affiliations (tenant_id, course_id, user_id, section_ids, school) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (course_id, user_id) DO UPDATE SET school = EXCLUDED.school', [w.tenantId, course, id, '{201}', name]));
    await Promise.all([school(101, 'Northside Middle'), school(102, 'Northside Middle'), school(103, SCHOOL)]);
    // Reviewed awards: submitted 2, 4 and 10 days ago, awarded now.
    await w.reviewAndAward(101, { submittedAt: new Date(Date.now() - 2 * DAY) });
    await w.reviewAndAward(102, { submittedAt: new Date(Date.now() - 4 * DAY) });
    await w.reviewAndAward(103, { submittedAt: new Date(Date.now() - 10 * DAY) });
    // A "not yet" on FERPA & CIPA.
    await w.notYet(104, allAt('meets', { 'ferpa-cipa': 'not-yet' }));
    // Awarded without review (bulk), to an educator whose name is a spreadsheet formula and who has no school.
    const hyunwoo = await w.userId(107);
    await w.q('UPDATE users SET name = $1 WHERE id = $2', [INJECTED, hyunwoo]);
    await w.award(107, { source: 'bulk' });
    // Another micro-credential awarded and revoked; and an award in the last cycle (outside the default period).
    const studio = await w.newCredential('Tech Leader I: Canvas Studio');
    studioName = 'Tech Leader I: Canvas Studio';
    await w.revokeAward(await w.award(105, { credential: studio }), 'Wrong educator');
    await w.award(101, { credential: studio, awardedAt: new Date(new Date(`${cycleStart}T12:00:00Z`).getTime() - 30 * DAY) });
    // An award in course 102: the district sees it, course 101's designer does not.
    await w.award(108, { courseId: w.course102, credential: await w.newCredential('Tech Leader II preview') });

    // District B: a second Canvas registered with the same microcred.
    const port = await freePort();
    const b = createSandbox({ baseUrl: `http://localhost:${port}`, scenario: loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
    closeB = (await b.listen(port, '127.0.0.1')).close;
    const installedB = await connectToolToSandbox(w.stack.tool.app, w.stack.config, b, 'District B');
    removeB = async () => void (await w.stack.tool.app.repos.tenants.removePlatform(b.issuer, installedB.clientId));
    const launchB = async (user: string) => {
      const init = b.loginInitiation({ userId: user, courseId: '101', toolId: installedB.toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      return sessionOf(await new Browser({ topLevelHost: new URL(b.baseUrl).host }).get(u.toString()));
    };
    adminB = await launchB('1');
    earnerB = await launchB('101');
  }, 300_000);
  afterAll(async () => {
    await removeB?.();
    await closeB?.();
    await w?.stop();
  });

  it('adds up CEUs per educator for the period (default: the current renewal cycle to today)', async () => {
    const r = await json<ReportsJson>(await admin.api('/api/reports'));
    expect(r.range).toEqual({ from: cycleStart, to: today });
    expect(r.scope.course).toBeNull();
    const by = Object.fromEntries(r.ceus.map((c) => [c.educator, c]));
    expect(by['Tamika Ellison']).toMatchObject({ entries: 1, hours: HOURS, ceus: ceus(HOURS) });
    expect(by[INJECTED]).toMatchObject({ entries: 1, hours: HOURS });
    // Emily's award was revoked: earned and taken back, zero.
    expect(by['Emily Hargrove']).toMatchObject({ entries: 1, hours: 0, ceus: 0 });
    expect(Object.keys(by).sort()).toEqual(['Brian Okoye', 'Emily Hargrove', 'Grace Abernathy', INJECTED, 'Sofia Marchetti', 'Tamika Ellison'].sort());
    // A period that reaches into the last cycle counts Tamika's older award too.
    const wide = await json<ReportsJson>(await admin.api(`/api/reports?from=${Number(cycleStart.slice(0, 4)) - 1}-01-01`));
    expect(wide.ceus.find((c) => c.educator === 'Tamika Ellison')).toMatchObject({ entries: 2, hours: 2 * HOURS, ceus: 2 * ceus(HOURS) });
    // A period with nothing in it.
    const empty = await json<ReportsJson>(await admin.api('/api/reports?from=2001-01-01&to=2001-12-31'));
    expect([empty.ceus, empty.awardsByCredential, empty.notYet]).toEqual([[], [], []]);
  });

  it('counts awards per credential and per school', async () => {
    const r = await json<ReportsJson>(await admin.api('/api/reports'));
    expect(r.awardsByCredential).toEqual([
      { name: 'Tech Leader I', kind: 'micro-credential', awards: 4, revoked: 0, educators: 4 },
      { name: studioName, kind: 'micro-credential', awards: 1, revoked: 1, educators: 1 },
      { name: 'Tech Leader II preview', kind: 'micro-credential', awards: 1, revoked: 0, educators: 1 },
    ].sort((a, b) => b.awards - a.awards || a.name.localeCompare(b.name)));
    expect(r.awardsBySchool).toEqual([
      { school: 'Northside Middle', recorded: true, awards: 2, educators: 2 },
      { school: SCHOOL, recorded: true, awards: 1, educators: 1 },
      { school: 'School not recorded', recorded: false, awards: 2, educators: 2 },
    ]);
  });

  it('measures time to award from the first submission: median and 90th percentile', async () => {
    const r = await json<ReportsJson>(await admin.api('/api/reports'));
    // 2, 4 and 10 days (plus the seconds the test took): median 4, nearest-rank p90 10. The bulk award has no submission.
    expect(r.timeToAward.overall).toMatchObject({ awards: 3, medianDays: 4, p90Days: 10 });
    expect(r.timeToAward.perCredential).toEqual([{ credential: 'Tech Leader I', awards: 3, medianDays: 4, p90Days: 10 }]);
  });

  it('gives the not-yet rate per criterion from the reviews’ scores and the rubric’s passing levels', async () => {
    const r = await json<ReportsJson>(await admin.api('/api/reports'));
    expect(r.notYet).toEqual(CRITERIA.map((c) => ({ credential: 'Tech Leader I', criterion: c.title, scored: 4, notYet: c.id === 'ferpa-cipa' ? 1 : 0, rate: c.id === 'ferpa-cipa' ? 0.25 : 0 })));
  });

  it('exports each report as CSV: quoted where needed, formulas neutralised, the period on each row', async () => {
    const csv = async (name: string, q = '') => {
      const res = await admin.api(`/reports/${name}.csv${q}`);
      expect([name, res.status, res.headers.get('content-type')]).toEqual([name, 200, 'text/csv; charset=utf-8']);
      expect(res.headers.get('content-disposition')).toContain(`microcred-${name}-`);
      const bytes = Buffer.from(await res.arrayBuffer());
      // A UTF-8 byte order mark first (fetch's text() would hide it), so spreadsheets read accents right.
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.subarray(3).toString('utf8');
      return { text, rows: parseCsv(text) };
    };
    const c = await csv('ceus');
    expect(c.rows[0]).toEqual(['Educator', 'Email', 'Awards', 'Hours', 'CEUs', 'From', 'To']);
    // The formula name is quoted (it has quotes and commas) and starts with an apostrophe inside the quotes.
    expect(c.text).toContain(`"'=HYPERLINK(""http://evil.example"",""Hyun-woo"")"`);
    expect(c.rows.find((r) => r[0] === `'${INJECTED}`)).toEqual([`'${INJECTED}`, 'hyun-woo.park@qcps.example.org', '1', String(HOURS), String(ceus(HOURS)), cycleStart, today]);
    expect(c.rows.find((r) => r[0] === 'Emily Hargrove')).toEqual(['Emily Hargrove', 'emily.hargrove@qcps.example.org', '1', '0', '0', cycleStart, today]);
    expect(c.rows.every((r) => !/^[=+\-@]/.test(r[0]!))).toBe(true);
    const s = await csv('awards-by-school');
    expect(s.text).toContain('"Eastside, ""Upper"" Campus",1,1,');
    expect(s.rows.slice(1).map((r) => r.slice(0, 3))).toEqual([['Northside Middle', '2', '2'], [SCHOOL, '1', '1'], ['School not recorded', '2', '2']]);
    expect((await csv('awards-by-credential')).rows[1]).toEqual(['Tech Leader I', 'micro-credential', '4', '0', '4', cycleStart, today]);
    expect((await csv('time-to-award')).rows.slice(1)).toEqual([['Tech Leader I', '3', '4', '10', cycleStart, today], ['All micro-credentials', '3', '4', '10', cycleStart, today]]);
    const n = await csv('not-yet', '?from=2020-01-01');
    expect(n.rows.find((r) => r[1] === CRITERIA.find((x) => x.id === 'ferpa-cipa')!.title)).toEqual(['Tech Leader I', CRITERIA.find((x) => x.id === 'ferpa-cipa')!.title, '4', '1', '0.25', '2020-01-01', today]);
    expect((await admin.api('/reports/nonsense.csv')).status).toBe(404);
  });

  it('answers a clear 400 for bad dates, naming the field, on the API, the CSV and the page', async () => {
    const bad = await admin.api('/api/reports?from=2025-13-01');
    expect(bad.status).toBe(400);
    const e = (await bad.json()) as { error: { code: string; message: string; fields: Record<string, string> } };
    expect(e.error.code).toBe('invalid_input');
    expect(e.error.fields.from).toMatch(/not a date: use YYYY-MM-DD/);
    const backwards = (await (await admin.api('/api/reports?from=2026-05-01&to=2026-01-01')).json()) as typeof e;
    expect(backwards.error.fields).toEqual({ to: 'The end date comes before the start date.' });
    expect((await admin.api('/reports/ceus.csv?to=yesterday')).status).toBe(400);
    const p = await page(admin, '/reports?from=2025-02-30&to=2025-12-31');
    expect(p.status).toBe(400);
    expect(p.html).toContain('There is a problem');
    expect(p.html).toContain('“2025-02-30” is not a date');
    expect(p.html).toContain('value="2025-12-31"');
  });

  it('is for admins, recognizers and (their course only) designers; not earners or reviewers; never another district’s', async () => {
    const status = async (a: { api(p: string): Promise<Response> }) => Promise.all(['/api/reports', '/reports/ceus.csv'].map(async (p) => (await a.api(p)).status));
    expect(await status(await w.as(101))).toEqual([403, 403]);
    expect(await status(await w.as(4))).toEqual([403, 403]);
    expect((await page(await w.as(101), '/reports')).status).toBe(403);
    expect(await status(admin)).toEqual([200, 200]);
    // A recognizer (a grant on an educator): the district's reports, and the reports are their home.
    await w.stack.tool.app.repos.tenants.grant(w.tenantId, await w.userId(106), 'recognizer', null, null);
    const { page: landed } = await w.stack.launch('106', { courseId: '101' });
    expect(new URL(landed.url).pathname).toMatch(/\/reports$/);
    const recognizer = sessionOf(landed);
    expect(await status(recognizer)).toEqual([200, 200]);
    expect((await json<ReportsJson>(await recognizer.api('/api/reports'))).awardsByCredential).toHaveLength(3);
    // The designer of course 101: that course only (the course 102 award is not theirs).
    const d = await json<ReportsJson>(await designer.api('/api/reports'));
    expect(d.scope.course).toBe('Tech Leader I');
    expect(d.awardsByCredential.map((a) => a.name)).not.toContain('Tech Leader II preview');
    expect(d.ceus.map((c) => c.educator)).not.toContain('Grace Abernathy');
    // District B: its admin sees B's (empty) reports and nothing of A; its educators are refused.
    const rb = await adminB.api('/api/reports');
    const textB = await rb.text();
    expect(rb.status).toBe(200);
    expect(JSON.parse(textB)).toMatchObject({ ceus: [], awardsByCredential: [], awardsBySchool: [], notYet: [] });
    for (const s of ['Tamika', 'Northside', 'HYPERLINK']) expect(textB).not.toContain(s);
    expect(await status(earnerB)).toEqual([403, 403]);
    // Nor can B's educator reach A's badges through the portfolio (not theirs: 404).
    const [cred] = await w.q<{ id: string }>('SELECT id FROM issued_credentials WHERE tenant_id = $1 LIMIT 1', [w.tenantId]);
    expect((await earnerB.api(`/api/portfolio/credentials/${cred!.id}/show-name`, { method: 'PUT', json: { showName: true } })).status).toBe(404);
  });

  it('renders accessible tables with bars (no serious or critical axe-core issue), on a desktop and a phone', async () => {
    const { html } = await page(admin, '/reports');
    for (const t of ['CEUs per educator', 'Awards per school', 'Time to award', '“Not yet” rate per criterion', 'report-bar__fill', 'Download CSV', 'Northside Middle', SCHOOL.replace(/"/g, '&#34;')]) expect([t, html.includes(t)]).toEqual([t, true]);
    expect(html).not.toContain('<script src="https://');
    const chromium = await launchChromium();
    try {
      const context = await chromium.newContext({ bypassCSP: true });
      const found: Record<string, unknown[]> = {};
      for (const width of [1280, 390]) {
        const p: Page = await context.newPage();
        await p.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        for (const [name, a] of [['admin', admin], ['designer', designer]] as const) {
          expect((await p.goto(`${a.base}/reports`))?.status()).toBe(200);
          await p.screenshot({ path: artifact(`reports-${name}-${width}.png`), fullPage: true });
          await p.addScriptTag({ path: path.resolve('node_modules/axe-core/axe.min.js') });
          const v = await p.evaluate(async () => {
            const a = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
            return (await a.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })).violations.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => ({ id: x.id, nodes: x.nodes.length }));
          });
          if (v.length) found[`${name}@${width}`] = v;
          expect([name, width, await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)]).toEqual([name, width, true]);
        }
        // The 400 page, too.
        await p.goto(`${admin.base}/reports?from=2025-02-30`);
        await p.screenshot({ path: artifact(`reports-bad-date-${width}.png`), fullPage: true });
        await p.close();
      }
      expect(found).toEqual({});
    } finally {
      await chromium.close();
    }
  });
});
