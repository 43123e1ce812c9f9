import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack';
import { sessionOf } from '../support/session';
import { artifact, launchChromium } from '../support/chromium';
import { forgetAndStop } from '../catalog/support';

/**
 * The rubric builder in headless Chromium, by keyboard alone (Tab, Shift+Tab, Enter, Space, and typing into
 * fields), with rubric-builder.js acting in place; then axe-core on the catalog pages and screenshots at desktop
 * and phone widths. The session is in the URL, so the tool page opens directly (outside Canvas's frame).
 */
describe('rubric builder in a real browser, by keyboard', () => {
  let stack: Stack;
  let browser: Browser;
  let base: string;
  const AXE = path.resolve('node_modules/axe-core/axe.min.js');

  beforeAll(async () => {
    stack = await startStack();
    const { page } = await stack.launch('2', { courseId: '101' });
    base = sessionOf(page).base;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await forgetAndStop(stack);
  });

  interface Focused { id: string; tag: string; label: string; type: string; checked: boolean }
  const focused = (page: Page): Promise<Focused> =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return { id: '', tag: '', label: '', type: '', checked: false };
      const input = el as HTMLInputElement;
      const label = el.getAttribute('aria-label') ?? (input.labels?.[0]?.textContent ?? el.textContent ?? '');
      return { id: el.id, tag: el.tagName.toLowerCase(), label: label.replace(/\s+/g, ' ').trim(), type: input.type ?? '', checked: !!input.checked };
    });

  /** Presses Tab (or Shift+Tab) until the focused control matches; fails after `max` presses. */
  async function tabTo(page: Page, match: (f: Focused) => boolean, o: { back?: boolean; max?: number } = {}): Promise<Focused> {
    for (let i = 0; i < (o.max ?? 120); i++) {
      await page.keyboard.press(o.back ? 'Shift+Tab' : 'Tab');
      const f = await focused(page);
      if (match(f)) return f;
    }
    throw new Error(`never reached ${(match as { what?: string }).what ?? 'the control'} (last: ${JSON.stringify(await focused(page))})`);
  }
  const named = (what: string, fn: (f: Focused) => boolean) => Object.assign(fn, { what });
  const byId = (id: string) => named(`#${id}`, (f) => f.id === id);
  const byLabel = (label: string) => named(`“${label}”`, (f) => f.label === label);
  /** Waits until the in-place update has moved focus to `id`. */
  const focusMovesTo = async (page: Page, id: string) => {
    try {
      await page.waitForFunction((x) => document.activeElement?.id === x, id, { timeout: 5000 });
    } catch (err) {
      throw new Error(`focus did not move to ${id}; it is on ${JSON.stringify(await focused(page))}`, { cause: err });
    }
  };

  /** The aria-live region says `words` (it is cleared, then filled, so screen readers repeat it). */
  const announced = (page: Page, words: string) => page.waitForFunction((w) => (document.getElementById('builder-status')?.textContent ?? '').includes(w), words, { timeout: 5000 });

  async function axe(page: Page, name: string): Promise<void> {
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const w = window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } };
      const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (violations.length) console.log(`axe on ${name}:`, JSON.stringify(violations, null, 1));
    expect(serious).toEqual([]);
  }

  async function noSidewaysScroll(page: Page): Promise<void> {
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  }

  it('builds and saves a rubric with Tab, Shift+Tab, Enter and Space only', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const cspErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && cspErrors.push(m.text()));
    page.on('pageerror', (e) => cspErrors.push(String(e)));
    await page.goto(`${base}/catalog/credentials/new`);

    await tabTo(page, byId('name'));
    await page.keyboard.type('Blended learning design');
    await tabTo(page, byId('competency'));
    await page.keyboard.type('Designs a unit that blends in-person and online learning.');
    await tabTo(page, byId('criteriaNarrative'));
    await page.keyboard.type('Plan a blended unit, teach it, and reflect on it with evidence.');
    await tabTo(page, byId('evidencePrompts.0.prompt'));
    await page.keyboard.type('Upload your unit plan and a short reflection.');

    // Add a criterion: the new criterion's title gets focus, and the change is announced.
    await tabTo(page, byLabel('Add a criterion'));
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'rubric.criteria.0.title');
    await announced(page, 'Criterion 1 added');
    await page.keyboard.type('Plans the unit');

    // Add a level with Space: focus goes to its name.
    await tabTo(page, byLabel('Add a level to criterion 1'));
    await page.keyboard.press('Space');
    await focusMovesTo(page, 'rubric.criteria.0.levels.2.name');
    await announced(page, 'Level 3 added to criterion 1');
    await page.keyboard.type('Exceeds');
    await tabTo(page, byId('rubric.criteria.0.levels.2.points'));
    await page.keyboard.type('2');
    await tabTo(page, byId('rubric.criteria.0.levels.2.descriptor'));
    await page.keyboard.type('Students lead part of the blend.');

    // Reorder: move Exceeds up twice; focus follows the moved level's buttons.
    // The buttons were labelled when the level had no name yet: “level 3”.
    await tabTo(page, byLabel('Move level 3 of criterion 1 up'));
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'level-up-0-1');
    await page.keyboard.press('Enter');
    // At the top there is no "up" any more: focus lands on its "down".
    await focusMovesTo(page, 'level-down-0-0');
    expect((await focused(page)).label).toBe('Move level Exceeds of criterion 1 down');
    await announced(page, 'Moved level “Exceeds” up to position 1 of 3');
    expect(await page.inputValue('[id="rubric.criteria.0.levels.0.name"]')).toBe('Exceeds');
    expect(await page.inputValue('[id="rubric.criteria.0.levels.0.points"]')).toBe('2');
    expect(await page.inputValue('[id="rubric.criteria.0.title"]')).toBe('Plans the unit');

    // Set the passing level (Meets, now second) with Space.
    const radio = await tabTo(page, (f) => f.type === 'radio' && f.label === 'Passing level for criterion 1: level Meets');
    expect(radio.checked).toBe(false);
    await page.keyboard.press('Space');
    expect((await focused(page)).checked).toBe(true);

    // A second criterion, removed again; then back up with Shift+Tab to check the first is intact.
    await tabTo(page, byLabel('Add a criterion'));
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'rubric.criteria.1.title');
    await tabTo(page, byLabel('Remove criterion 2'));
    await page.keyboard.press('Enter');
    await focusMovesTo(page, 'rubric.criteria.0.title');
    expect(await page.isChecked('[id="rubric.criteria.0.requiredLevelId-1"]')).toBe(true);
    await tabTo(page, byId('criteriaNarrative'), { back: true });

    // Hours: the CEUs follow as typed.
    await tabTo(page, byId('hours'));
    await page.keyboard.type('15');
    expect(await page.textContent('#ceus')).toBe('1.5');
    await page.screenshot({ path: artifact('rubric-builder-keyboard.png'), fullPage: true });

    await tabTo(page, byLabel('Save draft'));
    await Promise.all([page.waitForURL(/\/catalog\/credentials\/[0-9a-f-]{36}\?done=created$/), page.keyboard.press('Enter')]);
    expect(await page.textContent('h1')).toBe('Edit “Blended learning design”');
    expect(await page.textContent('.flash')).toContain('The draft was created.');
    const api = sessionOf({ url: page.url(), status: 200, headers: new Headers(), body: await page.content() });
    const view = (await (await api.api(page.url().replace(/^.*\/catalog\/credentials\//, '/api/catalog/credentials/').replace(/\?.*$/, ''))).json()) as { current: { definition: { hours: number; rubric: { criteria: { title: string; requiredLevelId: string; levels: { id: string; name: string; points: number }[] }[] } } } };
    const c = view.current.definition.rubric.criteria;
    expect(c.map((x) => x.title)).toEqual(['Plans the unit']);
    expect(c[0]!.levels.map((l) => [l.name, l.points])).toEqual([['Exceeds', 2], ['Meets', 1], ['Not yet', 0]]);
    expect(c[0]!.requiredLevelId).toBe(c[0]!.levels[1]!.id);
    expect(view.current.definition.hours).toBe(15);
    expect(cspErrors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await page.close();
  });

  it('passes axe on the list, edit (with errors) and stack pages, at desktop and phone widths', async () => {
    const api = sessionOf({ url: `${base}/catalog`, status: 200, headers: new Headers(), body: `<meta name="csrf-token" content="${(await stack.tool.app.repos.sessions.load(new URL(base).pathname.split('/')[2]!))!.csrfToken}">` });
    const starter = (await (await api.api('/api/catalog/starter', { method: 'POST' })).json()) as { credentialIds: Record<string, string>; stackIds: string[] };
    const tl1 = Object.values(starter.credentialIds)[0]!;
    for (const [width, height, suffix] of [[1280, 900, 'desktop'], [375, 740, 'phone']] as const) {
      // axe is injected as an inline script, which the pages’ CSP (rightly) refuses.
      const page = await browser.newPage({ viewport: { width, height }, bypassCSP: true });
      await page.goto(`${base}/catalog`);
      await axe(page, `list (${suffix})`);
      await noSidewaysScroll(page);
      await page.screenshot({ path: artifact(`catalog-list-${suffix}.png`), fullPage: true });

      await page.goto(`${base}/catalog/credentials/${tl1}`);
      await axe(page, `edit (${suffix})`);
      await noSidewaysScroll(page);
      await page.screenshot({ path: artifact(`catalog-edit-${suffix}.png`), fullPage: true });
      await page.locator('[id="criterion-0"]').screenshot({ path: artifact(`catalog-criterion-${suffix}.png`) });

      // A failed save: the error summary is focused and each message sits on its field.
      await page.fill('#name', '');
      await page.fill('#hours', '-2');
      await Promise.all([page.waitForLoadState('load'), page.click('.builder-save button[value="save"]')]);
      await page.waitForSelector('.error-summary');
      expect(await page.evaluate(() => document.activeElement?.classList.contains('error-summary'))).toBe(true);
      expect(await page.getAttribute('#hours', 'aria-invalid')).toBe('true');
      await axe(page, `edit with errors (${suffix})`);
      await page.screenshot({ path: artifact(`catalog-edit-errors-${suffix}.png`), fullPage: suffix === 'phone' ? false : true });

      await page.goto(`${base}/catalog/stacks/${starter.stackIds[0]}`);
      await axe(page, `stack (${suffix})`);
      await noSidewaysScroll(page);
      await page.screenshot({ path: artifact(`catalog-stack-${suffix}.png`), fullPage: true });

      await page.goto(`${base}/catalog/credentials/${tl1}/preview`);
      await axe(page, `preview (${suffix})`);
      await noSidewaysScroll(page);
      await page.screenshot({ path: artifact(`catalog-preview-${suffix}.png`), fullPage: true });
      await page.close();
    }
  });
});
