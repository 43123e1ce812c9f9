/*
 * `npm run bench:launch:queries`: where a launch's database round trips and HTTP calls go. microcred and the
 * sandbox run in this process on PostgreSQL; every `pg` round trip and every request to the sandbox is counted
 * per hop of the launch (login, Canvas's auth endpoint, launch post, first page), over LAUNCHES warm launches
 * (default 20) of educators and of the course's teacher. Prints the per-launch means and the statements of one
 * launch post. A database is created and dropped per run (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { startServer } from '../src/server';
import { createSandbox, loadScenario } from '../src/sandbox';
import { connectToolToSandbox } from '../src/sandbox/connectTool';
import { Browser } from '../test/support/browser';
import { freePort } from '../test/support/ports';

const LAUNCHES = Number(process.env.LAUNCHES ?? 20);
const hop = new AsyncLocalStorage<string>();
const counts = new Map<string, number>();
const statements: string[] = [];
let recording = false;

// Every round trip to PostgreSQL goes through Client#query (Pool#query checks a client out and calls it).
const originalQuery = Client.prototype.query;
Client.prototype.query = function (this: Client, ...args: unknown[]) {
  if (recording) {
    const name = hop.getStore() ?? 'outside a request';
    counts.set(`db ${name}`, (counts.get(`db ${name}`) ?? 0) + 1);
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
    if (name === 'launch post') statements.push(text.replace(/\s+/g, ' ').slice(0, 150));
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;

// Calls microcred makes to Canvas itself (ltijs's got and our axios both use http.request).
const originalRequest = http.request;
http.request = function (...args: unknown[]) {
  if (recording) {
    const target = args[0] instanceof URL ? args[0].pathname : typeof args[0] === 'string' ? new URL(args[0]).pathname : String((args[0] as { path?: string }).path ?? '?');
    const name = `tool → Canvas ${target.split('?')[0]} (${hop.getStore() ?? 'outside a request'})`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return (originalRequest as (...a: unknown[]) => unknown).apply(http, args);
} as typeof http.request;

function hopOf(method: string, url: string): string {
  const p = url.split('?')[0]!;
  if (p === '/lti/login') return 'login';
  if (p === '/lti/launch' && method === 'POST') return 'launch post';
  if (p.startsWith('/s/')) return 'first page';
  return `${method} ${p}`;
}

async function main() {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `microcred_q_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  try {
    const [toolPort, sandboxPort] = await Promise.all([freePort(), freePort()]);
    const config = loadConfig({
      NODE_ENV: 'test', PORT: String(toolPort), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${toolPort}`, DATABASE_URL: url.toString(),
      SECRET_KEY: 'bench-secret-0123456789abcdef0123456789', LOG_LEVEL: 'warn', JOB_WORKERS: 'off', PROGRESS_SYNC_INTERVAL_MINUTES: '0',
    });
    const tool = await startServer(config);
    // Tag every request to the tool with its hop, so the queries it causes are counted there.
    const listeners = tool.server.listeners('request') as ((...a: unknown[]) => void)[];
    tool.server.removeAllListeners('request');
    tool.server.on('request', (req: { method: string; url: string }, res: unknown) => hop.run(hopOf(req.method, req.url), () => listeners.forEach((l) => l(req, res))));

    const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario: loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
    const sb = await sandbox.listen(sandboxPort, '127.0.0.1');
    const installed = await connectToolToSandbox(tool.app, config, sandbox, 'Query count');
    const courseId = String(sandbox.data.courses[0]!.id);
    const topLevelHost = new URL(sandbox.baseUrl).host;
    const launch = async (userId: string) => {
      const init = sandbox.loginInitiation({ userId, courseId, toolId: installed.toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      const browser = new Browser({ topLevelHost });
      const page = await browser.get(u.toString());
      if (page.status !== 200) throw new Error(`launch ended with ${page.status} at ${page.url}`);
      for (const p of browser.history) {
        const where = new URL(p.url);
        const name = where.host === topLevelHost ? `browser → Canvas ${where.pathname}` : `browser → tool ${where.pathname.startsWith('/s/') ? '/s/…' : where.pathname}`;
        if (recording) counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    };
    const people = { educator: ['101', '102', '103', '104'], teacher: ['3'] };
    for (const [who, ids] of Object.entries(people)) {
      for (const id of ids) await launch(id); // warm: users, course and membership exist; caches are filled
      counts.clear();
      statements.length = 0;
      recording = true;
      for (let i = 0; i < LAUNCHES; i++) {
        statements.length = 0;
        await launch(ids[i % ids.length]!);
      }
      recording = false;
      console.log(`\n${who}: per launch (mean of ${LAUNCHES})`);
      let db = 0;
      for (const [k, v] of [...counts].sort()) {
        console.log(`  ${k.padEnd(44)} ${(v / LAUNCHES).toFixed(2)}`);
        if (k.startsWith('db ')) db += v;
      }
      console.log(`  ${'database round trips in all'.padEnd(44)} ${(db / LAUNCHES).toFixed(2)}`);
      console.log(`  the last launch post's statements:`);
      for (const s of statements) console.log(`    ${s}`);
    }
    await sb.close();
    await tool.stop();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
