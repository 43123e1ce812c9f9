import crypto from 'node:crypto';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { aadFor, Secrets } from '../crypto/secrets';
import { issuerKeys, type IssuerKeyRow } from './schema';
import { DID_CONTEXT, MULTIKEY_CONTEXT } from './contexts';
import { multikeyFromSeed, privateKeyFromSeed } from './multibase';
import type { ProofKey } from './signing';

/**
 * Issuer identity: one `did:web` per tenant on the tool's own host, `did:web:<host>:issuers:<tenantKey>` (the
 * tenant key is the tenant's id), whose document is served at `/issuers/<tenantKey>/did.json`. did:web on our host
 * is what both the DCC verifier and 1EdTech's validator resolve (research/openbadges.md §2).
 */

export interface IssuerUrls {
  did: string;
  /** The issuer Profile (JSON) and the DID document over HTTP. */
  profileUrl: string;
  didDocumentUrl: string;
}

export function issuerUrls(publicUrl: string, tenantKey: string): IssuerUrls {
  const u = new URL(publicUrl);
  // did:web: the port's colon is percent-encoded; path segments become ':'-separated.
  const segments = u.pathname.split('/').filter(Boolean).map(encodeURIComponent);
  const did = ['did:web', encodeURIComponent(u.host), ...segments, 'issuers', tenantKey].join(':');
  return { did, profileUrl: `${publicUrl}/issuers/${tenantKey}`, didDocumentUrl: `${publicUrl}/issuers/${tenantKey}/did.json` };
}

/** The tenant key named by a DID of ours, or undefined when the DID is not one of this host's issuers. */
export function tenantKeyOfDid(publicUrl: string, did: string): string | undefined {
  const prefix = issuerUrls(publicUrl, 'X').did.slice(0, -1);
  if (!did.startsWith(prefix)) return undefined;
  const key = did.slice(prefix.length);
  return /^[0-9a-f-]{36}$/.test(key) ? key : undefined;
}

export interface SigningKey extends ProofKey {
  row: IssuerKeyRow;
}

export interface VerificationMethod {
  id: string;
  type: 'Multikey';
  controller: string;
  publicKeyMultibase: string;
}

export interface DidDocument {
  '@context': string[];
  id: string;
  verificationMethod: VerificationMethod[];
  assertionMethod: string[];
}

const ACTIVE_TTL_MS = 60_000;

export class IssuerKeys {
  private readonly secrets: Secrets;
  private readonly privateKeys = new Map<string, crypto.KeyObject>();
  private readonly active = new Map<string, { key: SigningKey; at: number }>();

  constructor(
    private readonly orm: Orm,
    private readonly publicUrl: string,
    secretKey: string,
  ) {
    this.secrets = new Secrets(secretKey, 'badge-issuer-keys');
  }

  urls(tenantId: string): IssuerUrls {
    return issuerUrls(this.publicUrl, tenantId);
  }

  /** The tenant's signing key, generated on first use (concurrent first uses agree on one key). */
  async signingKey(tenantId: string, orm: Orm = this.orm): Promise<SigningKey> {
    const cached = this.active.get(tenantId);
    if (cached && Date.now() - cached.at < ACTIVE_TTL_MS) return cached.key;
    let row = await this.newestKey(tenantId, orm);
    if (!row) {
      await orm
        .insert(issuerKeys)
        .values(this.newKeyValues(tenantId, 1))
        .onConflictDoNothing({ target: [issuerKeys.tenantId, issuerKeys.keyNumber] });
      row = await this.newestKey(tenantId, orm);
    }
    if (!row) throw new Error('the issuer key could not be created');
    const key = this.toSigningKey(row);
    this.active.set(tenantId, { key, at: Date.now() });
    return key;
  }

  /** Starts signing with a new key; the old ones stay in the DID document so what they signed still verifies. */
  async rotate(tenantId: string): Promise<SigningKey> {
    const row = await this.orm.transaction(async (tx) => {
      // Serialize rotations of one tenant: the advisory lock is released at commit.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'issuer_keys:' + tenantId}))`);
      const [last] = await tx.select().from(issuerKeys).where(eq(issuerKeys.tenantId, tenantId)).orderBy(desc(issuerKeys.keyNumber)).limit(1);
      await tx
        .update(issuerKeys)
        .set({ retiredAt: new Date() })
        .where(and(eq(issuerKeys.tenantId, tenantId), isNull(issuerKeys.retiredAt)));
      const [created] = await tx
        .insert(issuerKeys)
        .values(this.newKeyValues(tenantId, (last?.keyNumber ?? 0) + 1))
        .returning();
      return created!;
    });
    const key = this.toSigningKey(row);
    this.active.set(tenantId, { key, at: Date.now() });
    return key;
  }

  /** Every key the tenant ever had (oldest first), or none before its first credential. */
  async allKeys(tenantId: string): Promise<IssuerKeyRow[]> {
    return this.orm.select().from(issuerKeys).where(eq(issuerKeys.tenantId, tenantId)).orderBy(asc(issuerKeys.keyNumber));
  }

  /** The DID document: every key as a Multikey, `assertionMethod` as absolute DID URLs, controller = the DID. */
  async didDocument(tenantId: string): Promise<DidDocument | undefined> {
    const rows = await this.allKeys(tenantId);
    if (rows.length === 0) return undefined;
    const { did } = this.urls(tenantId);
    const vms = rows.map((r) => ({ id: `${did}#key-${r.keyNumber}`, type: 'Multikey' as const, controller: did, publicKeyMultibase: r.publicKeyMultibase }));
    return { '@context': [DID_CONTEXT, MULTIKEY_CONTEXT], id: did, verificationMethod: vms, assertionMethod: vms.map((v) => v.id) };
  }

  private async newestKey(tenantId: string, orm: Orm = this.orm): Promise<IssuerKeyRow | undefined> {
    const [row] = await orm
      .select()
      .from(issuerKeys)
      .where(and(eq(issuerKeys.tenantId, tenantId), isNull(issuerKeys.retiredAt)))
      .orderBy(desc(issuerKeys.keyNumber))
      .limit(1);
    return row;
  }

  private newKeyValues(tenantId: string, keyNumber: number) {
    const seed = crypto.randomBytes(32);
    const publicKeyMultibase = multikeyFromSeed(seed);
    return { tenantId, keyNumber, publicKeyMultibase, sealedSeed: this.secrets.seal(seed.toString('base64url'), aadFor('badges.issuer_key', tenantId, String(keyNumber))) };
  }

  private toSigningKey(row: IssuerKeyRow): SigningKey {
    const { did } = this.urls(row.tenantId);
    const verificationMethod = `${did}#key-${row.keyNumber}`;
    let privateKey = this.privateKeys.get(row.id);
    if (!privateKey) {
      const seed = Buffer.from(this.secrets.open(row.sealedSeed, aadFor('badges.issuer_key', row.tenantId, String(row.keyNumber))), 'base64url');
      if (multikeyFromSeed(seed) !== row.publicKeyMultibase) throw new Error(`issuer key ${row.id} does not match its public key`);
      privateKey = privateKeyFromSeed(seed);
      this.privateKeys.set(row.id, privateKey);
    }
    return { row, verificationMethod, privateKey };
  }
}

