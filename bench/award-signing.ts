/**
 * `npm run bench:sign`: how many Open Badges 3.0 credentials per second microcred signs and issues.
 *
 * Each figure is the median of 3 runs, on a realistic Tech Leader I credential (rubric results, alignments,
 * evidence, status entry; ~13 KB signed):
 * - sign, in-thread: `signCredential` one after another on one core (the cost per credential);
 * - sign, pool: `SignerPool` (2 worker threads), 8 at a time;
 * - issue: `Badges.issueOpenBadge` end to end (achievement, issuer, status slot, sign, INSERT), 8 at a time, with
 *   the default signing (the worker pool on 2+ cores) and with in-thread signing (`signingWorkers: 0`), on the
 *   embedded PGlite and, when DATABASE_URL is set, on that PostgreSQL too.
 * Target (issue 6): ≥ 200 signed credentials per second on the 2-core machine. The load average is printed with
 * every run: other work on the machine lowers the figures.
 */
import fs from 'node:fs';
import { openDatabase, migrate, type Database } from '../src/db/database';
import { Badges } from '../src/badges/service';
import { signCredential, type Json, type ProofKey } from '../src/badges/signing';
import { closeSignerPool, defaultSigningWorkers, SignerPool } from '../src/badges/signerPool';
import { subtreeCache } from '../src/badges/rdf';
import { loadStarterCatalog } from '../src/catalog/commands/starter';
import { seedTenant, passingResults, TEST_SECRET, type Seed } from '../test/badges/fixtures';

const SIGN_N = Number(process.env.BENCH_SIGN_N ?? 400);
const ISSUE_N = Number(process.env.BENCH_ISSUE_N ?? 300);
const CONCURRENCY = 8;
const RUNS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const rate = (n: number, t0: number) => n / ((performance.now() - t0) / 1000);

async function parallel(n: number, concurrency: number, fn: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await fn();
  }));
}

interface Fixture {
  db: Database;
  seed: Seed;
  input: Parameters<Badges['issueOpenBadge']>[0];
  badges: (signingWorkers: number) => Badges;
}

async function fixture(url: string | undefined): Promise<Fixture> {
  const db = await openDatabase({ url, poolMax: CONCURRENCY + 2 });
  await migrate(db);
  const seed = await seedTenant(db);
  const rubric = loadStarterCatalog().credentials[0]!.definition.rubric;
  return {
    db,
    seed,
    input: {
      tenantId: seed.tenantId,
      earner: { ...seed.earner, showName: false },
      achievement: { versionId: seed.versions.tl1 },
      results: passingResults(rubric),
      evidence: [{ sha256: 'a'.repeat(64), name: 'Lesson plan', narrative: 'Scored Meets on every criterion.' }],
    },
    badges: (signingWorkers) => new Badges({ orm: db.orm, publicUrl: 'https://microcred.example.edu', secretKey: TEST_SECRET, signingWorkers }),
  };
}

const lines: string[] = [];
function report(label: string, rates: number[], loads: string[], extra = ''): void {
  const m = median(rates);
  lines.push(`  ${label.padEnd(48)} ${m.toFixed(0).padStart(4)} /s  ${(1000 / m).toFixed(2).padStart(6)} ms  runs ${rates.map((r) => r.toFixed(0)).join(' / ')}  load ${loads.join(' | ')}${extra}`);
}

async function signing(f: Fixture): Promise<{ size: number }> {
  const badges = f.badges(0);
  const sample = await badges.issueOpenBadge(f.input);
  const { proof: _p, ...unsigned } = sample.credential;
  const key: ProofKey = await badges.keys.signingKey(f.seed.tenantId);
  const fresh = (): Json => ({ ...unsigned, id: `urn:uuid:${crypto.randomUUID()}` });
  for (let i = 0; i < 20; i++) await signCredential(fresh(), key);
  const pool = new SignerPool(2);
  await parallel(150, CONCURRENCY, () => pool.sign(fresh(), key));

  const inThread: number[] = [];
  const pooled: number[] = [];
  const loads: [string[], string[]] = [[], []];
  for (let run = 1; run <= RUNS; run++) {
    let t = performance.now();
    for (let i = 0; i < SIGN_N; i++) await signCredential(fresh(), key);
    inThread.push(rate(SIGN_N, t));
    loads[0].push(load());
    t = performance.now();
    await parallel(SIGN_N, CONCURRENCY, () => pool.sign(fresh(), key));
    pooled.push(rate(SIGN_N, t));
    loads[1].push(load());
    console.log(`sign run ${run}: in-thread ${inThread.at(-1)!.toFixed(0)}/s, pool ${pooled.at(-1)!.toFixed(0)}/s (load ${load()})`);
  }
  await pool.close();
  report('signCredential, in-thread, one at a time', inThread, loads[0]);
  report(`signCredential, pool of 2 workers, x${CONCURRENCY}`, pooled, loads[1]);
  return { size: Buffer.byteLength(JSON.stringify(sample.credential)) };
}

async function issuing(f: Fixture, kind: string): Promise<number> {
  const workers = defaultSigningWorkers();
  const configs: [string, number][] = workers > 0 ? [[`${workers} signing workers`, workers], ['in-thread signing', 0]] : [['in-thread signing', 0]];
  let best = 0;
  for (const [label, w] of configs) {
    const badges = f.badges(w);
    await parallel(150, CONCURRENCY, () => badges.issueOpenBadge(f.input)); // warm: key, caches, workers and their JIT
    const rates: number[] = [];
    const loads: string[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const t = performance.now();
      await parallel(ISSUE_N, CONCURRENCY, () => badges.issueOpenBadge(f.input));
      rates.push(rate(ISSUE_N, t));
      loads.push(load());
      console.log(`issue ${kind}, ${label}, run ${run}: ${rates.at(-1)!.toFixed(0)}/s (load ${load()})`);
    }
    report(`issueOpenBadge x${CONCURRENCY}, ${kind}, ${label}`, rates, loads);
    if (w === workers) best = median(rates);
  }
  return best;
}

async function main(): Promise<void> {
  console.log(`load at start ${load()}; Node ${process.version}; ${SIGN_N} signs / ${ISSUE_N} issues per run`);
  const lite = await fixture(undefined);
  const { size } = await signing(lite);
  const results: [string, number][] = [['pglite', await issuing(lite, 'pglite')]];
  await lite.seed.remove();
  await lite.db.close();
  if (process.env.DATABASE_URL) {
    const pg = await fixture(process.env.DATABASE_URL);
    results.push(['postgres', await issuing(pg, 'postgres')]);
    await pg.seed.remove();
    await pg.db.close();
  }
  await closeSignerPool();
  const stats = subtreeCache.stats();
  console.log(`\nSigning (median of ${RUNS}; ms = per credential at that rate; load = 1/5/15-min load average after each run):`);
  for (const l of lines) console.log(l);
  console.log(`  signed credential size ${size} bytes; RDF cache in this thread: ${stats.size} entries, ${stats.hits} hits, ${stats.misses} misses, ${stats.fallbacks} fallbacks`);
  console.log(`  target ≥ 200/s issued: ${results.map(([k, r]) => `${k} ${r >= 200 ? 'met' : 'NOT met'}`).join(', ')}`);
  if (!process.env.DATABASE_URL) console.log('  (set DATABASE_URL=postgres://… to measure PostgreSQL too)');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
