/**
 * An XSS corpus through every field a person can write in microcred (the catalog, stacks, the issuer profile,
 * review feedback) and through what Canvas sends (people's and courses' names, section names, evidence text, file
 * names, links), then every page of the route table opened as every role in headless Chromium: no payload may run.
 * Each payload, if it ran, would set `window.__xss` or open a dialog; both are watched on every page, and so is
 * markup a payload would leave in the DOM (inline handlers, srcdoc frames, javascript: links, inline scripts), which
 * the Content-Security-Policy alone would neutralise.
 */
import type { Browser, Page } from 'playwright-core';
import { ROUTE_TABLE } from '../../src/app';
import { reviewScenario, startWorld, allAt, type World } from '../review/support/world';
import { body, techLeaderI, type Api } from '../catalog/support';
import { claim, decideApi } from '../review/support/api';
import { launchChromium } from '../support/chromium';
import { concreteRoute } from '../support/routes';

jest.setTimeout(300_000);

const MARK = 'XSSMARK';
/** Each one executes `__xss` in some context if it is not escaped or sanitized there. */
const PAYLOADS = [
  `${MARK}<script>window.__xss='script'</script>`,
  `${MARK}"><img src=x onerror="window.__xss='img-attr'">`,
  `${MARK}'><svg onload="window.__xss='svg-attr'">`,
  `${MARK}</textarea></title><script>window.__xss='breakout'</script>`,
  `${MARK}<iframe srcdoc="<script>parent.__xss='srcdoc'</script>"></iframe>`,
  `${MARK}<a href="javascript:window.__xss='js-url'" id="xss-link">x</a>`,
  `${MARK}\`;window.__xss='template';//`,
  `${MARK}<details open ontoggle="window.__xss='toggle'">`,
];
const p = (i: number) => PAYLOADS[i % PAYLOADS.length]!;

describe('an XSS corpus through every field and every page', () => {
  let w: World;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const sessions: Record<string, Api> = {};

  beforeAll(async () => {
    // What Canvas sends: names of people, the course, a section.
    const scenario = reviewScenario();
    scenario.users.find((u) => u.id === 101)!.name = `Ana ${p(1)}`;
    scenario.users.find((u) => u.id === 102)!.name = `Ben ${p(2)}`;
    const course = scenario.courses.find((c) => c.id === 101)!;
    course.name = `Tech Leader ${p(0)}`;
    course.sections = (course.sections ?? []).map((s, i) => ({ ...s, name: `${s.name} ${p(3 + i)}` }));
    w = await startWorld({ scenario });
    const designer = w.designer;

    // What designers write: every text field of a micro-credential, its rubric and alignments.
    const base = techLeaderI();
    const def = {
      ...base,
      name: `Leader ${p(0)}`.slice(0, 200),
      competency: `Competency ${p(1)}`,
      description: `Description ${p(2)}`,
      keyMethod: `Method ${p(3)}`,
      criteriaNarrative: `Narrative **bold** ${p(4)} [link](javascript:window.__xss='md')`,
      evidencePrompts: base.evidencePrompts.map((e, i) => ({ ...e, prompt: `${e.prompt} ${p(5 + i)}` })),
      rubric: {
        criteria: base.rubric.criteria.map((c, i) => ({
          ...c,
          title: `${c.title} ${p(i)}`.slice(0, 200),
          description: `${c.description} ${p(i + 1)}`,
          levels: c.levels.map((l, j) => ({ ...l, name: `${l.name} ${p(i + j)}`.slice(0, 80), descriptor: `${l.descriptor} ${p(i + j + 2)}` })),
        })),
      },
      alignments: base.alignments.map((a, i) => ({ ...a, name: `${a.name} ${p(i)}`, framework: `${a.framework} ${p(i + 1)}`.slice(0, 200) })),
      tags: [`tag${MARK}<b>x</b>`],
    };
    const created = await designer.api('/api/catalog/credentials', { method: 'POST', json: def });
    if (created.status !== 201) throw new Error(`credential: ${created.status} ${await created.text()}`);
    const cred = await body<{ id: string; current: { id: string } }>(created);
    ids.credential = cred.id;
    expect((await designer.api(`/api/catalog/credentials/${cred.id}/publish`, { method: 'POST' })).status).toBe(200);
    const st = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: `Stack ${p(5)}`.slice(0, 200), description: `About ${p(6)}`, kind: 'ordered', members: [{ credentialId: cred.id }] } });
    if (st.status !== 201) throw new Error(`stack: ${st.status} ${await st.text()}`);
    ids.stack = (await body<{ id: string }>(st)).id;

    // The district's issuer profile, by an admin.
    const admin = await w.as(1);
    const issuer = await admin.api('/api/catalog/issuer', { method: 'PUT', json: { name: `District ${p(7)}`.slice(0, 200), url: 'https://qcps.example.org', email: 'pd@qcps.example.org', description: `About us ${p(1)}` } });
    expect(issuer.status).toBe(200);

    // Evidence from Canvas, hostile text, link and file names; then a "not yet" with hostile feedback.
    const item = await w.submit(101, {
      credential: { id: cred.id, versionId: cred.current.id },
      text: `<p>${p(0)}</p><p>${p(1)}</p>${p(4)}`,
      url: "javascript:window.__xss='evidence-url'",
      files: [
        { filename: `${p(1)}.png`.replace(/\//g, '_'), contentType: 'image/png', bytes: 'not a png' },
        { filename: `notes${p(0)}.html`.replace(/\//g, '_'), contentType: 'text/html', bytes: `<script>window.__xss='served-html'</script>` },
        { filename: 'drawing.svg', contentType: 'image/svg+xml', bytes: `<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss='served-svg'"><script>window.__xss='served-svg2'</script></svg>` },
      ],
    });
    ids.item = item.id;
    const second = await w.submit(102, { credential: { id: cred.id, versionId: cred.current.id }, text: p(5) });
    ids.item2 = second.id;
    const ta = await w.as(4);
    expect((await claim(ta, item.id)).status).toBe(200);
    const levels = Object.fromEntries(def.rubric.criteria.map((c) => [c.id, c.levels[c.levels.length - 1]!.id]));
    const comments = Object.fromEntries(def.rubric.criteria.map((c, i) => [c.id, `Comment ${p(i)}`]));
    const decided = await decideApi(ta, item.id, { scores: levels, decision: 'not_yet', feedback: `Feedback ${p(3)}`, comments });
    if (decided.status !== 200) throw new Error(`decide: ${decided.status} ${await decided.text()}`);
    // A draft with hostile text, left open for the review page.
    expect((await claim(ta, second.id)).status).toBe(200);
    await ta.api(`/api/review/items/${second.id}/draft`, { method: 'PUT', json: { scores: allAt('meets'), comments: { 'digital-citizenship': p(6) }, feedback: p(7) } });

    sessions.designer = designer;
    sessions.reviewer = ta;
    sessions.admin = admin;
    sessions.earner = await w.as(101);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  const concrete = (path: string) => concreteRoute(path, ids);

  async function visit(page: Page, url: string): Promise<{ ran: string | null; dialogs: number; text: string; status: number }> {
    let dialogs = 0;
    const onDialog = (d: { dismiss(): Promise<void> }) => {
      dialogs += 1;
      void d.dismiss();
    };
    page.on('dialog', onDialog);
    let res;
    try {
      res = await page.goto(url, { waitUntil: 'load' });
    } catch (err) {
      page.off('dialog', onDialog);
      // Served as a download: the browser never renders it, which is the point for HTML and SVG evidence.
      if (/Download is starting/.test(String(err))) return { ran: null, dialogs, text: '', status: 0 };
      throw err;
    }
    // Give handlers (onload, ontoggle, focus) their chance, and follow every link that looks like a payload's.
    await page.waitForTimeout(50);
    for (const a of await page.locator('a#xss-link, a[href^="javascript:"]').all()) await a.click({ timeout: 500 }).catch(() => undefined);
    const ran = await page.evaluate(() => (window as unknown as { __xss?: string }).__xss ?? null);
    const frames = await Promise.all(page.frames().map((f) => f.evaluate(() => (window as unknown as { __xss?: string }).__xss ?? null).catch(() => null)));
    const text = await page.evaluate(() => document.body?.innerText ?? '');
    // The Content-Security-Policy would stop most of these from running anyway; escaping must not rely on it, so
    // markup from a payload in the DOM is a failure too.
    const injected = await page.evaluate(() => document.querySelectorAll('[onerror], [onload], [ontoggle], iframe[srcdoc], a[href^="javascript:"], #xss-link, script:not([src])').length);
    page.off('dialog', onDialog);
    return { ran: ran ?? frames.find((f) => f) ?? (injected ? `${injected} injected element(s)` : null), dialogs, text, status: res?.status() ?? 0 };
  }

  it('runs no payload on any page, for any role, while showing the payloads as text', async () => {
    const pages = ROUTE_TABLE.filter((r) => r.method === 'get' && r.kind !== 'api');
    expect(pages.length).toBeGreaterThan(15);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const ran: string[] = [];
    let shown = 0;
    let visited = 0;
    for (const [role, s] of Object.entries(sessions)) {
      for (const r of pages) {
        const url = s.base + concrete(r.path);
        const v = await visit(page, url);
        visited += 1;
        if (v.ran || v.dialogs) ran.push(`${r.path} as ${role}: ${v.ran ?? ''} ${v.dialogs} dialog(s)`);
        if (v.status === 200 && v.text.includes(MARK)) shown += 1;
      }
    }
    // Evidence files as the reviewer opens them (served from microcred's own route).
    const view = await body<{ evidence: { attachments: { url: string }[] } }>(await sessions.reviewer!.api(`/api/review/items/${ids.item}`));
    for (const a of view.evidence.attachments) {
      const v = await visit(page, new URL(a.url, w.stack.tool.url).toString());
      if (v.ran || v.dialogs) ran.push(`attachment ${a.url}: ${v.ran}`);
    }
    // Public pages.
    for (const path of ['/', '/verify', `/achievements/${(await body<{ current: { id: string } }>(await sessions.designer!.api(`/api/catalog/credentials/${ids.credential}`))).current.id}`]) {
      const v = await visit(page, w.stack.tool.url + path);
      if (v.ran || v.dialogs) ran.push(`${path}: ${v.ran}`);
    }
    await page.close();
    expect(ran).toEqual([]);
    // The check is meaningful: the payloads reached many pages, as text.
    expect(visited).toBeGreaterThan(60);
    expect(shown).toBeGreaterThan(15);
  });
});
