/*
 * `npm run bench:load`: ONE microcred instance (its own process, PostgreSQL) under two workloads at once, with the
 * sandbox as Canvas:
 *  - LOAD_LAUNCHES (default 200) virtual educators launching back to back: Canvas's login initiation, microcred's
 *    login, Canvas's auth endpoint (an RS256 id_token), the launch post and the first page, each with a fresh
 *    browser (cookie jar);
 *  - LOAD_REVIEWERS (default 50) reviewers (Canvas TAs, each launched once) working the queue in a loop: open the
 *    queue page, claim one of the submissions it lists (LOAD_CLAIM=next: "Review next" instead), open its review
 *    page, save a draft, decide (award).
 * The queue starts with LOAD_ITEMS (default 10,000) waiting submissions. Runs LOAD_SECONDS (default 60) after a
 * warm-up. Reports throughput, p50/p95 per step, errors (any failed request; the target is 0), the server's RSS
 * (sampled every second: start, steady state = median of the second half, peak) and CPU per launch, and the load
 * average (the machine is shared). Exits non-zero on any error. Results also go to bench/results/load.json.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); creates and drops a database.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSandbox, generateScenario } from '../../src/sandbox';
import { Browser, type Page } from '../support/browser';
import { freePort } from '../support/ports';
import { sessionOf } from '../support/session';
import { techLeaderI } from '../catalog/support';
import { Client } from 'pg';
import { benchDatabase, cpuMs, median, quantile, rssMb, startMicrocred, stopAll } from '../../bench/support';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const LAUNCHERS = Number(process.env.LOAD_LAUNCHES ?? 200);
const REVIEWERS = Number(process.env.LOAD_REVIEWERS ?? 50);
const ITEMS = Number(process.env.LOAD_ITEMS ?? 10_000);
const WARMUP_SECONDS = Number(process.env.LOAD_WARMUP_SECONDS ?? 10);
const SCORES = { 'digital-citizenship': 'meets', 'ferpa-cipa': 'meets', 'google-workspace': 'meets', 'navigating-canvas': 'meets' };
const FIRST_REVIEWER = 9000;
const CLAIM = process.env.LOAD_CLAIM === 'next' ? 'next' : 'queue';

class Recorder {
  readonly times = new Map<string, number[]>();
  readonly errors = new Map<string, number>();
  recording = false;

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const out = await fn();
      if (this.recording) (this.times.get(name) ?? this.times.set(name, []).get(name)!).push(performance.now() - t0);
      return out;
    } catch (err) {
      if (this.recording) {
        // One line per kind of error: session paths and ids are left out.
        const message = (err as Error).message.replace(/\/s\/[\w-]+/g, '/s/…').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>');
        const key = `${name}: ${message.slice(0, 160)}`;
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      }
      throw err;
    }
  }
}

async function expectOk(res: Response, what: string, contains?: string): Promise<string> {
  const text = await res.text();
  if (res.status !== 200 || (contains && !text.includes(contains))) throw new Error(`${what} answered ${res.status}${contains && res.status === 200 ? ` without "${contains}"` : ''}: ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
  return text;
}

async function main() {
  const database = await benchDatabase('microcred_load');
  const children: ChildProcess[] = [];
  try {
    // ---- Canvas: a district course with 400 educators and REVIEWERS TAs -------------------------------------------
    const scenario = generateScenario({ educators: 400, modules: 4, seed: 11 });
    const course = scenario.courses![0]!;
    for (let i = 0; i < REVIEWERS; i++) {
      const id = FIRST_REVIEWER + i;
      scenario.users!.push({ id, name: `Reviewer ${i + 1}`, email: `reviewer${i + 1}@district.example`, loginId: `reviewer${i + 1}@district.example` });
      course.enrollments!.push({ userId: id, type: 'TaEnrollment' });
    }
    const sandboxPort = await freePort();
    const sandbox = createSandbox({ baseUrl: `http://localhost:${sandboxPort}`, scenario });
    const sb = await sandbox.listen(sandboxPort, '127.0.0.1');
    const courseId = String(course.id);
    const educators = course.enrollments!.filter((e) => e.type === 'StudentEnrollment').map((e) => String(e.userId));
    const topLevelHost = new URL(sandbox.baseUrl).host;

    // LOAD_NODE_OPTIONS: V8 flags for the server (e.g. --max-old-space-size=160, to see what bounds its memory).
    const { proc, toolId } = await startMicrocred({ sandbox, databaseUrl: database.url, script: 'test/load/server.ts', children, env: process.env.LOAD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.LOAD_NODE_OPTIONS } : {} });
    const launch = async (userId: string): Promise<Page> => {
      const init = sandbox.loginInitiation({ userId, courseId, toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      const page = await new Browser({ topLevelHost }).get(u.toString());
      if (page.status !== 200) throw new Error(`launch of ${userId} ended with ${page.status} at ${new URL(page.url).pathname.replace(/\/s\/[^/]+/, '/s/…')}`);
      return page;
    };

    // ---- the micro-credential and the waiting submissions ------------------------------------------------------
    const designer = sessionOf(await launch('4'));
    const created = (await (await designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI() })).json()) as { id: string; current: { id: string } };
    await expectOk(await designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' }), 'publish');
    const db = new Client({ connectionString: database.url });
    await db.connect();
    const tenantId = (await db.query<{ id: string }>('SELECT tenant_id AS id FROM courses WHERE canvas_course_id = $1', [courseId])).rows[0]!.id;
    const courseRow = (await db.query<{ id: string }>('SELECT id FROM courses WHERE tenant_id = $1 AND canvas_course_id = $2', [tenantId, courseId])).rows[0]!.id;
    const t0 = Date.now();
    await db.query(`INSERT INTO users (tenant_id, lti_sub, name) SELECT $1, 'load-' || g, 'Educator ' || g FROM generate_series(1, $2::int) g`, [tenantId, Math.ceil(ITEMS / 5)]);
    await db.query(
      `INSERT INTO review_items (tenant_id, course_id, credential_id, version_id, earner_id, attempt, snapshot_id, status, submitted_at)
       SELECT $1, $2, $3, $4, u.id, a, 'load-' || u.lti_sub || '-' || a, 'pending', now() - (random() * interval '60 days')
         FROM users u CROSS JOIN generate_series(1, 5) a WHERE u.tenant_id = $1 AND u.lti_sub LIKE 'load-%' LIMIT $5`,
      [tenantId, courseRow, created.id, created.current.id, ITEMS],
    );
    await db.query('ANALYZE');
    console.log(`seeded ${ITEMS} waiting submissions in ${Date.now() - t0} ms`);

    // ---- the reviewers' sessions (each launches once, as a TA) -------------------------------------------------
    const reviewers: ReturnType<typeof sessionOf>[] = [];
    for (let i = 0; i < REVIEWERS; i++) {
      const page = await launch(String(FIRST_REVIEWER + i));
      if (!new URL(page.url).pathname.endsWith('/reviewer')) throw new Error(`reviewer ${i + 1} landed on ${new URL(page.url).pathname}`);
      reviewers.push(sessionOf(page));
    }

    // ---- the two workloads -------------------------------------------------------------------------------------
    const rec = new Recorder();
    let until = Date.now() + WARMUP_SECONDS * 1000;
    let decided = 0;
    const launcher = async () => {
      while (Date.now() < until) {
        await rec.step('launch (login → auth → launch → first page)', () => launch(educators[Math.floor(Math.random() * educators.length)]!)).catch(() => undefined);
      }
    };
    let conflicts = 0;
    // What a reviewer does on the queue page: picks one of the submissions listed and claims it. Two reviewers
    // picking the same one at once is normal: the second gets 409 and picks another (counted, not an error).
    const claimFromQueue = async (api: (typeof reviewers)[number], page: string): Promise<{ id: string }> => {
      const ids = [...new Set([...page.matchAll(/\/review\/items\/([0-9a-f-]{36})"/g)].map((m) => m[1]!))];
      for (let attempt = 0; attempt < 20 && ids.length; attempt++) {
        const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0]!;
        const res = await rec.step('claim', () => api.api(`/api/review/items/${id}/claim`, { method: 'POST' }));
        if (res.status === 409) {
          await res.text();
          if (rec.recording) conflicts++;
          continue;
        }
        await expectOk(res, 'claim');
        return { id };
      }
      throw new Error('no submission could be claimed from the queue page');
    };
    // LOAD_CLAIM=next: "Review next" instead (POST /api/review/next: the oldest waiting submission).
    const claimNext = async (api: (typeof reviewers)[number]): Promise<{ id: string }> => {
      const next = await rec.step('claim next', async () => JSON.parse(await expectOk(await api.api('/api/review/next', { method: 'POST', json: {} }), 'claim next')) as { item: { id: string } | null });
      if (!next.item) throw new Error('the queue ran dry');
      return next.item;
    };
    const reviewer = async (api: (typeof reviewers)[number]) => {
      while (Date.now() < until) {
        try {
          const queue = await rec.step('queue page', async () => expectOk(await fetch(`${api.base}/review`), 'queue page', 'Review queue'));
          const next = CLAIM === 'next' ? await claimNext(api) : await claimFromQueue(api, queue);
          const id = next.id;
          await rec.step('review page', async () => expectOk(await fetch(`${api.base}/review/items/${id}`), 'review page', 'lesson-plan.pdf'));
          await rec.step('save draft', async () => expectOk(await api.api(`/api/review/items/${id}/draft`, { method: 'PUT', json: { scores: SCORES, feedback: 'Draft: a clear lesson.' } }), 'draft'));
          await rec.step('decide', async () => expectOk(await api.api(`/api/review/items/${id}/decision`, { method: 'POST', json: { scores: SCORES, feedback: 'A clear lesson, well reflected on.', decision: 'award' } }), 'decision'));
          if (rec.recording) decided++;
        } catch {
          // counted by the recorder
        }
      }
    };
    const rss: number[] = [];
    const loads: number[] = [];
    const heap: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }[] = [];
    proc.on('message', (m: { memory?: (typeof heap)[number] }) => {
      if (m.memory && rec.recording) heap.push(m.memory);
    });
    const sampler = setInterval(() => {
      if (!rec.recording) return;
      rss.push(rssMb(proc.pid!));
      loads.push(os.loadavg()[0]!);
      proc.send('memory');
    }, 1000);
    const rssStart = rssMb(proc.pid!);
    console.log(`warming up ${WARMUP_SECONDS} s, then ${SECONDS} s: ${LAUNCHERS} launching educators and ${REVIEWERS} reviewers at once against one instance (RSS ${rssStart} MB)`);
    await Promise.all([...Array.from({ length: LAUNCHERS }, launcher), ...reviewers.map(reviewer)]);

    until = Date.now() + SECONDS * 1000;
    rec.recording = true;
    const cpu0 = cpuMs(proc.pid!);
    const started = Date.now();
    await Promise.all([...Array.from({ length: LAUNCHERS }, launcher), ...reviewers.map(reviewer)]);
    const elapsed = (Date.now() - started) / 1000;
    rec.recording = false;
    const cpu = cpuMs(proc.pid!) - cpu0;
    clearInterval(sampler);

    // ---- report ------------------------------------------------------------------------------------------------
    const errors = [...rec.errors.values()].reduce((a, b) => a + b, 0);
    const requests = [...rec.times].reduce((a, [name, t]) => a + t.length * (name.startsWith('launch') ? 4 : 1), 0);
    const steady = median(rss.slice(Math.floor(rss.length / 2)));
    const figures = [...rec.times].map(([name, times]) => {
      const s = [...times].sort((a, b) => a - b);
      return { name, count: s.length, perSecond: s.length / elapsed, p50: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1] ?? NaN };
    });
    console.log(`\n${elapsed.toFixed(0)} s, ${LAUNCHERS} launching + ${REVIEWERS} reviewing; 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ${os.cpus().length} CPUs, Node ${process.version}\n`);
    console.log('| step | count | per second | p50 | p95 | max |');
    console.log('|---|---|---|---|---|---|');
    for (const f of figures) console.log(`| ${f.name} | ${f.count} | ${f.perSecond.toFixed(1)} | ${f.p50.toFixed(0)} ms | ${f.p95.toFixed(0)} ms | ${f.max.toFixed(0)} ms |`);
    const mb = (k: keyof (typeof heap)[number]) => Math.round(median(heap.slice(Math.floor(heap.length / 2)).map((h) => h[k])) / 1048576);
    console.log(`server heap (medians of the second half): used ${mb('heapUsed')} MB of ${mb('heapTotal')} MB, external ${mb('external')} MB (array buffers ${mb('arrayBuffers')} MB)`);
    console.log(`\nreviews decided: ${decided} (${(decided / elapsed).toFixed(1)}/s); HTTP requests to microcred: ~${requests} (${(requests / elapsed).toFixed(0)}/s)`);
    console.log(`claims lost to another reviewer (409, expected): ${conflicts}`);
    console.log(`errors: ${errors}${errors ? '\n' + [...rec.errors].map(([k, n]) => `  ${n} × ${k}`).join('\n') : ''}`);
    console.log(`server RSS: ${rssStart} MB before, steady ${steady} MB (median of the second half), peak ${Math.max(...rss)} MB; server CPU ${(cpu / 1000).toFixed(1)} s over ${elapsed.toFixed(0)} s (${(cpu / 10 / elapsed).toFixed(0)} % of one core), ${(cpu / Math.max(1, requests)).toFixed(1)} ms per request`);
    fs.mkdirSync(path.resolve('bench/results'), { recursive: true });
    fs.writeFileSync(
      path.resolve('bench/results/load.json'),
      JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, seconds: elapsed, launchers: LAUNCHERS, reviewers: REVIEWERS, items: ITEMS, claim: CLAIM, figures, decided, claimConflicts: conflicts, errors: Object.fromEntries(rec.errors), rss: { start: rssStart, steady, peak: Math.max(...rss), samples: rss }, heap, load1: loads, serverCpuMs: cpu }, null, 2),
    );
    await db.end();
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
