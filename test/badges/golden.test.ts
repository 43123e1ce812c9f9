import fs from 'node:fs';
import path from 'node:path';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { canonize } from '@digitalcredentials/jsonld';
import { canonicalize, signCredential } from '../../src/badges/signing';
import { documentLoader } from '../../src/badges/contexts';
import { multikeyFromSeed, privateKeyFromSeed } from '../../src/badges/multibase';
import { verifyProof } from '../../src/badges/verify';
import { blockNetwork } from './support';

/**
 * 1EdTech's Open Badges 3.0 eddsa-rdfc-2022 test vector (ob_v3p0/impl/linked-data-proof-ob.html): the same
 * key, document and `created` must give the same canonical N-Quads and the same proofValue, bit for bit. That
 * proves our bundled contexts, canonicalization, hashing and signing are exactly 1EdTech's.
 */
const FIXTURES = path.resolve(__dirname, '../fixtures/obv3p0');
const PRIVATE_KEY_HEX = '6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be44bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5';
const PUBLIC_KEY = 'z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi';
const PROOF_VALUE = 'z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr';
const ISSUER = 'https://example.edu/issuers/565049';

const credential = {
  '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
  id: 'http://example.com/credentials/3527',
  type: ['VerifiableCredential', 'OpenBadgeCredential'],
  issuer: { id: ISSUER, type: ['Profile'], url: 'https://www.imsglobal.org', name: 'Example Corp' },
  validFrom: '2010-01-01T00:00:00Z',
  name: 'Teamwork Badge',
  credentialSubject: {
    id: 'did:example:ebfeb1f712ebc6f1c276e12ec21',
    type: ['AchievementSubject'],
    achievement: {
      id: 'https://example.com/achievements/21st-century-skills/teamwork',
      type: ['Achievement'],
      criteria: { narrative: 'Team members are nominated for this badge by their peers and recognized upon review by Example Corp management.' },
      description: 'This badge recognizes the development of the capacity to collaborate within a group environment.',
      name: 'Teamwork',
    },
  },
};

const seed = Buffer.from(PRIVATE_KEY_HEX.slice(0, 64), 'hex');
const proofKey = { verificationMethod: `${ISSUER}#${PUBLIC_KEY}`, privateKey: privateKeyFromSeed(seed) };
const net = blockNetwork();
afterAll(() => net.restore());

test('the public key from the vector seed is the vector Multikey (ours and the library agree)', async () => {
  expect(multikeyFromSeed(seed)).toBe(PUBLIC_KEY);
  expect((await Ed25519Multikey.generate({ seed })).publicKeyMultibase).toBe(PUBLIC_KEY);
});

test('canonical N-Quads of the document and the proof config equal 1EdTech’s files', async () => {
  const loader = documentLoader();
  const doc = await canonize(credential, { algorithm: 'URDNA2015', format: 'application/n-quads', safe: true, documentLoader: loader });
  expect(doc).toBe(fs.readFileSync(path.join(FIXTURES, 'document-canon.txt'), 'utf8').trim() + '\n');
  const proofConfig = { '@context': credential['@context'], type: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', created: '2010-01-01T19:23:24Z', verificationMethod: `${ISSUER}#${PUBLIC_KEY}`, proofPurpose: 'assertionMethod' };
  const proof = await canonize(proofConfig, { algorithm: 'URDNA2015', format: 'application/n-quads', safe: true, documentLoader: loader });
  expect(proof).toBe(fs.readFileSync(path.join(FIXTURES, 'proof-canon.txt'), 'utf8').trim() + '\n');
  // Our signer's canonicalization (jsonld + rdf-canonize, as the cryptosuite does it) gives the same bytes.
  expect(await canonicalize(credential)).toBe(doc);
  expect(await canonicalize(proofConfig)).toBe(proof);
});

test('signing the vector reproduces 1EdTech’s proofValue bit for bit, and it verifies', async () => {
  const signed = await signCredential(structuredClone(credential), proofKey, '2010-01-01T19:23:24Z');
  expect(signed.proof).toEqual({
    type: 'DataIntegrityProof',
    created: '2010-01-01T19:23:24Z',
    verificationMethod: `${ISSUER}#${PUBLIC_KEY}`,
    cryptosuite: 'eddsa-rdfc-2022',
    proofPurpose: 'assertionMethod',
    proofValue: PROOF_VALUE,
  });
  // The raw verifier (DCC's JSON-LD fork + node:crypto) takes the key from the `issuer#z6Mk…` fragment.
  expect(await verifyProof(signed, async () => undefined)).toMatchObject({ ok: true });
  const tampered = structuredClone(signed);
  (tampered as { name: string }).name = 'Teamwork Badge!';
  expect(await verifyProof(tampered, async () => undefined)).toMatchObject({ ok: false });
  expect(net.attempts).toEqual([]);
});

test('our signer and @digitalbazaar/vc produce the same proof for an OB 3.0 credential of ours', async () => {
  const kp = await Ed25519Multikey.generate({ seed, controller: ISSUER, id: `${ISSUER}#${PUBLIC_KEY}` });
  const rich = structuredClone(credential) as Record<string, unknown> & { credentialSubject: Record<string, unknown> };
  rich.credentialSubject = { type: ['AchievementSubject'], identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: 'sha256$00', salt: 'pepper' }], achievement: credential.credentialSubject.achievement, creditsEarned: 1.5 };
  rich.validUntil = '2030-01-01T00:00:00Z';
  rich.credentialStatus = { id: 'https://example.edu/status/1#5', type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '5', statusListCredential: 'https://example.edu/status/1' };
  const date = '2026-01-02T03:04:05Z';
  const ours = await signCredential(structuredClone(rich), proofKey, date);
  const theirs = await vc.issue({ credential: structuredClone(rich), suite: new DataIntegrityProof({ signer: kp.signer(), cryptosuite: eddsaRdfc2022, date }), documentLoader: documentLoader() });
  expect(ours).toEqual(theirs);
  // And the library verifies ours (a third verifier, next to the raw one and DCC's).
  const controller = { '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'], id: ISSUER, assertionMethod: [{ id: `${ISSUER}#${PUBLIC_KEY}`, type: 'Multikey', controller: ISSUER, publicKeyMultibase: PUBLIC_KEY }] };
  const vmDoc = { '@context': 'https://w3id.org/security/multikey/v1', id: `${ISSUER}#${PUBLIC_KEY}`, type: 'Multikey', controller: ISSUER, publicKeyMultibase: PUBLIC_KEY };
  const loader = documentLoader(async (url) => (url === ISSUER ? controller : url === vmDoc.id ? vmDoc : undefined));
  // (The status list is not served here: a status check that ran is enough for the library.)
  const r = await vc.verifyCredential({ credential: ours, suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), documentLoader: loader, checkStatus: async () => ({ verified: true }) });
  expect(r.error?.errors?.map((e) => e.message) ?? r.error?.message).toBeUndefined();
  expect(r.verified).toBe(true);
});

test('signing refuses a term no context defines (JSON-LD safe mode)', async () => {
  await expect(signCredential({ ...structuredClone(credential), lmsCourseId: '42' }, proofKey)).rejects.toThrow(/Safe mode/);
});
