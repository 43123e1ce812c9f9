import type { Browser, Frame, Page } from 'playwright-core';
import { startDemo, type Demo } from '../../scripts/demo';
import { freePort, TEST_SECRET } from '../support/stack';
import { artifact, launchChromium, launchWithCookiesBlocked } from '../support/chromium';

/**
 * A person opens the demo in a real browser, launches microcred as an educator inside the Canvas-like page,
 * and sees their home; then again with third-party cookies blocked, which goes through Platform Storage.
 */
describe('the demo in headless Chromium', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    const [port, sandboxPort] = await Promise.all([freePort(), freePort()]);
    demo = await startDemo({ NODE_ENV: 'test', PORT: String(port), SANDBOX_PORT: String(sandboxPort), DATABASE_URL: process.env.DATABASE_URL, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent', JOB_SCHEMA: `pgboss_demo_${port}` });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  async function launchAs(page: Page, name: string): Promise<Frame> {
    await page.goto(demo.canvasUrl);
    await page.getByRole('link', { name: new RegExp(`Launch as ${name}`) }).first().click();
    const frameElement = await page.waitForSelector('iframe[name="tool_content"]', { timeout: 15_000 });
    const frame = (await frameElement.contentFrame())!;
    try {
      await frame.waitForSelector('h1.page-header__title', { timeout: 15_000 });
    } catch (err) {
      await page.screenshot({ path: artifact(`failed-launch-${name.replace(/\W+/g, '-')}.png`), fullPage: true });
      throw new Error(`${(err as Error).message}\nframe: ${frame.url()}\n${(await frame.content().catch(() => '')).slice(0, 2000)}`, { cause: err });
    }
    return frame;
  }

  it('launches as an educator and shows the educator home inside Canvas', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const frame = await launchAs(page, 'Tamika Ellison');
    expect(await frame.textContent('h1.page-header__title')).toBe('My micro-credentials');
    expect(await frame.textContent('main')).toContain('Tamika Ellison');
    expect(new URL(frame.url()).pathname).toMatch(/^\/s\/[A-Za-z0-9_-]{43}\/earner$/);
    await page.screenshot({ path: artifact('demo-earner-home.png'), fullPage: true });
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await page.close();
  });

  function recordLaunchPosts(page: Page): string[] {
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/lti/launch')) posts.push(r.postData() ?? '');
    });
    return posts;
  }

  it('launches in Chrome with third-party cookies blocked: the partitioned (CHIPS) state cookie still works', async () => {
    await browser?.close();
    browser = await launchChromium(['--test-third-party-cookie-phaseout']);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const posts = recordLaunchPosts(page);
    const frame = await launchAs(page, 'Sofia Marchetti');
    expect(await frame.textContent('h1.page-header__title')).toBe('My micro-credentials');
    expect(posts).toHaveLength(1);
    expect(posts[0]).not.toContain('lti_storage_proof=');
    await context.close();
  });

  it('launches when the browser refuses every tool cookie (as Safari does), through Canvas Platform Storage', async () => {
    const toolOrigin = new URL(demo.tool.url).origin;
    const context = await launchWithCookiesBlocked([toolOrigin]);
    const page = await context.newPage();
    const posts = recordLaunchPosts(page);
    const frame = await launchAs(page, 'Brian Okoye');
    expect(await frame.textContent('h1.page-header__title')).toBe('My micro-credentials');
    // The first post had no cookie and got the storage page; the second carried the proof from lti.get_data.
    expect(posts).toHaveLength(2);
    expect(posts[1]).toMatch(/lti_storage_proof=[A-Za-z0-9_-]{43}/);
    await page.screenshot({ path: artifact('demo-earner-home-cookies-blocked-phone.png'), fullPage: true });
    await context.close();
  });

  it('launches as the course designer and as the TA reviewer', async () => {
    browser ??= await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    expect(await (await launchAs(page, 'Devon Achebe')).textContent('h1.page-header__title')).toBe('Design micro-credentials');
    await page.screenshot({ path: artifact('demo-designer-home.png'), fullPage: true });
    expect(await (await launchAs(page, 'Rashad Greene')).textContent('h1.page-header__title')).toBe('Review evidence');
    await page.close();
  });
});
