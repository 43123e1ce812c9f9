import crypto from 'node:crypto';
import { canonize as dccCanonize } from '@digitalcredentials/jsonld';
import type { Database } from '../../src/db/database';
import type { Badges, IssueOpenBadgeInput } from '../../src/badges/service';
import { documentLoader, OB3_CONTEXT, VC2_CONTEXT, CLR2_CONTEXT } from '../../src/badges/contexts';
import { canonicalize, canonicalizeUncached, signCredential, type Json, type ProofKey } from '../../src/badges/signing';
import { subtreeCache } from '../../src/badges/rdf';
import { base58btc } from '../../src/badges/multibase';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { blockNetwork } from './support';
import { badgesFor, openTestDb, passingResults, seedTenant, type Seed } from './fixtures';
import { dccVerify, routeDccFetch } from './dcc';

/**
 * The signer converts a credential's achievement and issuer/source Profiles to RDF once and caches the quads
 * (src/badges/rdf.ts). These tests hold the cached path to the uncached one: byte-identical canonical N-Quads
 * (also against DCC's independent JSON-LD implementation) and identical proof values, on credentials that vary in
 * everything a credential varies in; and every credential issued through the cache verifies with both verifiers.
 */

const starter = loadStarterCatalog();
const tl1Rubric = starter.credentials[0]!.definition.rubric;
const tl2Rubric = starter.credentials[1]!.definition.rubric;
const net = blockNetwork();
let db: Database;
let badges: Badges;
let seed: Seed;
let bare: Seed; // no issuer profile (issuer = the tenant's name), Tech Leader II with uploaded PNG art

const PNG_1X1 = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

beforeAll(async () => {
  db = await openTestDb();
  badges = badgesFor(db);
  seed = await seedTenant(db);
  bare = await seedTenant(db, { issuerProfile: false, tl2Png: PNG_1X1 });
  routeDccFetch(net, 'badges.test', async (u) => {
    const did = /^\/issuers\/([0-9a-f-]{36})\/did\.json$/.exec(u.pathname);
    if (did) return Response.json(await badges.didDocument(did[1]!));
    const list = /^\/status\/([0-9a-f-]{36})\/(\d+)$/.exec(u.pathname);
    if (list) return Response.json(await badges.statusListCredential(list[1]!, Number(list[2])));
    return new Response('not found', { status: 404 });
  });
});
afterAll(async () => {
  await seed.remove();
  await bare.remove();
  await db.close();
  net.restore();
});

const loader = documentLoader();
/** DCC's JSON-LD fork and its own rdf-canonize: a second implementation, no cache, no shared code with the signer. */
const independent = (doc: Json) => dccCanonize(doc, { algorithm: 'URDNA2015', format: 'application/n-quads', safe: true, documentLoader: loader });
const unsigned = (c: Json): Json => {
  const { proof: _p, ...rest } = c;
  return rest;
};

/** eddsa-rdfc-2022 computed by hand over the *uncached* canonicalization. */
async function uncachedProofValue(doc: Json, proof: Json, key: ProofKey): Promise<string> {
  const { proofValue: _pv, ...config } = proof;
  const h = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();
  const data = Buffer.concat([h(await canonicalizeUncached({ '@context': doc['@context'], ...config })), h(await canonicalizeUncached(doc))]);
  return 'z' + base58btc(crypto.sign(null, data, key.privateKey));
}

async function expectSameEverywhere(doc: Json): Promise<string> {
  const cached = await canonicalize(doc);
  expect(cached).toBe(await canonicalizeUncached(doc));
  expect(cached).toBe(await independent(doc));
  // And again, now from a warm cache.
  expect(await canonicalize(doc)).toBe(cached);
  return cached;
}

function variants(s: Seed): [string, IssueOpenBadgeInput][] {
  const base = { tenantId: s.tenantId, earner: { ...s.earner, showName: false } };
  return [
    ['TL I, source = issuer, results, evidence', { ...base, achievement: { versionId: s.versions.tl1 }, results: passingResults(tl1Rubric), evidence: [{ sha256: 'a'.repeat(64), name: 'Lesson plan', narrative: 'Scored Meets.' }] }],
    [
      'TL I, name shown, narrative, named source, two evidence items, other levels',
      {
        ...base,
        earner: { ...s.earner, showName: true },
        achievement: { versionId: s.versions.tl1 },
        results: tl1Rubric.criteria.map((c) => ({ criterionId: c.id, levelId: c.levels[c.levels.length - 1]!.id })),
        evidence: [
          { sha256: 'b'.repeat(64), name: 'Unit plan', narrative: 'Two reviewers.', description: 'A <unit> "plan" & notes', genre: 'Lesson Plan' },
          { sha256: 'C'.repeat(64) },
        ],
        narrative: 'Awarded after a second review.\nLine two, with ünïcödé.',
        source: { name: 'Riverside Instructional Technology', url: 'https://riverside.test/it', email: 'it@riverside.test' },
      },
    ],
    ['TL I, no email (systemId), no results, no evidence', { ...base, earner: { userId: s.earner.userId, email: null, name: s.earner.name, showName: false }, achievement: { versionId: s.versions.tl1 } }],
    ['TL II (12-month expiry) awarded on the 31st, source with its own id', { ...base, achievement: { versionId: s.versions.tl2 }, results: passingResults(tl2Rubric), awardedAt: new Date('2026-01-31T10:00:00Z'), source: { id: 'https://reviewers.example.org/', name: 'Regional reviewers' } }],
    ['the stack (LearningProgram, no expiry)', { ...base, achievement: { stackId: s.stackId } }],
  ];
}

describe('cached vs uncached canonicalization', () => {
  it('gives byte-identical N-Quads and proof values on varied credentials, and both verifiers accept every one', async () => {
    subtreeCache.clear();
    const seen = new Set<string>();
    for (const s of [seed, bare]) {
      const key = await badges.keys.signingKey(s.tenantId);
      for (const [name, input] of variants(s)) {
        const issued = await badges.issueOpenBadge(input);
        const doc = unsigned(issued.credential);
        const nquads = await expectSameEverywhere(doc);
        seen.add(nquads);
        // The proof the service made (through the cache) is the one the uncached path gives, bit for bit.
        const proof = issued.credential.proof as Json;
        expect({ name, proofValue: await uncachedProofValue(doc, proof, key) }).toEqual({ name, proofValue: proof.proofValue });
        expect({ name, resigned: (await signCredential(doc, key, proof.created as string)).proof }).toEqual({ name, resigned: proof });
        const ours = await badges.verifyCredential(issued.credential);
        expect({ name, verified: ours.verified, errors: ours.errors }).toEqual({ name, verified: true, errors: [] });
        expect({ name, log: (await dccVerify(issued.credential)).log }).toMatchObject({ name, log: { valid_signature: true, revocation_status: true, expiration: true } });
      }
    }
    expect(seen.size).toBe(10);
    const stats = subtreeCache.stats();
    expect(stats.fallbacks).toBe(0);
    expect(stats.hits).toBeGreaterThan(stats.misses);
    expect(net.attempts).toEqual([]);
  });

  it('many credentials of one version share one cache entry per part and still verify', async () => {
    subtreeCache.clear();
    const input = variants(seed)[0]![1];
    const many = await Promise.all(Array.from({ length: 12 }, () => badges.issueOpenBadge(input)));
    expect(subtreeCache.stats()).toMatchObject({ size: 2, misses: 2, fallbacks: 0 });
    for (const m of many.slice(0, 3)) {
      expect(await canonicalize(unsigned(m.credential))).toBe(await independent(unsigned(m.credential)));
      expect((await badges.verifyCredential(m.credential)).verified).toBe(true);
    }
  });

  it('keys on content and position: the same achievement under other contexts, types or after a change', async () => {
    const issued = await badges.issueOpenBadge(variants(seed)[0]![1]);
    const doc = unsigned(issued.credential) as Json & { credentialSubject: Json & { achievement: Json } };
    const first = await expectSameEverywhere(doc);
    // A changed achievement is another entry, never a stale hit.
    const renamed = structuredClone(doc);
    renamed.credentialSubject.achievement.name = 'Tech Leader I (renamed)';
    expect(await expectSameEverywhere(renamed)).not.toBe(first);
    // Another credential type (AchievementCredential, OB's alias) and the same subtree inside a CLR context.
    await expectSameEverywhere({ ...doc, type: ['VerifiableCredential', 'AchievementCredential'] });
    await expectSameEverywhere({ ...doc, '@context': [VC2_CONTEXT, CLR2_CONTEXT, OB3_CONTEXT] });
    // Key order inside the achievement does not matter to RDF.
    const reordered = { ...doc, credentialSubject: { ...doc.credentialSubject, achievement: Object.fromEntries(Object.entries(doc.credentialSubject.achievement).reverse()) } };
    expect(await expectSameEverywhere(reordered)).toBe(first);
  });

  it('falls back to the whole document when a part cannot be separated, with the same bytes', async () => {
    const issued = await badges.issueOpenBadge(variants(seed)[1]![1]);
    const doc = unsigned(issued.credential) as Json & { credentialSubject: Json & { achievement: Json & { id: string } } };
        // An embedded context inside the achievement, or explicit blank node ids: the achievement is not cached.
    await expectSameEverywhere({ ...doc, credentialSubject: { ...doc.credentialSubject, achievement: { '@context': { extra: 'https://example.org/extra#' }, ...doc.credentialSubject.achievement, extra: 'x' } } });
    await expectSameEverywhere({ ...doc, credentialSubject: { ...doc.credentialSubject, achievement: { ...doc.credentialSubject.achievement, criteria: { id: '_:crit', narrative: 'n' } } } });
    // The achievement's node also described elsewhere (JSON-LD merges the two descriptions): the whole document.
    const before = subtreeCache.stats().fallbacks;
    await expectSameEverywhere({ ...doc, evidence: [{ id: doc.credentialSubject.achievement.id, type: ['Evidence'], name: 'Same node' }] });
    expect(subtreeCache.stats().fallbacks - before).toBe(2); // cold and warm
    // The status list (issuer by reference) and a CLR (achievements in an array) take the plain path and agree too.
    await expectSameEverywhere(unsigned((await badges.statusListCredential(seed.tenantId, 1))!));
    await expectSameEverywhere(unsigned(await badges.issueClr({ tenantId: seed.tenantId, earnerUserId: seed.earner.userId, credentialIds: [issued.id] })));
  });

  it('refuses what safe mode refuses, in the cached part as well', async () => {
    const issued = await badges.issueOpenBadge(variants(seed)[0]![1]);
    const doc = unsigned(issued.credential) as Json & { credentialSubject: Json & { achievement: Json } };
    const key = await badges.keys.signingKey(seed.tenantId);
    await expect(signCredential({ ...doc, credentialSubject: { ...doc.credentialSubject, achievement: { ...doc.credentialSubject.achievement, lmsCourseId: '42' } } }, key)).rejects.toThrow(/Safe mode/);
    await expect(signCredential({ ...doc, issuer: { ...(doc.issuer as Json), lmsId: '42' } }, key)).rejects.toThrow(/Safe mode/);
    await expect(signCredential({ ...doc, credentialSubject: { ...doc.credentialSubject, achievement: { ...doc.credentialSubject.achievement, id: 'relative/achievement' } } }, key)).rejects.toThrow(/Safe mode/);
  });
});
