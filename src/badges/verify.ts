import crypto from 'node:crypto';
import { canonize } from '@digitalcredentials/jsonld';
import { documentLoader, OfflineDocumentError, VC2_CONTEXT, type LocalResolver } from './contexts';
import { base58btcDecode, publicKeyFromMultikey } from './multibase';
import { decodeBitstring, getBit } from './bitstring';

/**
 * An `eddsa-rdfc-2022` verifier built from primitives, independent of the signing stack: DCC's JSON-LD processor
 * (`@digitalcredentials/jsonld`, its own rdf-canonize) and node:crypto Ed25519, not `@digitalbazaar/vc`
 * (research/openbadges.md §4.6). It runs offline: contexts are bundled, and our own DID documents and status
 * lists come from `resolve` (the database, in-process). did:key and `<url>#z6Mk…` keys need no lookup; any
 * other issuer cannot be checked without the network, and we say so rather than guess.
 */

export interface Check {
  /** true: passed; false: failed; null: could not be checked (offline, or not applicable before an earlier failure). */
  ok: boolean | null;
  message: string;
}

export interface CredentialSummary {
  id: string | null;
  types: string[];
  name: string | null;
  issuerId: string | null;
  issuerName: string | null;
  achievementName: string | null;
  validFrom: string | null;
  validUntil: string | null;
}

export interface VerificationResult {
  verified: boolean;
  checks: { format: Check; proof: Check; issuer: Check; status: Check; expiry: Check };
  errors: string[];
  summary: CredentialSummary;
  /** For a CLR: the result of every credential inside it. */
  inner?: VerificationResult[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const contextsOnly = documentLoader();
const canon = (doc: Json, loader = contextsOnly) => canonize(doc, { algorithm: 'URDNA2015', format: 'application/n-quads', safe: true, documentLoader: loader });
const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();

export interface ProofResult extends Check {
  verificationMethod?: string;
  /** Who controls the key (a DID or URL); the issuer check compares it with the credential's issuer. */
  controller?: string;
}

/** Resolves the proof's key and checks the signature over the canonical document. */
export async function verifyProof(credential: Json, resolve: LocalResolver): Promise<ProofResult> {
  const proofs = list(credential.proof).filter(isObj);
  if (proofs.length === 0) return { ok: false, message: 'The credential has no proof (it is not signed).' };
  const proof = proofs.find((p) => p.type === 'DataIntegrityProof' && p.cryptosuite === 'eddsa-rdfc-2022');
  if (!proof) return { ok: null, message: `This proof type is not supported here (${proofs.map((p) => String(p.cryptosuite ?? p.type)).join(', ')}); microcred checks DataIntegrityProof eddsa-rdfc-2022.` };
  if (proof.proofPurpose !== 'assertionMethod') return { ok: false, message: 'The proof’s purpose is not assertionMethod.' };
  const vm = str(proof.verificationMethod);
  const proofValue = str(proof.proofValue);
  if (!vm || !proofValue?.startsWith('z')) return { ok: false, message: 'The proof has no verification method or no proof value.' };

  const key = await resolveKey(vm, resolve);
  if ('error' in key) return { ok: key.unknown ? null : false, message: key.error, verificationMethod: vm };
  const publicKey = publicKeyFromMultikey(key.publicKeyMultibase);
  if (!publicKey) return { ok: false, message: 'The signing key is not an Ed25519 Multikey.', verificationMethod: vm };

  const { proof: _all, ...doc } = credential;
  const { proofValue: _pv, ...proofConfig } = proof;
  let hashData: Buffer;
  try {
    hashData = Buffer.concat([sha256(await canon({ ...proofConfig, '@context': doc['@context'] })), sha256(await canon(doc))]);
  } catch (err) {
    if (err instanceof OfflineDocumentError || (err as { details?: { url?: string } }).details?.url) {
      return { ok: null, message: `The credential uses a JSON-LD context microcred does not have offline (${(err as { url?: string; details?: { url?: string } }).url ?? (err as { details?: { url?: string } }).details?.url}).`, verificationMethod: vm };
    }
    return { ok: false, message: `The credential is not valid JSON-LD: ${(err as Error).message}`, verificationMethod: vm };
  }
  const signature = base58btcDecode(proofValue.slice(1));
  const valid = signature !== null && signature.length === 64 && crypto.verify(null, hashData, publicKey, signature);
  return valid
    ? { ok: true, message: 'The signature matches: the credential has not been changed since it was signed.', verificationMethod: vm, controller: key.controller }
    : { ok: false, message: 'The signature does not match: the credential was changed after it was signed, or signed with another key.', verificationMethod: vm, controller: key.controller };
}

async function resolveKey(vm: string, resolve: LocalResolver): Promise<{ publicKeyMultibase: string; controller: string } | { error: string; unknown?: boolean }> {
  const [base, fragment] = vm.split('#') as [string, string | undefined];
  if (base.startsWith('did:key:')) {
    const mb = base.slice('did:key:'.length);
    if (fragment && fragment !== mb) return { error: 'The did:key verification method names a different key.' };
    return { publicKeyMultibase: mb, controller: base };
  }
  if (base.startsWith('did:')) {
    let doc: unknown;
    try {
      doc = await resolve(base);
    } catch {
      doc = undefined;
    }
    if (!isObj(doc)) return { error: `The issuer ${base} is not one microcred can look up offline.`, unknown: true };
    const vmEntry = list(doc.verificationMethod).filter(isObj).find((v) => v.id === vm);
    const asserted = list(doc.assertionMethod).some((a) => a === vm || (isObj(a) && a.id === vm));
    if (!vmEntry || !asserted) return { error: 'The signing key is not (or no longer) one of the issuer’s assertion keys.' };
    const mb = str(vmEntry.publicKeyMultibase);
    if (!mb) return { error: 'The issuer’s key has no publicKeyMultibase.' };
    return { publicKeyMultibase: mb, controller: str(vmEntry.controller) ?? base };
  }
  // `https://issuer#z6Mk…`: the key is in the fragment (1EdTech's examples; their validator reads it the same way).
  if (/^https?:\/\//.test(base) && fragment?.startsWith('z6Mk')) return { publicKeyMultibase: fragment, controller: base };
  return { error: `The key ${vm} is not one microcred can look up offline.`, unknown: true };
}

function summarize(c: Json): CredentialSummary {
  const issuer = c.issuer;
  const subject = list(c.credentialSubject).filter(isObj)[0];
  const achievement = subject && isObj(subject.achievement) ? subject.achievement : undefined;
  return {
    id: str(c.id),
    types: list(c.type).filter((t): t is string => typeof t === 'string'),
    name: str(c.name),
    issuerId: isObj(issuer) ? str(issuer.id) : str(issuer),
    issuerName: isObj(issuer) ? str(issuer.name) : null,
    achievementName: achievement ? str(achievement.name) : null,
    validFrom: str(c.validFrom) ?? str(c.issuanceDate),
    validUntil: str(c.validUntil) ?? str(c.expirationDate),
  };
}

const SKIPPED: Check = { ok: null, message: 'Not checked.' };

/** Checks a credential: format, proof, issuer (key controller), status list and validity dates. */
export async function verifyCredentialJson(input: unknown, resolve: LocalResolver, now = new Date()): Promise<VerificationResult> {
  const fail = (message: string): VerificationResult => ({
    verified: false,
    checks: { format: { ok: false, message }, proof: SKIPPED, issuer: SKIPPED, status: SKIPPED, expiry: SKIPPED },
    errors: [message],
    summary: summarize(isObj(input) ? input : {}),
  });
  if (!isObj(input)) return fail('This is not a credential: expected a JSON object.');
  const contexts = list(input['@context']);
  const types = list(input.type);
  if (contexts[0] !== VC2_CONTEXT && contexts[0] !== 'https://www.w3.org/2018/credentials/v1') return fail('This is not a W3C Verifiable Credential (its first @context is not the VC context).');
  if (!types.includes('VerifiableCredential')) return fail('This is not a Verifiable Credential (its type lacks VerifiableCredential).');
  if (typeof input.id === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(input.id)) return fail('The credential id is not a URI.');
  const summary = summarize(input);
  const format: Check = { ok: true, message: types.includes('OpenBadgeCredential') || types.includes('AchievementCredential') ? 'An Open Badges 3.0 credential.' : types.includes('ClrCredential') ? 'A Comprehensive Learner Record (CLR 2.0).' : 'A Verifiable Credential.' };

  const proofResult = await verifyProof(input, resolve);
  const proof: Check = { ok: proofResult.ok, message: proofResult.message };

  let issuer: Check;
  if (!summary.issuerId) issuer = { ok: false, message: 'The credential names no issuer.' };
  else if (!proofResult.controller) issuer = { ok: null, message: 'The issuer could not be checked because the key was not found.' };
  else if (proofResult.controller !== summary.issuerId) issuer = { ok: false, message: `The key belongs to ${proofResult.controller}, not to the issuer ${summary.issuerId}.` };
  else issuer = { ok: true, message: `Signed by the issuer’s own key (${summary.issuerId}).` };

  const status = await checkStatus(input, summary.issuerId, resolve);
  const expiry = checkDates(summary, now);

  const checks = { format, proof, issuer, status, expiry };
  const errors = Object.values(checks)
    .filter((c) => c.ok !== true)
    .map((c) => c.message);
  const result: VerificationResult = { verified: errors.length === 0, checks, errors, summary };
  if (types.includes('ClrCredential')) {
    const subject = list(input.credentialSubject).filter(isObj)[0];
    const inner = list(subject?.verifiableCredential);
    result.inner = await Promise.all(inner.map((c) => verifyCredentialJson(c, resolve, now)));
    const bad = result.inner.filter((r) => !r.verified).length;
    if (bad) {
      result.verified = false;
      result.errors.push(`${bad} of the ${inner.length} credentials in this record did not verify.`);
    }
  }
  return result;
}

function checkDates(s: CredentialSummary, now: Date): Check {
  const from = s.validFrom ? Date.parse(s.validFrom) : NaN;
  if (s.validFrom && Number.isNaN(from)) return { ok: false, message: 'The credential’s start date is not a date.' };
  if (!Number.isNaN(from) && from > now.getTime()) return { ok: false, message: `The credential is not valid before ${s.validFrom}.` };
  if (s.validUntil) {
    const until = Date.parse(s.validUntil);
    if (Number.isNaN(until)) return { ok: false, message: 'The credential’s expiry date is not a date.' };
    if (until <= now.getTime()) return { ok: false, message: `The credential expired on ${s.validUntil}.` };
    return { ok: true, message: `Valid until ${s.validUntil}.` };
  }
  return { ok: true, message: 'It does not expire.' };
}

async function checkStatus(c: Json, issuerId: string | null, resolve: LocalResolver): Promise<Check> {
  const entries = list(c.credentialStatus).filter(isObj);
  if (entries.length === 0) return { ok: true, message: 'The issuer keeps no revocation list for it.' };
  for (const e of entries) {
    if (e.type !== 'BitstringStatusListEntry') return { ok: null, message: `The status method ${String(e.type)} cannot be checked here.` };
    if (e.statusPurpose !== 'revocation' && e.statusPurpose !== 'suspension') continue;
    const listUrl = str(e.statusListCredential);
    const index = Number(e.statusListIndex);
    if (!listUrl || !Number.isInteger(index) || index < 0) return { ok: false, message: 'The status entry is malformed.' };
    let listCred: unknown;
    try {
      listCred = await resolve(listUrl);
    } catch {
      listCred = undefined;
    }
    if (!isObj(listCred)) return { ok: null, message: `The status list ${listUrl} cannot be fetched offline.` };
    // The list must be signed by the same issuer, or anyone could "un-revoke" by serving another list.
    const listProof = await verifyProof(listCred, resolve);
    const listIssuer = isObj(listCred.issuer) ? str(listCred.issuer.id) : str(listCred.issuer);
    if (listProof.ok !== true || listIssuer !== issuerId || listProof.controller !== issuerId) return { ok: false, message: 'The status list is not validly signed by the issuer.' };
    const subject = list(listCred.credentialSubject).filter(isObj)[0];
    const encoded = subject ? str(subject.encodedList) : null;
    if (!encoded || (subject?.statusPurpose && subject.statusPurpose !== e.statusPurpose)) return { ok: false, message: 'The status list is malformed.' };
    const bits = decodeBitstring(encoded);
    if (index >= bits.length * 8) return { ok: false, message: 'The status index is outside the status list.' };
    if (getBit(bits, index)) return { ok: false, message: e.statusPurpose === 'revocation' ? 'The issuer has revoked this credential.' : 'The issuer has suspended this credential.' };
  }
  return { ok: true, message: 'Not revoked (checked against the issuer’s status list).' };
}
