/*
 * `npm run bench:launch`: full LTI launches per second — Canvas's login initiation, Canvas's auth endpoint (the
 * sandbox signs an RS256 id_token), the launch post, and the first page — against microcred and against a bare
 * ltijs app, side by side on this machine and the same PostgreSQL. Prints throughput, p50/p95 and memory.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): each run creates and drops its
 * own database. Options: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default "1,10,50").
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { openDatabase, migrate } from '../src/db/database';
import { startLti } from '../src/lti/provider';
import { Platforms } from '../src/lti/platforms';
import { PlatformAdmin } from '../src/lti/platformAdmin';
import { TenantRepository } from '../src/tenants/repository';
import { canvasDeveloperKeyJson, toolUrls } from '../src/lti/toolConfiguration';
import { createSandbox, loadScenario, generateScenario } from '../src/sandbox';
import { Browser } from '../test/support/browser';
import { freePort } from '../test/support/ports';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const SECRET = 'bench-secret-0123456789abcdef0123456789';

interface Result { target: string; concurrency: number; launches: number; errors: number; perSecond: number; p50: number; p95: number; rssMb: number }

async function main() {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `microcred_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const children: ChildProcess[] = [];
  try {
    const [toolPort, barePort, sandboxPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const scenario = generateScenario({ educators: 200, modules: 4, seed: 7 });
    void loadScenario;
    const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario });
    const sb = await sandbox.listen(sandboxPort, '127.0.0.1');
    const courseId = String(sandbox.data.courses[0]!.id);
    const students = sandbox.data.enrollments.filter((e) => String(e.courseId) === courseId && e.type === 'StudentEnrollment').map((e) => String(e.userId));

    // microcred: installed in the sandbox from its JSON configuration, registered in its database.
    const env = { NODE_ENV: 'production', PORT: String(toolPort), HOST: '127.0.0.1', PUBLIC_URL: `https://127.0.0.1:${toolPort}`, DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, LOG_LEVEL: 'warn' };
    const config = { ...loadConfig(env), publicUrl: `http://127.0.0.1:${toolPort}` };
    const tool = sandbox.installFromJsonConfig({ ...canvasDeveloperKeyJson(config), redirect_uris: [toolUrls(config).launch] });
    const db = await openDatabase({ url: databaseUrl });
    await migrate(db);
    const { lti, store } = await startLti({ config, sql: db.sql, onLaunch: async () => '/', renderError: () => undefined });
    await new PlatformAdmin(lti, new Platforms(lti), new TenantRepository(db.orm)).register({
      issuer: sandbox.issuer, clientId: tool.clientId, name: 'bench', authEndpoint: `${sandbox.baseUrl}/api/lti/authorize_redirect`,
      tokenEndpoint: `${sandbox.baseUrl}/login/oauth2/token`, jwksUrl: `${sandbox.baseUrl}/api/lti/security/jwks`, deploymentIds: [tool.deploymentId], active: true,
    });
    await lti.close({ silent: true });
    await store.Close();
    await db.close();

    // The bare ltijs app, installed as a second tool.
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const bare = sandbox.installTool({ name: 'bare ltijs', oidcInitiationUrl: `${bareUrl}/lti/login`, targetLinkUri: `${bareUrl}/lti/launch`, redirectUris: [`${bareUrl}/lti/launch`], jwksUrl: `${bareUrl}/lti/keys`, privacyLevel: 'public' });

    // Production mode insists on an https PUBLIC_URL; the bench talks http on loopback, so the tool runs in `test` mode,
    // which caches views and keeps logs quiet like production.
    const toolProc = start('src/main.ts', { ...env, NODE_ENV: 'test', PUBLIC_URL: config.publicUrl, REGISTRATION_AUTO_ACTIVATE: 'off' }, children);
    const bareProc = start('bench/bareLtijs.ts', { DATABASE_URL: databaseUrl, PORT: String(barePort), SECRET_KEY: SECRET, PLATFORM_ISS: sandbox.issuer, PLATFORM_CLIENT_ID: bare.clientId, PLATFORM_AUTH: `${sandbox.baseUrl}/api/lti/authorize_redirect`, PLATFORM_TOKEN: `${sandbox.baseUrl}/login/oauth2/token`, PLATFORM_JWKS: `${sandbox.baseUrl}/api/lti/security/jwks` }, children);
    await Promise.all([waitHttp(`${config.publicUrl}/healthz`), waitReady(bareProc)]);

    const launchOf = (toolId: string, expect: string) => async () => {
      const user = students[Math.floor(Math.random() * students.length)]!;
      const init = sandbox.loginInitiation({ userId: user, courseId, toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      const page = await new Browser({ topLevelHost: new URL(sandbox.baseUrl).host }).get(u.toString());
      if (page.status !== 200 || !page.body.includes(expect)) throw new Error(`launch ended with ${page.status} at ${page.url}`);
    };
    const results: Result[] = [];
    for (const c of LEVELS) {
      for (const [target, proc, fn] of [
        ['microcred', toolProc, launchOf(tool.toolId, 'My micro-credentials')],
        ['bare ltijs', bareProc, launchOf(bare.toolId, 'Hello')],
      ] as const) {
        await run(fn, Math.min(c, 10), 2); // warm up
        const r = await run(fn, c, SECONDS);
        results.push({ target, concurrency: c, ...r, rssMb: rssMb(proc.pid!) });
        console.log(`${target.padEnd(11)} c=${String(c).padStart(3)}  ${r.perSecond.toFixed(1).padStart(6)} launches/s  p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  errors ${r.errors}  rss ${rssMb(proc.pid!)} MB`);
      }
    }
    console.log('\n| concurrency | microcred launches/s | bare ltijs launches/s | ratio (bare/microcred time) | microcred p95 ms | bare p95 ms | microcred RSS MB |');
    console.log('|---|---|---|---|---|---|---|');
    for (const c of LEVELS) {
      const m = results.find((r) => r.target === 'microcred' && r.concurrency === c)!;
      const b = results.find((r) => r.target === 'bare ltijs' && r.concurrency === c)!;
      console.log(`| ${c} | ${m.perSecond.toFixed(1)} | ${b.perSecond.toFixed(1)} | ${(b.perSecond / m.perSecond).toFixed(2)}× | ${m.p95.toFixed(1)} | ${b.p95.toFixed(1)} | ${m.rssMb} |`);
    }
    fs.mkdirSync(path.resolve('bench/results'), { recursive: true });
    fs.writeFileSync(path.resolve('bench/results/launch.json'), JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, results }, null, 2));
    await sb.close();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

function start(script: string, env: Record<string, string>, children: ChildProcess[]): ChildProcess {
  const child = fork(path.resolve(script), [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return child;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

/** `concurrency` virtual users launching back to back for `seconds`. */
async function run(launch: () => Promise<void>, concurrency: number, seconds: number) {
  const times: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        try {
          await launch();
          times.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error((err as Error).message);
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
  return { launches: times.length, errors, perSecond: times.length / elapsed, p50: q(0.5), p95: q(0.95) };
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
