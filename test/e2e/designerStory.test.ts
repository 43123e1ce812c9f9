import type { Browser, Frame, Page } from 'playwright-core';
import { startDemo, type Demo } from '../../scripts/demo';
import { freePort, TEST_SECRET } from '../support/stack';
import { artifact, launchChromium } from '../support/chromium';

/**
 * Issue 3's story in the demo, in a real browser: the designer starts from the Tech Leader catalog, connects
 * microcred to Canvas (consent in a new tab), attaches Tech Leader I to the course's modules and evidence assignment,
 * publishes it, and places it in a module as a graded assignment through Deep Linking.
 */
describe('a designer builds, attaches and places Tech Leader I in the demo', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    const [port, sandboxPort] = await Promise.all([freePort(), freePort()]);
    demo = await startDemo({ NODE_ENV: 'test', PORT: String(port), SANDBOX_PORT: String(sandboxPort), DATABASE_URL: process.env.DATABASE_URL, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent', JOB_SCHEMA: `pgboss_demo_${port}` });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  async function toolFrame(page: Page, placement = 'course_navigation'): Promise<Frame> {
    await page.goto(demo.canvasUrl);
    // Other placements sit in closed <details> on the sandbox's dashboard: follow the link as a person would after opening it.
    const href = await page.getAttribute(`a[href*="as=2&placement=${placement}"]`, 'href');
    await page.goto(new URL(href!, demo.canvasUrl).toString());
    const frame = (await (await page.waitForSelector('iframe[name="tool_content"]')).contentFrame())!;
    await frame.waitForSelector('h1', { timeout: 15_000 });
    return frame;
  }

  it('goes from the starter catalog to a graded assignment in Canvas', async () => {
    const step = (name: string) => process.env.STORY_DEBUG && console.log('STEP', name);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const frame = await toolFrame(page);

    step('catalog');
    // The designer's catalog: start from the Tech Leader starter catalog.
    await frame.goto(frame.url().replace(/\/designer$/, '/catalog'));
    await frame.getByRole('button', { name: /Tech Leader starter catalog/ }).click();
    await frame.getByRole('link', { name: 'Tech Leader I', exact: true }).first().click();
    await frame.waitForSelector('h1');
    const credentialUrl = frame.url();
    expect(credentialUrl).toMatch(/\/catalog\/credentials\/[0-9a-f-]{36}$/);
    expect(await frame.locator('[name="rubric.criteria.0.title"]').inputValue()).not.toBe('');

    step('attach');
    // Attach: microcred asks to connect to Canvas; consent happens in a new tab, as Canvas requires.
    await frame.goto(credentialUrl + '/attach');
    const [consent] = await Promise.all([context.waitForEvent('page'), frame.getByRole('link', { name: /Connect to Canvas/ }).click()]);
    await consent.waitForLoadState();
    await consent.getByRole('button', { name: /Authorize/ }).click();
    await consent.waitForURL(/\/canvas\/oauth\/callback/);
    expect(await consent.textContent('body')).toMatch(/connected/i);
    await consent.close();

    step('pickers');
    await frame.goto(credentialUrl + '/attach');
    const modules = frame.locator('input[name="moduleIds"]:not([disabled])');
    expect(await modules.count()).toBeGreaterThan(2);
    for (let i = 0; i < 4; i++) await modules.nth(i).check();
    await frame.getByLabel('Tech Leader I: evidence of mastery').check();
    await frame.getByRole('button', { name: 'Attach', exact: true }).click();
    await frame.waitForURL((u) => !u.pathname.endsWith('/attach'));
    await page.screenshot({ path: artifact('designer-attached.png'), fullPage: true });

    step('publish');
    // Publish (without the JS confirm dialog: accept it if it appears).
    page.on('dialog', (d) => void d.accept());
    await frame.goto(credentialUrl);
    await frame.getByRole('button', { name: 'Publish', exact: true }).click();
    await frame.waitForSelector('.pill--published', { timeout: 10_000 });

    step('deep linking');
    // Deep Linking from a module: Tech Leader I as a graded assignment.
    const before = demo.sandbox.data.assignments.length;
    const picker = await toolFrame(page, 'module_index_menu_modal');
    await picker.getByLabel(/Tech Leader I \(graded assignment\)/).check();
    await picker.getByRole('button', { name: 'Add to Canvas' }).click();
    await page.waitForFunction(() => document.querySelector('iframe[name="tool_content"]') === null || true);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: artifact('designer-deep-linked.png'), fullPage: true });
    const created = demo.sandbox.data.assignments.slice(before);
    expect(created.map((a) => a.name)).toEqual(['Tech Leader I']);
    expect(demo.sandbox.data.lineItems.some((l) => l.assignmentId === created[0]!.id && l.tag === 'microcred')).toBe(true);
    await context.close();
  }, 120_000);
});
