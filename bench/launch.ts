/*
 * `npm run bench:launch`: full LTI launches per second — Canvas's login initiation, Canvas's auth endpoint (the
 * sandbox signs an RS256 id_token), the launch post, and the first page — against microcred and against a bare
 * ltijs app, side by side on this machine and the same PostgreSQL. Prints throughput, p50/p95 and memory.
 *
 * The machine is shared, so the targets take turns: at each concurrency level, RUNS rounds (default 3), each round
 * measuring every target for BENCH_SECONDS in turn; the figures are the medians of the rounds, with the 1-minute
 * load average seen during them. The ratio is microcred's time per launch over bare ltijs's (target ≤ 1.3×).
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): each run creates and drops its
 * own database. Options: BENCH_SECONDS (default 5), BENCH_CONCURRENCY (default "1,10,50"), RUNS (default 3),
 * BENCH_TARGETS (default "microcred,bare ltijs"), BENCH_BEFORE=<dir of another checkout> (adds "microcred before",
 * that checkout's microcred, for before/after figures under the same load), BENCH_CPU_PROF=<dir> (V8 CPU profiles
 * of the servers, written when they stop).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { openDatabase, migrate } from '../src/db/database';
import { startLti } from '../src/lti/provider';
import { Platforms } from '../src/lti/platforms';
import { PlatformAdmin } from '../src/lti/platformAdmin';
import { TenantRepository } from '../src/tenants/repository';
import { canvasDeveloperKeyJson, toolUrls } from '../src/lti/toolConfiguration';
import { createSandbox, generateScenario, type Sandbox } from '../src/sandbox';
import { Browser } from '../test/support/browser';
import { freePort } from '../test/support/ports';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const CPU_PROF = process.env.BENCH_CPU_PROF;
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const TARGETS = (process.env.BENCH_TARGETS ?? 'microcred,bare ltijs').split(',').concat(BEFORE ? ['microcred before'] : []);

interface Round { launches: number; errors: number; perSecond: number; p50: number; p95: number; rssMb: number; load1: number; toolCpuMs: number; dbCpuMs: number }
interface Target { name: string; proc: ChildProcess; launch: () => Promise<void> }
export interface LaunchFigures { target: string; concurrency: number; rounds: Round[]; perSecond: number; p50: number; p95: number; rssMb: number; errors: number; toolCpuMs: number; dbCpuMs: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

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
    const sandboxPort = await freePort();
    const scenario = generateScenario({ educators: 200, modules: 4, seed: 7 });
    const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario });
    const sb = await sandbox.listen(sandboxPort, '127.0.0.1');
    const courseId = String(sandbox.data.courses[0]!.id);
    const students = sandbox.data.enrollments.filter((e) => String(e.courseId) === courseId && e.type === 'StudentEnrollment').map((e) => String(e.userId));
    const launchOf = (toolId: string, expect: string) => async () => {
      const user = students[Math.floor(Math.random() * students.length)]!;
      const init = sandbox.loginInitiation({ userId: user, courseId, toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      const page = await new Browser({ topLevelHost: new URL(sandbox.baseUrl).host }).get(u.toString());
      if (page.status !== 200 || !page.body.includes(expect)) throw new Error(`launch ended with ${page.status} at ${page.url}`);
    };

    const db = await openDatabase({ url: databaseUrl });
    await migrate(db);
    await db.close();
    const targets: Target[] = [];
    for (const name of TARGETS) {
      if (name === 'bare ltijs') {
        // The bare ltijs app, installed as another tool.
        const port = await freePort();
        const bareUrl = `http://127.0.0.1:${port}`;
        const bare = sandbox.installTool({ name: 'bare ltijs', oidcInitiationUrl: `${bareUrl}/lti/login`, targetLinkUri: `${bareUrl}/lti/launch`, redirectUris: [`${bareUrl}/lti/launch`], jwksUrl: `${bareUrl}/lti/keys`, privacyLevel: 'public' });
        const proc = start(path.resolve('bench/bareLtijs.ts'), process.cwd(), { DATABASE_URL: databaseUrl, PORT: String(port), SECRET_KEY: SECRET, PLATFORM_ISS: sandbox.issuer, PLATFORM_CLIENT_ID: bare.clientId, PLATFORM_AUTH: `${sandbox.baseUrl}/api/lti/authorize_redirect`, PLATFORM_TOKEN: `${sandbox.baseUrl}/login/oauth2/token`, PLATFORM_JWKS: `${sandbox.baseUrl}/api/lti/security/jwks` }, children);
        await waitReady(proc);
        targets.push({ name, proc, launch: launchOf(bare.toolId, 'Hello') });
      } else {
        const dir = name === 'microcred before' ? BEFORE! : process.cwd();
        const { proc, toolId } = await startMicrocred(sandbox, databaseUrl, dir, children);
        targets.push({ name, proc, launch: launchOf(toolId, 'My micro-credentials') });
      }
    }

    console.log(`bench:launch — ${TARGETS.join(' / ')}; ${RUNS} round(s) of ${SECONDS} s per target and level; ${os.cpus().length} CPUs, Node ${process.version}`);
    const figures: LaunchFigures[] = [];
    for (const c of LEVELS) {
      const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
      for (const t of targets) await run(t.launch, Math.min(c, 10), 2); // warm up
      for (let r = 0; r < RUNS; r++) {
        // Alternate the order, so neither target always runs right after the other's load.
        for (const t of r % 2 ? [...targets].reverse() : targets) {
          // CPU time is what the launch costs whatever else the machine does: the server's and its PostgreSQL backends'.
          const cpu0 = cpuMs(t.proc.pid!);
          const db0 = await backendsCpu(admin, dbName);
          const res = await run(t.launch, c, SECONDS);
          const db1 = await backendsCpu(admin, dbName);
          const dbMs = [...db1].reduce((a, [pid, ms]) => a + ms - (db0.get(pid) ?? 0), 0);
          const n = Math.max(1, res.launches);
          const round = { ...res, rssMb: rssMb(t.proc.pid!), load1: os.loadavg()[0]!, toolCpuMs: (cpuMs(t.proc.pid!) - cpu0) / n, dbCpuMs: dbMs / n };
          rounds.get(t.name)!.push(round);
          console.log(`${t.name.padEnd(16)} c=${String(c).padStart(3)} round ${r + 1}  ${res.perSecond.toFixed(1).padStart(6)} launches/s  p50 ${res.p50.toFixed(1)} ms  p95 ${res.p95.toFixed(1)} ms  errors ${res.errors}  cpu/launch ${round.toolCpuMs.toFixed(1)} + db ${round.dbCpuMs.toFixed(1)} ms  rss ${round.rssMb} MB  load ${round.load1.toFixed(2)}`);
        }
      }
      for (const t of targets) {
        const rs = rounds.get(t.name)!;
        figures.push({ target: t.name, concurrency: c, rounds: rs, perSecond: median(rs.map((x) => x.perSecond)), p50: median(rs.map((x) => x.p50)), p95: median(rs.map((x) => x.p95)), rssMb: median(rs.map((x) => x.rssMb)), errors: rs.reduce((a, x) => a + x.errors, 0), toolCpuMs: median(rs.map((x) => x.toolCpuMs)), dbCpuMs: median(rs.map((x) => x.dbCpuMs)) });
      }
    }

    const loads = figures.flatMap((f) => f.rounds.map((r) => r.load1));
    console.log(`\nMedians of ${RUNS} rounds; 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the rounds.`);
    console.log('| concurrency | ' + targets.map((t) => `${t.name} launches/s | p50 | p95 | CPU ms/launch server + db`).join(' | ') + ' | time ratio microcred/bare | microcred RSS |');
    console.log('|---|' + targets.map(() => '---|---|---|---|').join('') + '---|---|');
    for (const c of LEVELS) {
      const of = (name: string) => figures.find((f) => f.target === name && f.concurrency === c);
      const m = of('microcred');
      const b = of('bare ltijs');
      // Per-round ratios (each round's targets ran back to back under about the same load), then their median.
      const ratio = m && b ? `${median(m.rounds.map((r, i) => b.rounds[i]!.perSecond / r.perSecond)).toFixed(2)}×` : '–';
      console.log(`| ${c} | ` + targets.map((t) => { const f = of(t.name)!; return `${f.perSecond.toFixed(1)} | ${f.p50.toFixed(0)} ms | ${f.p95.toFixed(0)} ms | ${f.toolCpuMs.toFixed(1)} + ${f.dbCpuMs.toFixed(1)}`; }).join(' | ') + ` | ${ratio} | ${m ? `${m.rssMb} MB` : '–'} |`);
    }
    const errors = figures.reduce((a, f) => a + f.errors, 0);
    if (errors) console.log(`\n${errors} launches failed.`);
    fs.mkdirSync(path.resolve('bench/results'), { recursive: true });
    fs.writeFileSync(path.resolve('bench/results/launch.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, seconds: SECONDS, runs: RUNS, figures }, null, 2));
    await sb.close();
    if (errors) process.exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'), setTimeout(r, 5000))))));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

/** microcred from the checkout in `dir`: installed in the sandbox from its JSON configuration, registered in the database, started. */
async function startMicrocred(sandbox: Sandbox, databaseUrl: string, dir: string, children: ChildProcess[]): Promise<{ proc: ChildProcess; toolId: string }> {
  const port = await freePort();
  const env = { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `https://127.0.0.1:${port}`, DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, LOG_LEVEL: 'warn' };
  const config = { ...loadConfig(env), publicUrl: `http://127.0.0.1:${port}` };
  const tool = sandbox.installFromJsonConfig({ ...canvasDeveloperKeyJson(config), redirect_uris: [toolUrls(config).launch] });
  const db = await openDatabase({ url: databaseUrl });
  const { lti, store } = await startLti({ config, sql: db.sql, onLaunch: async () => '/', renderError: () => undefined });
  await new PlatformAdmin(lti, new Platforms(lti), new TenantRepository(db.orm)).register({
    issuer: sandbox.issuer, clientId: tool.clientId, name: `bench ${port}`, authEndpoint: `${sandbox.baseUrl}/api/lti/authorize_redirect`,
    tokenEndpoint: `${sandbox.baseUrl}/login/oauth2/token`, jwksUrl: `${sandbox.baseUrl}/api/lti/security/jwks`, deploymentIds: [tool.deploymentId], active: true,
  });
  await lti.close({ silent: true });
  await store.Close();
  await db.close();
  // Production mode insists on an https PUBLIC_URL; the bench talks http on loopback, so the tool runs in `test` mode,
  // which caches views and keeps logs quiet like production.
  const proc = start(path.join(dir, 'src/main.ts'), dir, { ...env, NODE_ENV: 'test', PUBLIC_URL: config.publicUrl, REGISTRATION_AUTO_ACTIVATE: 'off' }, children);
  await waitHttp(`${config.publicUrl}/healthz`, proc);
  return { proc, toolId: tool.toolId };
}

function start(script: string, cwd: string, env: Record<string, string>, children: ChildProcess[]): ChildProcess {
  const prof = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF)}`] : [];
  const child = fork(script, [], { cwd, env: { ...process.env, ...env }, execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return child;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

async function waitHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
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

const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

/** User + system CPU time of a process so far, in ms. */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14 and 15 of the line)
  } catch {
    return 0; // not on this machine (a remote PostgreSQL) or gone
  }
}

/** CPU ms of every PostgreSQL backend connected to the bench database. */
async function backendsCpu(admin: Client, dbName: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
