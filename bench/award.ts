/**
 * `npm run bench:award`: the award command end to end, against the real app and the Canvas sandbox.
 *
 * - Signed credentials per second: `app.awards.award` for distinct educators, 8 at a time. Each award is the
 *   whole transaction (award row, CEU ledger entry, signed OB 3.0 credential, progress, outbox rows and jobs) while
 *   the outbox jobs drain in the background (they share the CPU, as in production). Target: ≥ 200/s.
 * - Award → AGS score accepted by the sandbox: from the award's commit to the sandbox storing the score on the
 *   credential's line item (the job's queue wait, the client-credentials token, the line-item lookup, the score
 *   POST). p50/p95 over every award of a run. Target: p95 ≤ 5 s. Measured for a burst (every award at once, the
 *   outbox behind) and for a steady stream (10 awards a second).
 *
 * The database is embedded PGlite, or PostgreSQL when DATABASE_URL is set. Each figure is the median of 3 runs;
 * the load average is printed with each run (other work on the machine lowers the figures).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateScenario } from '../src/sandbox';
import { logger } from '../src/log';
import { startStack, type Stack } from '../test/support/stack';
import { sessionOf } from '../test/support/session';
import { parseForm } from '../test/support/browser';
import { techLeaderI } from '../test/catalog/support';
import { median, quantile } from './support';

const N = Number(process.env.BENCH_AWARD_N ?? 300);
const STEADY_N = Number(process.env.BENCH_AWARD_STEADY_N ?? 100);
const CONCURRENCY = 8;
/** BENCH_AWARD_JOBS=off: no job workers, so the rate is the award command's alone (the outbox waits). */
const JOBS = process.env.BENCH_AWARD_JOBS !== 'off';
const RUNS = 3;

const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pct = (xs: number[], p: number) => quantile([...xs].sort((a, b) => a - b), p / 100);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function parallel<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface World { stack: Stack; tenantId: string; courseId: string; credentials: { id: string; versionId: string; lineItemId: number }[]; earners: { userId: string; canvasId: number }[] }

async function world(): Promise<World> {
  const educators = Math.max(N, STEADY_N);
  // A pool larger than the 8 awards at once: each award's transaction holds a connection, and reserving a block of
  // status-list slots needs one more (outside it).
  const env: Record<string, string> = { DATABASE_POOL_MAX: '20', JOB_WORKERS: JOBS ? 'on' : 'off' };
  if (!process.env.DATABASE_URL) env.DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'microcred-bench-award-'));
  const stack = await startStack({ scenario: generateScenario({ educators, modules: 2 }), env });
  const q = async <R>(text: string, params: unknown[] = []) => (await stack.tool.db.sql.query<R & Record<string, unknown>>(text, params)).rows as R[];
  const designer = sessionOf((await stack.launch('4', { courseId: '1' })).page);
  const tenantId = (await q<{ id: string }>('SELECT id FROM tenants WHERE client_id = $1', [stack.clientId]))[0]!.id;
  const courseId = (await q<{ id: string }>(`SELECT id FROM courses WHERE tenant_id = $1 AND canvas_course_id = '1'`, [tenantId]))[0]!.id;
  await stack.tool.app.canvas.store.setServiceToken(tenantId, stack.sandbox.issueUserToken({ userId: 1 }).accessToken, { setBy: (await q<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 LIMIT 1', [tenantId]))[0]!.id, canvasUser: '1' });
  // One credential per run and phase (each educator earns each once), each a graded assignment made by Deep Linking.
  const credentials: World['credentials'] = [];
  for (let i = 0; i < RUNS * 2 + 1; i++) {
    const created = (await (await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: `Bench credential ${i + 1}` }) })).json()) as { id: string };
    const published = (await (await designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' })).json()) as { current: { id: string } };
    const { page, browser } = await stack.launch('4', { courseId: '1', placement: 'module_index_menu_modal', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(page.body)!;
    await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: `graded:${created.id}` });
    const li = stack.sandbox.data.lineItems.find((l) => l.resourceId === created.id)!;
    credentials.push({ id: created.id, versionId: published.current.id, lineItemId: li.id });
  }
  // The educators as microcred knows them after a roster import (sub ↔ Canvas id), without a launch each.
  const students = stack.sandbox.data.students(1).slice(0, educators);
  const earners: World['earners'] = [];
  for (const s of students) {
    const [row] = await q<{ id: string }>('INSERT INTO users (tenant_id, lti_sub, canvas_user_id, name, email) VALUES ($1, $2, $3, $4, $5) RETURNING id', [tenantId, s.ltiId, String(s.id), s.name, s.email]);
    earners.push({ userId: row!.id, canvasId: s.id });
  }
  return { stack, tenantId, courseId, credentials, earners };
}

/** Waits until the sandbox holds a score for each (line item, user); answers each acceptance time (ms). */
async function acceptedAt(w: World, lineItemId: number, users: number[], timeoutMs = 120_000): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const deadline = Date.now() + timeoutMs;
  while (out.size < users.length && Date.now() < deadline) {
    for (const r of w.stack.sandbox.data.results) if (r.lineItemId === lineItemId && !out.has(r.userId)) out.set(r.userId, Date.parse(r.updatedAt));
    if (out.size < users.length) await sleep(20);
  }
  return out;
}

async function run(w: World, credential: World['credentials'][number], earners: World['earners'], paceMs: number): Promise<{ rate: number; latencies: number[]; missing: number }> {
  const committed = new Map<number, number>();
  const award = async (e: World['earners'][number]) => {
    await w.stack.tool.app.awards.award({ tenantId: w.tenantId, earnerId: e.userId, achievement: { versionId: credential.versionId }, courseId: w.courseId, source: 'bulk', reason: 'Benchmark', points: 8 });
    committed.set(e.canvasId, Date.now());
  };
  const t0 = performance.now();
  if (paceMs > 0) {
    const pending: Promise<void>[] = [];
    for (const e of earners) {
      pending.push(award(e));
      await sleep(paceMs);
    }
    await Promise.all(pending);
  } else {
    await parallel(earners, CONCURRENCY, award);
  }
  const rate = earners.length / ((performance.now() - t0) / 1000);
  if (!JOBS) return { rate, latencies: [0], missing: 0 };
  const accepted = await acceptedAt(w, credential.lineItemId, earners.map((e) => e.canvasId));
  const latencies = earners.filter((e) => accepted.has(e.canvasId)).map((e) => accepted.get(e.canvasId)! - committed.get(e.canvasId)!);
  return { rate, latencies, missing: earners.length - latencies.length };
}

async function main(): Promise<void> {
  logger.level = process.env.LOG_LEVEL ?? 'silent';
  console.log(`load at start ${load()}; Node ${process.version}; database ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (embedded)'}; ${N} awards a burst, ${STEADY_N} steady at 10/s; job workers ${JOBS ? 'on' : 'off'}`);
  const w = await world();
  // Warm: the issuer key, caches, JIT, the AGS token.
  await run(w, w.credentials[RUNS * 2]!, w.earners.slice(0, 40), 0);
  const burst: { rate: number; p50: number; p95: number }[] = [];
  const steady: { p50: number; p95: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const b = await run(w, w.credentials[i]!, w.earners.slice(0, N), 0);
    burst.push({ rate: b.rate, p50: pct(b.latencies, 50), p95: pct(b.latencies, 95) });
    console.log(`burst run ${i + 1}: ${b.rate.toFixed(0)} awards (signed credentials)/s${JOBS ? `; award → AGS accepted p50 ${pct(b.latencies, 50)} ms, p95 ${pct(b.latencies, 95)} ms${b.missing ? `, ${b.missing} not accepted in time` : ''}` : ''} (load ${load()})`);
    if (!JOBS) continue;
    const s = await run(w, w.credentials[RUNS + i]!, w.earners.slice(0, STEADY_N), 100);
    steady.push({ p50: pct(s.latencies, 50), p95: pct(s.latencies, 95) });
    console.log(`steady run ${i + 1}: award → AGS accepted p50 ${pct(s.latencies, 50)} ms, p95 ${pct(s.latencies, 95)} ms${s.missing ? `, ${s.missing} not accepted in time` : ''} (load ${load()})`);
  }
  const failed = (await w.stack.tool.db.sql.query<{ n: string }>(`SELECT count(*) AS n FROM award_passbacks WHERE state = 'failed'`, [])).rows[0]!.n;
  console.log(`\nAward (median of ${RUNS}):`);
  console.log(`  signed credentials per second (award command x${CONCURRENCY}, ${JOBS ? 'outbox draining beside it' : 'no job workers'}): ${median(burst.map((b) => b.rate)).toFixed(0)}/s  (target ≥ 200)`);
  if (!JOBS) {
    await w.stack.stop();
    return;
  }
  console.log(`  award → AGS score accepted, burst of ${N}:  p50 ${median(burst.map((b) => b.p50))} ms, p95 ${median(burst.map((b) => b.p95))} ms`);
  console.log(`  award → AGS score accepted, steady 10/s:   p50 ${median(steady.map((b) => b.p50))} ms, p95 ${median(steady.map((b) => b.p95))} ms  (target p95 ≤ 5,000 ms)`);
  console.log(`  failed passbacks: ${failed}; load at end ${load()}`);
  await w.stack.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
