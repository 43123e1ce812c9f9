/**
 * `npm run bench:sign`: how many Open Badges 3.0 credentials per second microcred signs.
 *
 * Two figures, each the median of 3 runs:
 * - sign: `signCredential` alone (canonicalize + Ed25519) on a full Tech Leader I credential (rubric results,
 *   alignments, evidence, status entry), one after another on one core: the cost the award command adds per award;
 * - issue: `Badges.issueOpenBadge` end to end (achievement, issuer, status slot, sign, INSERT), 8 at a time, on
 *   the embedded database (or DATABASE_URL): what a bulk award sees.
 * Target: ≥ 200 signed credentials per second on the 2-core machine.
 */
import { openDatabase, migrate } from '../src/db/database';
import { Badges } from '../src/badges/service';
import { signCredential } from '../src/badges/signing';
import { loadStarterCatalog } from '../src/catalog/commands/starter';
import { seedTenant, passingResults, TEST_SECRET } from '../test/badges/fixtures';

const SIGN_N = Number(process.env.BENCH_SIGN_N ?? 400);
const ISSUE_N = Number(process.env.BENCH_ISSUE_N ?? 300);
const CONCURRENCY = 8;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const db = await openDatabase({ url: process.env.DATABASE_URL, poolMax: CONCURRENCY + 2 });
  await migrate(db);
  const seed = await seedTenant(db);
  const badges = new Badges({ orm: db.orm, publicUrl: 'https://microcred.example.edu', secretKey: TEST_SECRET });
  const rubric = loadStarterCatalog().credentials[0]!.definition.rubric;
  const input = {
    tenantId: seed.tenantId,
    earner: { ...seed.earner, showName: false },
    achievement: { versionId: seed.versions.tl1 },
    results: passingResults(rubric),
    evidence: [{ sha256: 'a'.repeat(64), name: 'Lesson plan', narrative: 'Scored Meets on every criterion.' }],
  };
  // Warm up (first key, contexts, JIT) and take a realistic unsigned credential to re-sign.
  const sample = await badges.issueOpenBadge(input);
  const { proof: _p, ...unsigned } = sample.credential;
  const key = await badges.keys.signingKey(seed.tenantId);
  for (let i = 0; i < 20; i++) await signCredential({ ...unsigned, id: `urn:uuid:${crypto.randomUUID()}` }, key);

  const signRates: number[] = [];
  const issueRates: number[] = [];
  for (let run = 1; run <= 3; run++) {
    let t = performance.now();
    for (let i = 0; i < SIGN_N; i++) await signCredential({ ...unsigned, id: `urn:uuid:${crypto.randomUUID()}` }, key);
    signRates.push(SIGN_N / ((performance.now() - t) / 1000));

    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < ISSUE_N) await badges.issueOpenBadge(input);
      }),
    );
    issueRates.push(ISSUE_N / ((performance.now() - t) / 1000));
    console.log(`run ${run}: sign ${signRates.at(-1)!.toFixed(0)}/s, issue ${issueRates.at(-1)!.toFixed(0)}/s`);
  }
  const size = Buffer.byteLength(JSON.stringify(sample.credential));
  console.log(`\nSigning (median of 3, ${db.kind}, Node ${process.version}, ${SIGN_N} signs / ${ISSUE_N} issues per run):`);
  console.log(`  signCredential          ${median(signRates).toFixed(0)} credentials/s (${(1000 / median(signRates)).toFixed(2)} ms each)`);
  console.log(`  issueOpenBadge (x${CONCURRENCY})     ${median(issueRates).toFixed(0)} credentials/s, incl. status slot and INSERT`);
  console.log(`  signed credential size  ${size} bytes`);
  console.log(`  target ≥ 200/s: ${median(signRates) >= 200 ? 'met' : 'NOT met'} (sign), ${median(issueRates) >= 200 ? 'met' : 'NOT met'} (issue)`);
  await seed.remove();
  await db.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
