import { snapshotEvidenceSource } from '../../src/progress/toReview';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROUTE_TABLE } from '../../src/app';
import { RULES, type Action } from '../../src/policies';
import type { SessionContext } from '../../src/lti/sessions';
import type { AppRole } from '../../src/lti/roles';
import { startWorld, allAt, type World } from '../review/support/world';
import { review } from '../review/support/api';
import { sessionOf } from '../support/session';
import { launchChromium, ARTIFACTS } from '../support/chromium';
import { body, sandboxCourseReader } from '../catalog/support';
import { submitStored, PDF } from '../privacy/support';

/**
 * Accessibility of every page (docs/accessibility.md): each GET page route of the route table, opened as a role
 * the policy allows, plus the public pages and the error pages, is checked by axe-core (WCAG 2.0/2.1 A and AA rules)
 * in headless Chromium, and must have no serious or critical violation. The list comes from the route table, so a
 * new page is checked without anyone adding it here; a page the test cannot open is listed below with the reason.
 * Screenshots go to test-artifacts/a11y/.
 */
const UNREACHABLE: Record<string, string> = {
  '/review/items/:id/attachments/:attachmentId': 'serves an evidence file (PDF, image…), not a page',
  '/review/exemplars/:id/attachments/:attachmentId': 'serves an evidence file, not a page',
  '/canvas/connect/start': 'redirects to Canvas’s own OAuth consent page, which is not microcred’s',
};
const SERIOUS = ['serious', 'critical'];
const ROLE_ORDER: AppRole[] = ['earner', 'designer', 'reviewer', 'admin'];
const USER_OF: Record<string, string> = { earner: '101', designer: '2', reviewer: '4', admin: '1' };
const OUT = path.join(ARTIFACTS, 'a11y');

interface Violation { id: string; impact: string; help: string; nodes: { target: string[]; html: string }[] }

describe('accessibility of every page', () => {
  let w: World;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const bases: Record<string, string> = {};
  const results: { name: string; url: string; status: number; expectStatus: number; violations: Violation[]; overflow: number; wide: string[] }[] = [];

  beforeAll(async () => {
    w = await startWorld();
    w.stack.tool.app.review.setEvidenceSource(snapshotEvidenceSource(w.stack.tool.db.orm));
    // The attach page reads the course's modules from Canvas: through the sandbox, as the catalog tests do.
    w.stack.tool.app.catalog.setCourseReader(sandboxCourseReader(w.stack));
    for (const [role, user] of Object.entries(USER_OF)) bases[role] = (await w.as(user)).base;
    // Data for every page: a stack, a decided submission with a file, a waiting one, an exemplar, an issued credential.
    ids.credential = w.credential.id;
    const stack = await body<{ id: string }>(await w.designer.api('/api/catalog/stacks', { method: 'POST', json: { name: 'Tech Leader', description: 'The Tech Leader levels.', kind: 'ordered', members: [{ credentialId: w.credential.id }] } }));
    ids.stack = stack.id;
    const decided = await submitStored(w, 102, { files: [{ filename: 'lesson.pdf', contentType: 'application/pdf', bytes: PDF }] });
    await review(await w.as(4), decided.item.id, { scores: allAt('meets'), decision: 'not_yet', feedback: 'Add a reflection.', overrideComment: 'Reflection missing.' });
    const waiting = await submitStored(w, 103, { text: 'My lesson on passwords.' });
    ids.item = waiting.item.id;
    const exemplar = await w.designer.api('/api/review/exemplars', { method: 'POST', json: { itemId: decided.item.id, title: 'A lesson with no reflection', trueScores: allAt('meets') } });
    ids.exemplar = ((await exemplar.json()) as { id: string }).id;
    ids.person = await w.userId(103);
    const issued = await w.stack.tool.app.badges.issueOpenBadge({ tenantId: w.tenantId, earner: { userId: await w.userId(102), name: 'Brian Okoye', showName: true }, achievement: { versionId: w.credential.versionId } });
    ids.issued = issued.id;
    // A deep-linking launch (Canvas's "add content"): only there does /deep-linking make sense.
    const dl = await w.stack.launch('2', { messageType: 'LtiDeepLinkingRequest', courseId: '101' });
    bases.deepLinking = sessionOf(dl.page).base;
    fs.mkdirSync(OUT, { recursive: true });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await w.stop();
  });

  /** The route's path with real ids, and the query a page needs. */
  function concrete(p: string): string {
    const withIds = p
      .replace(/^\/catalog\/credentials\/:id/, `/catalog/credentials/${ids.credential}`)
      .replace(/^\/catalog\/stacks\/:id/, `/catalog/stacks/${ids.stack}`)
      .replace(/^\/review\/items\/:id/, `/review/items/${ids.item}`)
      .replace(/^\/review\/exemplars\/:id/, `/review/exemplars/${ids.exemplar}`)
      .replace(/^\/admin\/privacy\/people\/:key/, `/admin/privacy/people/${ids.person}`)
      .replace(/:version/, '1');
    if (withIds.includes(':')) throw new Error(`no id for ${p}: give it one in concrete() or list it in UNREACHABLE with the reason`);
    return withIds === '/admin/privacy/audit' ? `${withIds}?person=${ids.person}` : withIds;
  }

  const roleFor = (action: Action): AppRole => {
    const role = ROLE_ORDER.find((r) => RULES[action]({ roles: [r] } as unknown as SessionContext, undefined));
    if (!role) throw new Error(`no role may open ${action}`);
    return role;
  };

  async function check(name: string, url: string, expectStatus = 200): Promise<void> {
    // axe is injected as a script: the pages' CSP (script-src 'self') would refuse it, so this context bypasses CSP.
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    try {
      const res = await page.goto(url, { waitUntil: 'load' });
      const status = res?.status() ?? 0;
      await page.addScriptTag({ path: path.resolve('node_modules/axe-core/axe.min.js') });
      const violations = (await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }).axe;
        const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return r.violations;
      })) as Violation[];
      const file = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'root';
      await page.screenshot({ path: path.join(OUT, `${file}.png`), fullPage: true });
      // Reflow (WCAG 1.4.10): at 320 CSS px nothing but tables and code may scroll sideways.
      await page.setViewportSize({ width: 320, height: 640 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      const wide = overflow > 1 ? await page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.parentElement?.closest('.table-scroll, pre')).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${String(e.className).replace(/ /g, '.')}`)) : [];
      await page.screenshot({ path: path.join(OUT, `${file}.320.png`), fullPage: true });
      results.push({ name, url, status, expectStatus, violations: violations.filter((v) => SERIOUS.includes(v.impact)), overflow, wide });
    } finally {
      await page.close();
    }
  }

  it('derives the page list from the route table, with every exclusion explained', () => {
    const pages = ROUTE_TABLE.filter((r) => r.method === 'get' && r.kind !== 'api' && !r.path.startsWith('/api/'));
    expect(pages.length).toBeGreaterThan(20);
    for (const p of Object.keys(UNREACHABLE)) expect(pages.map((r) => r.path)).toContain(p);
  });

  it('has no serious or critical axe violation on any session page', async () => {
    const seen = new Set<string>();
    for (const r of ROUTE_TABLE.filter((x) => x.method === 'get' && x.kind !== 'api' && !x.path.startsWith('/api/'))) {
      if (seen.has(r.path) || UNREACHABLE[r.path]) continue;
      seen.add(r.path);
      const role = r.action === 'designer.deepLinking' ? 'deepLinking' : roleFor(r.action);
      await check(`${role} ${r.path}`, bases[role] + concrete(r.path));
    }
    expect(seen.size).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== r.expectStatus).map((r) => `${r.name}: ${r.status}`)).toEqual([]);
  }, 600_000);

  it('has none on the public pages and the error pages', async () => {
    const root = w.stack.tool.url;
    await check('public /', `${root}/`);
    await check('public /verify', `${root}/verify`);
    await check('public /credentials/:id', `${root}/credentials/${ids.issued}`);
    await check('public /styleguide', `${root}/styleguide`);
    await check('error 404', `${root}/no-such-page`, 404);
    await check('error 401 session ended', `${root}/s/${'x'.repeat(43)}/earner`, 401);
    await check('error 403', `${bases.earner}/admin`, 403);
    await check('error 404 in a session', `${bases.reviewer}/review/items/00000000-0000-4000-8000-000000000000`, 404);
    expect(results.filter((r) => r.status !== r.expectStatus).map((r) => `${r.name}: ${r.status}`)).toEqual([]);
  }, 300_000);

  afterAll(() => {
    if (!results.length) return;
    fs.writeFileSync(path.join(OUT, 'report.json'), JSON.stringify(results, null, 2));
  });

  it('found no serious or critical violation and no sideways scrolling at 320 px', () => {
    expect(results.length).toBeGreaterThan(28);
    const bad = results.filter((r) => r.violations.length).map((r) => ({ page: r.name, violations: r.violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`) }));
    expect(bad).toEqual([]);
    expect(results.filter((r) => r.overflow > 1).map((r) => `${r.name}: ${r.overflow}px (${r.wide.join(', ')})`)).toEqual([]);
  });
});
