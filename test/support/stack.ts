/**
 * The whole system for a test file: microcred on an ephemeral port (real PostgreSQL or PGlite from the global
 * setup), and the Canvas sandbox on another host name (localhost vs 127.0.0.1, so the tool is a third party
 * inside the sandbox's pages, as in Canvas), with the tool installed from its own JSON configuration.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { createSandbox, loadScenario, type Sandbox, type Scenario } from '../../src/sandbox';
import { connectToolToSandbox } from '../../src/sandbox/connectTool';
import { freePort } from './ports';
import { Browser, type Page } from './browser';

/** One secret for every test file: ltijs's JWKS endpoint decrypts every stored key with it. */
export const TEST_SECRET = 'microcred-test-secret-0123456789abcdef';

export interface Stack {
  config: Config;
  tool: RunningServer;
  sandbox: Sandbox;
  sandboxUrl: string;
  clientId: string;
  deploymentId: string;
  toolId: string;
  /** Launches as a sandbox user through the real flow and returns the page the tool shows. */
  launch(userId: string, opts?: LaunchOptions): Promise<{ page: Page; browser: Browser }>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  courseId?: string;
  placement?: string;
  messageType?: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  browser?: Browser;
  assignmentId?: string;
  moduleItemId?: string;
}

export { freePort };

export function testConfig(port: number, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.DATABASE_URL,
    DATABASE_POOL_MAX: '5',
    // The PGlite variant (globalSetup) serves one session over the wire: nothing runs beside an open transaction.
    DATABASE_SINGLE_SESSION: process.env.MICROCRED_TEST_DB_KIND === 'pglite' ? 'on' : 'off',
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    DATA_DIR: path.resolve('data/test'),
    // Every test server gets its own job queue schema: all test files share one database, and a job left by one
    // (a sync retrying against a sandbox that has stopped) must not run in another.
    JOB_SCHEMA: `pgboss_t${crypto.randomBytes(5).toString('hex')}`,
    ...env,
  });
}

export async function startStack(opts: { scenario?: Scenario; env?: Record<string, string> } = {}): Promise<Stack> {
  const [toolPort, sandboxPort] = await Promise.all([freePort(), freePort()]);
  const config = testConfig(toolPort, opts.env);
  const tool = await startServer(config);
  const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario: opts.scenario ?? loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
  const listening = await sandbox.listen(sandboxPort, '127.0.0.1');
  const installed = await connectToolToSandbox(tool.app, config, sandbox, 'Sandbox District');

  const stack: Stack = {
    config,
    tool,
    sandbox,
    sandboxUrl: sandbox.baseUrl,
    clientId: installed.clientId,
    deploymentId: installed.deploymentId,
    toolId: installed.toolId,
    async launch(userId, o = {}) {
      const browser = o.browser ?? new Browser({ topLevelHost: new URL(sandbox.baseUrl).host });
      const courseId = o.courseId ?? defaultCourse(sandbox);
      const init = sandbox.loginInitiation({ userId, courseId, toolId: installed.toolId, placement: o.placement, messageType: o.messageType, assignmentId: o.assignmentId, moduleItemId: o.moduleItemId });
      const url = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) url.searchParams.set(k, v);
      const page = await browser.get(url.toString());
      return { page, browser };
    },
    async stop() {
      await listening.close();
      await tool.stop();
    },
  };
  return stack;
}

function defaultCourse(sandbox: Sandbox): string {
  const course = sandbox.data.courses[0];
  if (!course) throw new Error('the scenario has no course');
  return String(course.id);
}
