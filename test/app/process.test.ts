import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/stack';

/**
 * What `npm start` does on a fresh machine: no DATABASE_URL, so the embedded database is created under the data
 * directory; the process answers /healthz, and SIGTERM stops it cleanly (exit 0), without waiting on idle kept-alive connections.
 */
describe('the microcred process', () => {
  it('starts on the embedded database, reports healthy, and stops gracefully on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-start-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    delete env.SECRET_KEY;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('microcred is running at') && Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error('exited early:\n' + output);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(output).toContain(`microcred is running at http://127.0.0.1:${port} (embedded database in ${path.join(dataDir, 'pglite')})`);
      expect(output).toContain(`Dynamic Registration URL: http://127.0.0.1:${port}/lti/register`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'pglite' });
      expect(fs.existsSync(path.join(dataDir, 'secret.key'))).toBe(true);
      expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);

      // A kept-alive connection must not hold the shutdown open.
      const keepAlive = await fetch(`http://127.0.0.1:${port}/lti/canvas-config.json`, { keepalive: true });
      expect(keepAlive.status).toBe(200);
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses to start with a clear message when the database is unreachable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, NODE_ENV: 'development', PORT: String(await freePort()), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent', DATA_DIR: os.tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('microcred could not start: Cannot connect to PostgreSQL at postgres://nobody@127.0.0.1:1/none');
  }, 60_000);
});
