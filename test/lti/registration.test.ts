import path from 'node:path';
import { startServer, type RunningServer } from '../../src/server';
import { createSandbox, loadScenario, type Sandbox } from '../../src/sandbox';
import { freePort, testConfig } from '../support/stack';
import { Browser } from '../support/browser';

/** LTI Dynamic Registration end to end: Canvas opens our registration URL, we register, then a launch works. */
describe('Dynamic Registration with Canvas', () => {
  let tool: RunningServer;
  let sandbox: Sandbox;
  let close: () => Promise<void>;

  beforeAll(async () => {
    tool = await startServer(testConfig(await freePort()));
    const port = await freePort();
    sandbox = createSandbox({ baseUrl: `http://localhost:${port}`, scenario: loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
    close = (await sandbox.listen(port, '127.0.0.1')).close;
  });
  afterAll(async () => {
    await close();
    await tool.stop();
  });

  it('registers with the token, Canvas placements and privacy, records the deployment, and launches', async () => {
    const registration = sandbox.startRegistration(`${tool.url}/lti/register`);
    const page = await new Browser().get(registration.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('microcred is registered');
    expect(page.body).toContain('/assets/js/registration-close.js');

    const installed = sandbox.data.tools.at(-1)!;
    expect(installed.privacyLevel).toBe('public');
    expect(installed.redirectUris).toEqual([`${tool.url}/lti/launch`]);
    expect(installed.placements.map((p) => p.placement)).toEqual(expect.arrayContaining(['course_navigation', 'link_selection', 'assignment_selection']));
    expect(installed.customFields).toMatchObject({ canvas_user_id: '$Canvas.user.id', canvas_api_base_url: '$Canvas.api.baseUrl' });

    const platforms = await tool.app.admin.list();
    const registered = platforms.find((p) => p.issuer === sandbox.issuer && p.clientId === installed.clientId)!;
    expect(registered).toMatchObject({ issuer: sandbox.issuer, active: true, deployments: [installed.deploymentId] });

    const init = sandbox.loginInitiation({ userId: '101', courseId: '101', toolId: String(installed.id) });
    const url = new URL(init.url);
    for (const [k, v] of Object.entries(init.params)) url.searchParams.set(k, v);
    const launched = await new Browser({ topLevelHost: new URL(sandbox.baseUrl).host }).get(url.toString());
    expect(launched.body).toContain('My micro-credentials');
    expect(launched.body).toContain('Tamika Ellison');
  });

  it('refuses a reused registration token with a clear page and registers nothing', async () => {
    const registration = sandbox.startRegistration(`${tool.url}/lti/register`);
    await new Browser().get(registration.url);
    const before = (await tool.app.admin.list()).length;
    const again = await new Browser().get(registration.url);
    expect(again.status).toBe(502);
    expect(again.body).toContain('The platform refused the registration');
    expect((await tool.app.admin.list()).length).toBe(before);
  });

  it('refuses a platform configuration that is not https outside loopback', async () => {
    const page = await new Browser().get(`${tool.url}/lti/register?openid_configuration=${encodeURIComponent('http://canvas.example.edu/cfg')}&registration_token=x`);
    expect(page.status).toBe(400);
    expect(page.body).toContain('must use https');
  });

  it('explains itself when opened without Canvas', async () => {
    const page = await new Browser().get(`${tool.url}/lti/register`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Dynamic Registration URL');
  });
});
