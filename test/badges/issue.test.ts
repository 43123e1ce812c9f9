import type { Database } from '../../src/db/database';
import type { Badges } from '../../src/badges/service';
import { identityHash } from '../../src/badges/credential';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { blockNetwork } from './support';
import { badgesFor, openTestDb, passingResults, seedTenant, type Seed } from './fixtures';
import { dccVerify, routeDccFetch } from './dcc';

const starter = loadStarterCatalog();
const tl1Rubric = starter.credentials[0]!.definition.rubric;
const net = blockNetwork();
let db: Database;
let badges: Badges;
let seed: Seed;

beforeAll(async () => {
  db = await openTestDb();
  badges = badgesFor(db);
  seed = await seedTenant(db);
  // In-process "web": the DCC verifier resolves our did:web and status lists from the service itself.
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
  await db.close();
  net.restore();
});

const issueTl1 = (over: Partial<Parameters<Badges['issueOpenBadge']>[0]> = {}) =>
  badges.issueOpenBadge({
    tenantId: seed.tenantId,
    earner: { ...seed.earner, showName: false },
    achievement: { versionId: seed.versions.tl1 },
    results: passingResults(tl1Rubric),
    evidence: [{ sha256: 'a'.repeat(64), name: 'Lesson plan', narrative: 'Scored Meets on every criterion by two reviewers.' }],
    source: { name: 'Riverside Instructional Technology', url: 'https://riverside.test/it' },
    ...over,
  });

describe('issueOpenBadge', () => {
  it('signs an OpenBadgeCredential with the OB 3.0 shape the spec asks for', async () => {
    const issued = await issueTl1();
    const c = issued.credential as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(c['@context']).toEqual(['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json']);
    expect(c.type).toEqual(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(c.id).toBe(`https://badges.test/credentials/${issued.id}`);
    expect(c.issuer).toMatchObject({ id: `did:web:badges.test:issuers:${seed.tenantId}`, type: ['Profile'], name: 'Riverside Schools', url: 'https://riverside.test', email: 'badges@riverside.test' });
    expect(c.name).toBe('Tech Leader I');
    // 36 months of validity
    expect(new Date(c.validUntil).getUTCFullYear() - new Date(c.validFrom).getUTCFullYear()).toBe(3);
    const s = c.credentialSubject;
    expect(s.type).toEqual(['AchievementSubject']);
    // Not opted in: only the salted email hash, no name anywhere.
    expect(s.identifier).toEqual([{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: expect.stringMatching(/^sha256\$[0-9a-f]{64}$/), salt: expect.any(String) }]);
    expect(s.identifier[0].identityHash).toBe(identityHash('dana.earner@school.test', s.identifier[0].salt));
    expect(JSON.stringify(c)).not.toContain('Dana');
    const a = s.achievement;
    expect(a).toMatchObject({ id: `https://badges.test/achievements/${seed.versions.tl1}`, type: ['Achievement'], achievementType: 'MicroCredential', name: 'Tech Leader I', creditsAvailable: 1.5, image: { id: `https://badges.test/achievements/${seed.versions.tl1}/image`, type: 'Image' } });
    expect(a.criteria.narrative).toBeTruthy();
    expect(a.alignment.length).toBeGreaterThan(0);
    expect(a.resultDescription).toHaveLength(4);
    expect(a.microcred).toBeUndefined();
    expect(s.result).toHaveLength(4);
    expect(s.result[0]).toEqual({ type: ['Result'], resultDescription: `${a.id}/criteria/digital-citizenship`, achievedLevel: `${a.id}/criteria/digital-citizenship/levels/meets` });
    expect(s.creditsEarned).toBe(1.5);
    expect(s.source).toEqual({ id: `https://badges.test/issuers/${seed.tenantId}#reviewers`, type: ['Profile'], name: 'Riverside Instructional Technology', url: 'https://riverside.test/it' });
    expect(c.evidence).toEqual([{ id: `urn:sha256:${'a'.repeat(64)}`, type: ['Evidence'], name: 'Lesson plan', narrative: 'Scored Meets on every criterion by two reviewers.' }]);
    expect(c.credentialStatus).toEqual({ id: `${issued.statusListCredential}#${issued.statusListIndex}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(issued.statusListIndex), statusListCredential: `https://badges.test/status/${seed.tenantId}/1` });
    expect(c.proof).toMatchObject({ type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', proofPurpose: 'assertionMethod', verificationMethod: `did:web:badges.test:issuers:${seed.tenantId}#key-1` });
  });

  it('names the earner only when they opted in', async () => {
    const issued = await issueTl1({ earner: { ...seed.earner, showName: true } });
    const ids = (issued.credential.credentialSubject as { identifier: { identityType: string; identityHash: string }[] }).identifier;
    expect(ids.map((i) => i.identityType)).toEqual(['emailAddress', 'name']);
    expect(ids[1]!.identityHash).toBe('Dana Earner');
  });

  it('verifies with our verifier and the independent DCC verifier; tampering, revocation and expiry each fail the right check', async () => {
    const issued = await issueTl1();
    const ours = await badges.verifyCredential(issued.credential);
    expect(ours).toMatchObject({ verified: true, errors: [], checks: { proof: { ok: true }, issuer: { ok: true }, status: { ok: true }, expiry: { ok: true } } });
    expect((await dccVerify(issued.credential)).log).toMatchObject({ valid_signature: true, revocation_status: true, expiration: true });

    // Tampered: one field changed.
    const tampered = structuredClone(issued.credential) as { credentialSubject: { creditsEarned: number } };
    tampered.credentialSubject.creditsEarned = 15;
    const t = await badges.verifyCredential(tampered);
    expect(t.verified).toBe(false);
    expect(t.checks.proof.ok).toBe(false);
    expect(t.checks.expiry.ok).toBe(true);
    expect((await dccVerify(tampered)).fatal).toContain('invalid_signature');

    // Revoked: the status bit flips, the list is re-signed.
    await badges.revoke(issued.id, 'Evidence was plagiarised');
    const r = await badges.verifyCredential(issued.credential);
    expect(r.verified).toBe(false);
    expect(r.checks).toMatchObject({ proof: { ok: true }, status: { ok: false, message: 'The issuer has revoked this credential.' }, expiry: { ok: true } });
    expect((await dccVerify(issued.credential)).log).toMatchObject({ valid_signature: true, revocation_status: false });
    // Revoking again keeps the first reason.
    expect((await badges.revoke(issued.id, 'again')).revocationReason).toBe('Evidence was plagiarised');

    // Expired: awarded 13 months ago with Tech Leader II's 12-month validity.
    const old = new Date(Date.now() - 396 * 24 * 3600 * 1000);
    const expired = await issueTl1({ achievement: { versionId: seed.versions.tl2 }, results: passingResults(starter.credentials[1]!.definition.rubric), awardedAt: old });
    const e = await badges.verifyCredential(expired.credential);
    expect(e.verified).toBe(false);
    expect(e.checks).toMatchObject({ proof: { ok: true }, status: { ok: true }, expiry: { ok: false } });
    expect((await dccVerify(expired.credential)).log).toMatchObject({ valid_signature: true, expiration: false });
    expect(net.attempts).toEqual([]);
  });

  it('is idempotent per award, and refuses unknown rubric levels and other tenants’ versions', async () => {
    const awardId = crypto.randomUUID();
    const [a, b] = await Promise.all([issueTl1({ awardId }), issueTl1({ awardId })]);
    expect(b.id).toBe(a.id);
    await expect(issueTl1({ results: [{ criterionId: 'digital-citizenship', levelId: 'superb' }] })).rejects.toThrow(/not in the rubric/);
    const other = await seedTenant(db);
    try {
      await expect(issueTl1({ achievement: { versionId: other.versions.tl1 } })).rejects.toThrow(/could not find/i);
    } finally {
      await other.remove();
    }
  });

  it('issues a stack credential (LearningProgram) whose credits are the members’ CEUs', async () => {
    const issued = await badges.issueOpenBadge({ tenantId: seed.tenantId, earner: { ...seed.earner, showName: false }, achievement: { stackId: seed.stackId } });
    const a = (issued.credential.credentialSubject as { achievement: Record<string, unknown> }).achievement;
    expect(a).toMatchObject({ id: `https://badges.test/achievements/stacks/${seed.stackId}`, achievementType: 'LearningProgram', creditsAvailable: 3.5, name: 'Tech Leader' });
    expect(issued.credential.validUntil).toBeUndefined();
    expect((await badges.verifyCredential(issued.credential)).verified).toBe(true);
  });

  it('allocates distinct status indexes under concurrency, and revocations of one list are all kept', async () => {
    const many = await Promise.all(Array.from({ length: 40 }, () => issueTl1()));
    const slots = new Set(many.map((m) => `${m.statusListCredential}#${m.statusListIndex}`));
    expect(slots.size).toBe(40);
    await Promise.all(many.slice(0, 10).map((m) => badges.revoke(m.id, 'test')));
    const results = await Promise.all(many.slice(0, 12).map((m) => badges.verifyCredential(m.credential)));
    expect(results.map((r) => r.checks.status.ok)).toEqual([...Array(10).fill(false), true, true]);
  });

  it('rotates the issuer key: new credentials use key-2, old ones still verify', async () => {
    // A tenant of its own: the DCC verifier caches DID documents it resolved, as real verifiers do.
    const other = await seedTenant(db);
    try {
      const issue = () => badges.issueOpenBadge({ tenantId: other.tenantId, earner: { ...other.earner, showName: false }, achievement: { versionId: other.versions.tl1 }, results: passingResults(tl1Rubric) });
      const before = await issue();
      await badges.keys.rotate(other.tenantId);
      const after = await issue();
      expect((after.credential.proof as { verificationMethod: string }).verificationMethod).toMatch(/#key-2$/);
      const doc = await badges.didDocument(other.tenantId);
      expect(doc!.assertionMethod).toEqual([`did:web:badges.test:issuers:${other.tenantId}#key-1`, `did:web:badges.test:issuers:${other.tenantId}#key-2`]);
      for (const c of [before, after]) {
        expect((await badges.verifyCredential(c.credential)).verified).toBe(true);
        expect((await dccVerify(c.credential)).log.valid_signature).toBe(true);
      }
    } finally {
      await other.remove();
    }
  });
});
