/*
 * `npm run bench:review`: the review's two hot pages against real PostgreSQL.
 *  - the review page of a submission with 20 attachments (target: p95 ≤ 50 ms);
 *  - the queue with 10,000 submissions waiting (target: p95 ≤ 100 ms), as JSON and as the page, unfiltered and filtered.
 * Times are measured around each HTTP request on loopback (keep-alive), so they include the server's whole work
 * (session load, policy, SQL, EJS) plus a fraction of a millisecond of network. Requests run one at a time.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): each run creates and drops its
 * own database. Options: BENCH_REQUESTS (default 300 per endpoint), BENCH_ITEMS (default 10000).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { logger } from '../src/log';
import { tinyPdf } from '../src/sandbox/scenario';
import { ReviewRepository } from '../src/review/repository';
import { png, startWorld } from '../test/review/support/world';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 10_000);

interface Figure { name: string; requests: number; p50: number; p95: number; mean: number; max: number; target?: number }

function stats(name: string, ms: number[], target?: number): Figure {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { name, requests: s.length, p50: r(at(0.5)), p95: r(at(0.95)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), max: r(s[s.length - 1]!), target };
}

async function time(url: string, n: number, check: (status: number, body: string) => void): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, { headers: { Accept: url.includes('/api/') ? 'application/json' : 'text/html' } });
    const body = await res.text();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    check(res.status, body);
  }
  return out;
}

async function main() {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `microcred_bench_review_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  // The test stack reads DATABASE_URL when it starts; one log line per request would only slow the run.
  process.env.DATABASE_URL = url.toString();
  logger.level = process.env.LOG_LEVEL ?? 'silent';
  const w = await startWorld();
  // As in production (config.env === 'production'): compiled EJS templates are cached.
  w.stack.tool.app.app.enable('view cache');
  try {
    // ---- seed: 10,000 waiting submissions (2,000 educators × 5 attempts) and 2,000 decided ones --------------
    const t0 = Date.now();
    const users = Math.ceil(ITEMS / 5);
    await w.q(`INSERT INTO users (tenant_id, lti_sub, name) SELECT $1, 'bench-' || g, 'Educator ' || g FROM generate_series(1, $2::int) g`, [w.tenantId, users]);
    await w.q(
      `INSERT INTO review_items (tenant_id, course_id, credential_id, version_id, earner_id, attempt, snapshot_id, status, submitted_at)
       SELECT $1, $2, $3, $4, u.id, a, 'bench', 'pending', now() - (random() * interval '60 days')
         FROM users u CROSS JOIN generate_series(1, 5) a WHERE u.tenant_id = $1 AND u.lti_sub LIKE 'bench-%' LIMIT $5`,
      [w.tenantId, w.course101, w.credential.id, w.credential.versionId, ITEMS],
    );
    await w.q(
      `INSERT INTO review_items (tenant_id, course_id, credential_id, version_id, earner_id, attempt, snapshot_id, status, submitted_at, decided_at)
       SELECT $1, $2, $3, $4, u.id, 6, 'bench', 'awarded', now() - interval '90 days', now() - interval '80 days'
         FROM users u WHERE u.tenant_id = $1 AND u.lti_sub LIKE 'bench-%'`,
      [w.tenantId, w.course101, w.credential.id, w.credential.versionId],
    );
    await w.q('ANALYZE');
    const seeded = (await w.q<{ n: number }>("SELECT count(*)::int AS n FROM review_items WHERE tenant_id = $1 AND status = 'pending'", [w.tenantId]))[0]!.n;
    console.log(`seeded ${seeded} waiting submissions in ${Date.now() - t0} ms`);

    // ---- the submission with 20 attachments -------------------------------------------------------------
    const files = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? { filename: `evidence-${i + 1}.pdf`, contentType: 'application/pdf', bytes: tinyPdf(`Evidence ${i + 1}`) }
        : { filename: `photo-${i + 1}.png`, contentType: 'image/png', bytes: png(64, 48) },
    );
    const item = await w.submit(101, { text: '<p>My evidence of mastery.</p>'.repeat(20), url: 'https://example.org/portfolio', files, submittedAt: new Date(Date.now() - 61 * 86_400_000) });
    const ta = await w.as(4);
    const claim = await ta.api(`/api/review/items/${item.id}/claim`, { method: 'POST' });
    if (claim.status !== 200) throw new Error(`claim: ${claim.status}`);
    await ta.api(`/api/review/items/${item.id}/draft`, { method: 'PUT', json: { scores: { 'digital-citizenship': 'meets' }, feedback: 'Draft' } });

    const ok = (expect: string) => (status: number, body: string) => {
      if (status !== 200 || !body.includes(expect)) throw new Error(`unexpected answer ${status}: ${body.slice(0, 200)}`);
    };
    const endpoints: { name: string; url: string; expect: string; target?: number }[] = [
      { name: 'review page, 20 attachments (HTML)', url: `${ta.base}/review/items/${item.id}`, expect: 'evidence-19.pdf', target: 50 },
      { name: 'review item, 20 attachments (JSON)', url: `${ta.base}/api/review/items/${item.id}`, expect: 'photo-20.png', target: 50 },
      { name: `queue, ${seeded} waiting (JSON, first 50 + counts)`, url: `${ta.base}/api/review/queue`, expect: '"pending":', target: 100 },
      { name: `queue, ${seeded} waiting (HTML page)`, url: `${ta.base}/review`, expect: 'Review queue', target: 100 },
      { name: 'queue filtered: credential + waiting ≥ 7 days (JSON)', url: `${ta.base}/api/review/queue?credential=${w.credential.id}&age=7`, expect: '"items"', target: 100 },
      { name: 'queue, page 100 (JSON)', url: `${ta.base}/api/review/queue?page=100`, expect: '"items"', target: 100 },
    ];
    const figures: Figure[] = [];
    for (const e of endpoints) {
      await time(e.url, 30, ok(e.expect)); // warm-up: JIT, EJS cache, PostgreSQL caches
      figures.push(stats(e.name, await time(e.url, REQUESTS, ok(e.expect)), e.target));
    }

    // The SQL alone, through the review's repository (what the indexes buy, without HTTP, sessions or EJS).
    const repo = new ReviewRepository(w.stack.tool.db.orm);
    const scope = { userId: await w.userId(4), all: false, courseIds: [w.course101] };
    const row = (await repo.findItem(w.tenantId, item.id))!;
    const sqlTimes = async (name: string, fn: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < 20 + REQUESTS; i++) {
        const t = process.hrtime.bigint();
        await fn();
        if (i >= 20) ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      figures.push(stats(`  SQL: ${name}`, ms));
    };
    await sqlTimes('queue, first 50 waiting', () => repo.queue(w.tenantId, scope, { status: 'open', limit: 51, offset: 0 }));
    await sqlTimes('counts per tab', () => repo.counts(w.tenantId, scope, {}));
    await sqlTimes('previous / next', () => repo.neighbours(w.tenantId, scope, row));

    const plan = await w.q<{ 'QUERY PLAN': string }>(
      `EXPLAIN ANALYZE SELECT i.id FROM review_items i LEFT JOIN review_settings s ON s.credential_id = i.credential_id
        WHERE i.tenant_id = $1 AND i.course_id = $2 AND i.status = 'pending' ORDER BY i.submitted_at, i.id LIMIT 51`,
      [w.tenantId, w.course101],
    );
    console.log('\nThe queue’s first page (core of the query):\n' + plan.map((r) => '  ' + r['QUERY PLAN']).join('\n'));

    console.log(`\n${'endpoint'.padEnd(58)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'mean'.padStart(7)} ${'max'.padStart(7)}  target`);
    for (const f of figures) console.log(`${f.name.padEnd(58)} ${(f.p50 + ' ms').padStart(7)} ${(f.p95 + ' ms').padStart(7)} ${(f.mean + ' ms').padStart(7)} ${(f.max + ' ms').padStart(7)}  ${f.target ? `p95 ≤ ${f.target} ms ${f.p95 <= f.target ? 'ok' : 'MISSED'}` : ''}`);
    const dir = path.resolve('bench/results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `review-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), requests: REQUESTS, waiting: seeded, figures }, null, 2));
    console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
    if (figures.some((f) => f.target && f.p95 > f.target)) process.exitCode = 1;
  } finally {
    await w.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
