import type { Database } from '../../src/db/database';
import { Badges } from '../../src/badges/service';
import { signCredential, type Json } from '../../src/badges/signing';
import { closeSignerPool, SignerPool } from '../../src/badges/signerPool';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { blockNetwork } from './support';
import { badgesFor, openTestDb, passingResults, seedTenant, TEST_SECRET, type Seed } from './fixtures';
import { dccVerify, routeDccFetch } from './dcc';

/**
 * Signing on worker threads (signerPool.ts) gives exactly what signing in this thread gives, and what it issues
 * verifies with both verifiers.
 */

const starter = loadStarterCatalog();
const tl1Rubric = starter.credentials[0]!.definition.rubric;
const net = blockNetwork();
let db: Database;
let pooled: Badges;
let seed: Seed;

beforeAll(async () => {
  db = await openTestDb();
  pooled = new Badges({ orm: db.orm, publicUrl: 'https://badges.test', secretKey: TEST_SECRET, signingWorkers: 2 });
  seed = await seedTenant(db);
  const reader = badgesFor(db);
  routeDccFetch(net, 'badges.test', async (u) => {
    const did = /^\/issuers\/([0-9a-f-]{36})\/did\.json$/.exec(u.pathname);
    if (did) return Response.json(await reader.didDocument(did[1]!));
    const list = /^\/status\/([0-9a-f-]{36})\/(\d+)$/.exec(u.pathname);
    if (list) return Response.json(await reader.statusListCredential(list[1]!, Number(list[2])));
    return new Response('not found', { status: 404 });
  });
});
afterAll(async () => {
  await closeSignerPool();
  await seed.remove();
  await db.close();
  net.restore();
});

const unsigned = (c: Json): Json => {
  const { proof: _p, ...rest } = c;
  return rest;
};

test('credentials issued through the pool are the in-thread signer’s, bit for bit, and both verifiers accept them', async () => {
  const base = { tenantId: seed.tenantId, earner: { ...seed.earner, showName: false } };
  const inputs = [
    { ...base, achievement: { versionId: seed.versions.tl1 }, results: passingResults(tl1Rubric), evidence: [{ sha256: 'a'.repeat(64), name: 'Plan' }] },
    { ...base, earner: { ...seed.earner, showName: true }, achievement: { versionId: seed.versions.tl2 }, narrative: 'Second review.', source: { name: 'Reviewers', url: 'https://reviewers.test' } },
    { ...base, achievement: { stackId: seed.stackId } },
  ];
  const key = await pooled.keys.signingKey(seed.tenantId);
  for (const input of inputs) {
    const issued = await pooled.issueOpenBadge(input);
    const proof = issued.credential.proof as Json;
    expect(await signCredential(unsigned(issued.credential), key, proof.created as string)).toEqual(issued.credential);
    expect((await pooled.verifyCredential(issued.credential)).verified).toBe(true);
    expect((await dccVerify(issued.credential)).log).toMatchObject({ valid_signature: true, revocation_status: true, expiration: true });
  }
  expect(net.attempts).toEqual([]);
});

test('concurrent issues spread over the workers and all verify', async () => {
  const many = await Promise.all(Array.from({ length: 24 }, () => pooled.issueOpenBadge({ tenantId: seed.tenantId, earner: { ...seed.earner, showName: false }, achievement: { versionId: seed.versions.tl1 }, results: passingResults(tl1Rubric) })));
  expect(new Set(many.map((m) => m.id)).size).toBe(24);
  const results = await Promise.all(many.map((m) => pooled.verifyCredential(m.credential)));
  expect(results.every((r) => r.verified)).toBe(true);
});

test('a job that fails rejects with the worker’s error; the pool keeps working, stops and starts again', async () => {
  const pool = new SignerPool(1);
  const key = await pooled.keys.signingKey(seed.tenantId);
  const doc = unsigned((await pooled.issueOpenBadge({ tenantId: seed.tenantId, earner: { ...seed.earner, showName: false }, achievement: { versionId: seed.versions.tl1 } })).credential);
  try {
    await expect(pool.sign({ ...doc, lmsCourseId: '42' }, key)).rejects.toThrow(/Safe mode/);
    await expect(pool.sign({ ...doc, proof: {} }, key)).rejects.toThrow(/already signed/);
    // Not cloneable: refused before it reaches a worker.
    await expect(pool.sign({ ...doc, bad: () => 1 }, key)).rejects.toThrow();
    const signed = await pool.sign(doc, key, '2026-01-02T03:04:05Z');
    expect(signed).toEqual(await signCredential(doc, key, '2026-01-02T03:04:05Z'));
    expect(pool.running).toBe(1);
    await pool.close();
    expect(pool.running).toBe(0);
    expect(await pool.sign(doc, key, '2026-01-02T03:04:05Z')).toEqual(signed);
  } finally {
    await pool.close();
  }
});
