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
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSandbox, generateScenario } from '../src/sandbox';
import { Browser } from '../test/support/browser';
import { freePort } from '../test/support/ports';
import { backendsCpu, benchDatabase, cpuMs, median, rssMb, run, SECRET, startMicrocred, startProcess, stopAll, waitReady } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const TARGETS = (process.env.BENCH_TARGETS ?? 'microcred,bare ltijs').split(',').concat(BEFORE ? ['microcred before'] : []);

interface Round { launches: number; errors: number; perSecond: number; p50: number; p95: number; rssMb: number; load1: number; toolCpuMs: number; dbCpuMs: number }
interface Target { name: string; proc: ChildProcess; launch: () => Promise<void> }
export interface LaunchFigures { target: string; concurrency: number; rounds: Round[]; perSecond: number; p50: number; p95: number; rssMb: number; errors: number; toolCpuMs: number; dbCpuMs: number }

async function main() {
  const database = await benchDatabase('microcred_bench');
  const { admin, url: databaseUrl, name: dbName } = database;
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

    const targets: Target[] = [];
    for (const name of TARGETS) {
      if (name === 'bare ltijs') {
        // The bare ltijs app, installed as another tool.
        const port = await freePort();
        const bareUrl = `http://127.0.0.1:${port}`;
        const bare = sandbox.installTool({ name: 'bare ltijs', oidcInitiationUrl: `${bareUrl}/lti/login`, targetLinkUri: `${bareUrl}/lti/launch`, redirectUris: [`${bareUrl}/lti/launch`], jwksUrl: `${bareUrl}/lti/keys`, privacyLevel: 'public' });
        const proc = startProcess(path.resolve('bench/bareLtijs.ts'), process.cwd(), { DATABASE_URL: databaseUrl, PORT: String(port), SECRET_KEY: SECRET, PLATFORM_ISS: sandbox.issuer, PLATFORM_CLIENT_ID: bare.clientId, PLATFORM_AUTH: `${sandbox.baseUrl}/api/lti/authorize_redirect`, PLATFORM_TOKEN: `${sandbox.baseUrl}/login/oauth2/token`, PLATFORM_JWKS: `${sandbox.baseUrl}/api/lti/security/jwks` }, children, CPU_PROF);
        await waitReady(proc);
        targets.push({ name, proc, launch: launchOf(bare.toolId, 'Hello') });
      } else {
        const dir = name === 'microcred before' ? BEFORE! : process.cwd();
        const { proc, toolId } = await startMicrocred({ sandbox, databaseUrl, dir, children, cpuProf: CPU_PROF });
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
    await stopAll(children);
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
