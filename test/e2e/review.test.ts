import path from 'node:path';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { tinyPdf } from '../../src/sandbox/scenario';
import { artifact, launchChromium } from '../support/chromium';
import { allAt, png, startWorld, type World } from '../review/support/world';
import { claim, review } from '../review/support/api';

/**
 * The review in a real browser (headless Chromium): evidence payloads stay inert, a reviewer completes a review by
 * keyboard alone inside Canvas's iframe, axe-core finds no serious or critical issue on the queue and the review
 * page, and screenshots at 1280 px (desktop) and 768 px (tablet) are kept in test-artifacts/.
 */
describe('the review in headless Chromium', () => {
  let w: World;
  let browser: Browser;
  let xssItem: string;
  let richItem: string;

  const XSS_TEXT = [
    '<p>My lesson plan, step by step.</p>',
    '<script>window.__xss = "script"; alert("xss-script")</script>',
    '<p>Image test <img src="x" onerror="window.__xss = \'img\'; alert(\'xss-img\')"> end.</p>',
    '<p>Literal: &lt;script&gt;alert("shown-as-text")&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt;</p>',
    '<p><a href="javascript:alert(\'xss-link\')" onclick="alert(\'xss-click\')">a link</a></p>',
    '<svg onload="alert(\'xss-svg\')"></svg><iframe src="javascript:alert(\'xss-frame\')"></iframe>',
  ].join('');
  const EVIL_FILE = '"><img src=x onerror="window.__xss=\'file\';alert(\'xss-file\')">.png';

  beforeAll(async () => {
    w = await startWorld();
    // The oldest submission, reviewed by keyboard below.
    richItem = (
      await w.submit(101, {
        submittedAt: new Date(Date.now() - 4 * 86_400_000),
        text: '<p>I taught my 7th graders a lesson on digital footprints using the Common Sense curriculum.</p><p>Attached: the slide deck as a PDF, a photo of the class poster, and my reflection.</p><ul><li>Exit tickets: 26 of 28 students named two ways to protect their privacy.</li><li>Next time: more time for the role play.</li></ul>',
        url: 'https://docs.google.com/presentation/d/1DigCitLesson/edit',
        files: [
          { filename: 'digital-citizenship-lesson.pdf', contentType: 'application/pdf', bytes: tinyPdf('Digital citizenship lesson') },
          { filename: 'class-poster.png', contentType: 'image/png', bytes: png(240, 160) },
          { filename: 'reflection.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: 'PK fake docx' },
        ],
      })
    ).id;
    xssItem = (
      await w.submit(102, {
        submittedAt: new Date(Date.now() - 2 * 86_400_000),
        text: XSS_TEXT,
        url: "javascript:alert('xss-url')",
        files: [
          { filename: EVIL_FILE, contentType: 'image/png', bytes: png(8, 8) },
          { filename: '<svg onload=alert(1)>.svg', contentType: 'image/svg+xml', bytes: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>' },
        ],
      })
    ).id;
    await w.submit(103, { submittedAt: new Date(Date.now() - 86_400_000) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  function watch(page: Page): { dialogs: string[]; errors: string[] } {
    const seen = { dialogs: [] as string[], errors: [] as string[] };
    page.on('dialog', (d) => {
      seen.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => (m.type() === 'error' || /xss/.test(m.text())) && seen.errors.push(m.text()));
    page.on('pageerror', (e) => seen.errors.push(e.message));
    return seen;
  }

  it('renders script payloads in evidence text, links and file names as inert text', async () => {
    const ta = await w.as(4);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = watch(page);
    await page.goto(`${ta.base}/review/items/${xssItem}`);
    await page.waitForSelector('[data-evidence-text]');
    await page.waitForTimeout(500);
    expect(seen.dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    const text = (await page.textContent('[data-evidence-text]'))!;
    expect(text).toContain('My lesson plan, step by step.');
    expect(text).toContain('Literal: <script>alert("shown-as-text")</script> and <img src=x onerror=alert(1)>');
    expect(text).not.toContain('window.__xss'); // the real script element was dropped, not shown
    // No element from the evidence made it into the DOM.
    expect(await page.locator('.evidence script, .evidence [onerror], .evidence [onload], .evidence svg, .evidence a[href^="javascript"]').count()).toBe(0);
    // File names are text; the SVG is offered as a download, not shown.
    const names = await page.locator('[data-file-name]').allTextContents();
    expect(names).toEqual([EVIL_FILE, '<svg onload=alert(1)>.svg']);
    expect(await page.locator('img.evidence__image').count()).toBe(1);
    expect(await page.locator('img.evidence__image').getAttribute('alt')).toBe(EVIL_FILE);
    // The javascript: URL is shown, not linked.
    expect(await page.textContent('.evidence__link')).toContain("javascript:alert('xss-url')");
    expect(await page.locator('.evidence__link a').count()).toBe(0);
    // Opening the files themselves runs nothing either.
    const file = await page.locator('.evidence__file a[download]').first().getAttribute('href');
    const res = await page.request.get(new URL(file!, page.url()).toString());
    expect(res.headers()['x-content-type-options']).toBe('nosniff');
    await page.screenshot({ path: artifact('review-xss-inert-1280.png'), fullPage: true });
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors.filter((e) => /xss|Content Security Policy/.test(e))).toEqual([]);
    await page.close();
  });

  async function tabTo(page: Page, frame: Frame | Page, matches: (el: { text: string; tag: string; name: string }) => boolean, max = 80): Promise<void> {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      const el = await frame.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return document.hasFocus() && a ? { text: (a.textContent ?? '').trim(), tag: a.tagName, name: a.getAttribute('name') ?? '' } : null;
      });
      if (el && matches(el)) return;
    }
    throw new Error('could not reach the element with Tab');
  }

  it('lets a reviewer complete a review by keyboard alone, inside Canvas’s iframe', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = watch(page);
    await page.goto(`${w.stack.sandboxUrl}/courses/101/external_tools/${w.stack.toolId}?as=4`);
    const frameEl = await page.waitForSelector('iframe[name="tool_content"]', { timeout: 15_000 });
    const frame = (await frameEl.contentFrame())!;
    await frame.waitForSelector('h1.page-header__title');
    expect(await frame.textContent('h1')).toBe('Review evidence');
    // The page tells Canvas its height (lti.frameResize), and the frame takes it.
    await page.waitForFunction(() => (document.querySelector('iframe[name="tool_content"]') as HTMLIFrameElement).style.height !== '');
    const [frameHeight, contentHeight] = await Promise.all([frameEl.evaluate((f) => parseInt((f as HTMLIFrameElement).style.height, 10)), frame.evaluate(() => document.documentElement.scrollHeight)]);
    expect(Math.abs(frameHeight - contentHeight)).toBeLessThan(4);

    await tabTo(page, frame, (e) => e.text === 'Open the review queue');
    await page.keyboard.press('Enter');
    await frame.waitForSelector('h1:text("Review queue")');
    await tabTo(page, frame, (e) => e.text === 'Review the next submission');
    await page.keyboard.press('Enter');
    await frame.waitForSelector('#review-form[data-editable]');
    expect(await frame.textContent('h1')).toContain('Tamika Ellison'); // the oldest submission

    // The help overlay.
    await page.keyboard.press('?');
    await frame.waitForSelector('#shortcuts-dialog[open]');
    await page.screenshot({ path: artifact('review-shortcuts-in-canvas-1280.png') });
    await page.keyboard.press('Escape');
    await frame.waitForSelector('#shortcuts-dialog:not([open])', { state: 'attached' });

    // Levels by key: 1 = Exceeds, 2 = Meets; each choice moves on to the next criterion.
    await frame.focus('#main');
    for (const key of ['1', '2', '2', '2']) await page.keyboard.press(key);
    await frame.waitForFunction(() => document.querySelector('[data-result-text]')?.textContent?.startsWith('Meets the passing rule: Award (9 of 12 points)'));
    await frame.waitForFunction(() => /Draft saved at/.test(document.getElementById('autosave-status')?.textContent ?? ''));
    await page.keyboard.press('c');
    await page.keyboard.type('The module is clear and published.');
    await page.keyboard.press('Escape');
    await page.keyboard.press('f');
    await page.keyboard.type('A thoughtful lesson with real student evidence.');
    await page.keyboard.press('Escape');
    // (A full-page screenshot leaves a cross-site iframe blank in Chromium: take the viewport.)
    await page.screenshot({ path: artifact('review-keyboard-in-canvas-1280.png') });
    await page.keyboard.press('a');
    expect(await frame.evaluate(() => document.activeElement?.textContent)).toBe('Award');
    await page.keyboard.press('Enter');
    await frame.waitForSelector('text=Awarded. The educator will be told.');

    const rows = await w.q<{ status: string; scores: Record<string, string>; criterion_comments: Record<string, string>; feedback: string }>(
      'SELECT i.status, r.scores, r.criterion_comments, r.feedback FROM review_items i JOIN reviews r ON r.id = i.decision_review_id WHERE i.id = $1',
      [richItem],
    );
    expect(rows[0]).toEqual({ status: 'awarded', scores: allAt('meets', { 'digital-citizenship': 'exceeds' }), criterion_comments: { 'navigating-canvas': 'The module is clear and published.' }, feedback: 'A thoughtful lesson with real student evidence.' });
    expect(seen.errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await page.close();
  });

  async function axe(page: Page): Promise<{ id: string; impact: string; help: string; nodes: number }[]> {
    await page.addScriptTag({ path: path.resolve('node_modules/axe-core/axe.min.js') });
    const result = await page.evaluate(async () => {
      const a = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> } }).axe;
      return a.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  }

  it('passes axe-core (no serious or critical issue) on the queue and the review page, at 1280 and 768 px', async () => {
    const ta = await w.as(5);
    expect((await claim(ta, xssItem)).status).toBe(200);
    await ta.api(`/api/review/items/${xssItem}/draft`, { method: 'PUT', json: { scores: { 'digital-citizenship': 'meets' }, comments: { 'digital-citizenship': 'Good start.' } } });
    const pending = await w.submit(104, {
      text: '<p>My Canvas module on online safety, and the poster my class made.</p>',
      url: 'https://qcps.instructure.example/courses/8812/modules/40125',
      files: [
        { filename: 'online-safety-slides.pdf', contentType: 'application/pdf', bytes: tinyPdf('Online safety: slides') },
        { filename: 'class-poster.png', contentType: 'image/png', bytes: png(320, 200) },
        { filename: 'reflection.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: 'PK fake docx' },
      ],
    });
    // Agreement figures to show: one submission scored by two reviewers who differ on one criterion.
    const calibrated = await w.newCredential('Tech Leader I (calibrated)', { secondReview: 'all' });
    const twice = await w.submit(105, { credential: calibrated });
    await review(await w.as(4), twice.id, { scores: allAt('meets'), decision: 'award' });
    await review(await w.as(6), twice.id, { scores: allAt('meets', { 'google-workspace': 'exceeds' }), decision: 'award' });
    // axe and its script need CSP bypassed in this context only; the pages' own CSP is tested above.
    const context: BrowserContext = await browser.newContext({ bypassCSP: true });
    const found: Record<string, unknown[]> = {};
    for (const width of [1280, 768]) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height: width === 768 ? 1024 : 900 });
      for (const [name, url] of [
        ['queue', `${ta.base}/review`],
        ['item', `${ta.base}/review/items/${xssItem}`],
        ['item-claimable', `${ta.base}/review/items/${pending.id}`],
        ['feedback', `${(await w.as(101)).base}/review/feedback`],
        ['calibration', `${w.designer.base}/review/calibration`],
      ] as const) {
        await page.goto(url);
        await page.waitForLoadState('load');
        await page.screenshot({ path: artifact(`review-${name}-${width}.png`), fullPage: true });
        if (width === 1280 || name === 'item' || name === 'queue') {
          const v = (await axe(page)).filter((x) => x.impact === 'serious' || x.impact === 'critical');
          if (v.length) found[`${name}@${width}`] = v;
        }
        // Nothing scrolls sideways.
        expect([name, width, await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)]).toEqual([name, width, true]);
      }
      await page.close();
    }
    await context.close();
    expect(found).toEqual({});
  });
});
