/*
 * `npm run demo`: microcred and an emulated Canvas side by side, on the embedded database.
 * Open the printed URL, pick "Launch as …" next to a person, and microcred opens inside a Canvas-like page.
 * The Canvas runs on localhost and microcred on 127.0.0.1, so the tool is a third party in the page, as in
 * real Canvas.
 */
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startServer, handleSignals, type RunningServer } from '../src/server';
import { createSandbox, loadScenario, type Sandbox } from '../src/sandbox';
import { connectToolToSandbox } from '../src/sandbox/connectTool';

export interface Demo {
  tool: RunningServer;
  sandbox: Sandbox;
  canvasUrl: string;
  stop(): Promise<void>;
}

export async function startDemo(env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  const port = Number(env.PORT ?? 3000);
  const sandboxPort = Number(env.SANDBOX_PORT ?? 3001);
  const config = loadConfig({
    DATA_DIR: './data/demo',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...env,
    PORT: String(port),
    SANDBOX: 'on',
    REGISTRATION_AUTO_ACTIVATE: 'on',
  });
  const tool = await startServer(config);
  const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario: loadScenario(path.resolve(__dirname, '../config/scenarios/tech-leader-1.json')) });
  const listening = await sandbox.listen(sandboxPort, '127.0.0.1');
  const installed = await connectToolToSandbox(tool.app, config, sandbox, 'Queen City Public Schools (demo Canvas)');
  // The district's Canvas API developer key, so "Connect microcred to Canvas" works against the sandbox: designers
  // pick modules and the evidence assignment live, and syncs read progress, with each person's own consent.
  const apiKey = sandbox.createApiKey({ name: 'microcred (demo)', redirectUris: [tool.app.canvas.redirectUri()] });
  const tenant = await tool.app.repos.tenants.findByLtiKey(sandbox.issuer, installed.clientId, installed.deploymentId);
  if (tenant) await tool.app.canvas.store.setApiKey(tenant.id, apiKey.clientId, apiKey.clientSecret);
  return {
    tool,
    sandbox,
    canvasUrl: `${sandbox.baseUrl}/`,
    async stop() {
      await listening.close();
      await tool.stop();
    },
  };
}

if (require.main === module) {
  startDemo()
    .then((demo) => {
      handleSignals({ ...demo.tool, stop: () => demo.stop() });
      console.log(
        [
          '',
          'microcred demo is running.',
          '',
          `  Open ${demo.canvasUrl} and pick “Launch as …” next to a person.`,
          '',
          `  Canvas (emulated): ${demo.sandbox.baseUrl}    microcred: ${demo.tool.url} (${demo.tool.db.kind})`,
          '  Seeded: the “Tech Leader I” course with a designer, a teacher, a TA reviewer, 8 educators and some submissions.',
          '  Stop with Ctrl+C.',
          '',
        ].join('\n'),
      );
    })
    .catch((err) => {
      console.error(`The demo could not start: ${(err as Error).message}`);
      process.exit(1);
    });
}
