import crypto from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Orm } from '../db/database';
import { tenants } from '../tenants/schema';
import { microCredentials, microCredentialVersions, stackMembers, stacks, type MicroCredentialVersionRow, type StackRow } from '../catalog/schema';
import { CatalogRepository, isUuid } from '../catalog/repository';
import { definitionOf } from '../catalog/presenters';
import { toAchievement, type AchievementJson } from '../catalog/ob3';
import { ceus } from '../catalog/rules';
import { renderDesign } from '../catalog/commands/images';
import { InvalidInputError, NotFoundError } from '../web/errors';
import { issuedCredentials, statusLists, type IssuedCredentialRow, type StatusListRow } from './schema';
import { IssuerKeys, tenantKeyOfDid } from './keys';
import { CLR2_CONTEXT, OB3_CONTEXT, VC2_CONTEXT, type LocalResolver } from './contexts';
import { addMonths, isoSeconds, signCredential, type Json } from './signing';
import { emptyBitstring, encodeBitstring, LIST_CAPACITY, LIST_LENGTH, setBit } from './bitstring';
import { buildOpenBadge, publicAchievement, subjectIdentifiers, UnknownRubricLevelError, type EarnerInput, type EvidenceInput, type ProfileJson, type ResultInput } from './credential';
import { verifyCredentialJson, type VerificationResult } from './verify';
import { defaultSigningWorkers, signWith } from './signerPool';

/**
 * The credential engine: issues, stores, revokes and verifies Open Badges 3.0 credentials, and serves what
 * verifiers need (issuer Profile, DID document, status lists). The award command calls `issueOpenBadge`; the
 * public routes (routes.ts) call the readers. Every query is scoped by tenant.
 */

export interface IssueOpenBadgeInput {
  tenantId: string;
  earner: EarnerInput;
  /** What was earned: a micro-credential version (published), or a stack. */
  achievement: { versionId: string } | { stackId: string };
  /** The award row that caused this; a second call with the same award returns the first credential. */
  awardId?: string | null;
  /** validFrom (and awardedDate); defaults to now. validUntil follows from the version's expiry months. */
  awardedAt?: Date;
  /** Rubric scores, one per criterion: they become `result[]` with `achievedLevel`. */
  results?: ResultInput[];
  evidence?: EvidenceInput[];
  narrative?: string;
  /** The reviewing organisation (`credentialSubject.source`); defaults to the issuer itself. */
  source?: { id?: string; name: string; url?: string; email?: string };
}

export interface IssuedCredential {
  /** uuid; the credential's id is `url`. */
  id: string;
  url: string;
  credential: Json;
  validUntil: Date | null;
  statusListCredential: string;
  statusListIndex: number;
}

export interface BadgesDeps {
  orm: Orm;
  publicUrl: string;
  secretKey: string;
  /**
   * Worker threads that sign issued credentials (signerPool.ts); 0 signs in the calling thread. Default: 2 on a
   * machine with 2 or more cores, 0 on one core, and 0 under Jest (tests that want the pool ask for it).
   */
  signingWorkers?: number;
  /**
   * One database session (embedded PGlite): nothing outside a transaction runs while it is open, so an issue inside
   * the caller's transaction reads its key and counts its status slot in that transaction too.
   */
  singleSession?: boolean;
}

const STATUS_PURPOSE = 'revocation';
const ALLOCATION_BLOCK = 32;
const CACHE_TTL_MS = 30_000;

export class Badges {
  readonly keys: IssuerKeys;
  private readonly orm: Orm;
  readonly publicUrl: string;
  /** See BadgesDeps.singleSession (a test harness on a single-session engine may set it). */
  singleSession: boolean;
  private readonly blocks = new Map<string, { list: StatusListRow; remaining: number }>();
  private readonly reserving = new Map<string, Promise<void>>();
  // Published versions are immutable, so their Achievements can be kept; issuer profiles for a short while.
  private readonly achievements = new Map<string, { achievement: Omit<AchievementJson, 'microcred'>; version: MicroCredentialVersionRow }>();
  private readonly profiles = new Map<string, { profile: ProfileJson; at: number }>();
  /** How issued credentials are signed: on the worker pool or in this thread (same bytes). */
  private readonly signIssued: (credential: Json, key: { verificationMethod: string; privateKey: crypto.KeyObject }) => Promise<Json>;

  constructor(deps: BadgesDeps) {
    this.orm = deps.orm;
    this.signIssued = signWith(deps.signingWorkers ?? (process.env.JEST_WORKER_ID !== undefined ? 0 : defaultSigningWorkers()));
    this.publicUrl = deps.publicUrl;
    this.singleSession = deps.singleSession ?? false;
    this.keys = new IssuerKeys(deps.orm, deps.publicUrl, deps.secretKey);
  }

  // ---- URLs ---------------------------------------------------------------------------------------------------

  credentialUrl(id: string): string {
    return `${this.publicUrl}/credentials/${id}`;
  }
  statusListUrl(tenantId: string, listNumber: number): string {
    return `${this.publicUrl}/status/${tenantId}/${listNumber}`;
  }
  achievementUrl(versionId: string): string {
    return `${this.publicUrl}/achievements/${versionId}`;
  }
  stackAchievementUrl(stackId: string): string {
    return `${this.publicUrl}/achievements/stacks/${stackId}`;
  }

  // ---- issuer -------------------------------------------------------------------------------------------------

  async tenantExists(tenantId: string): Promise<boolean> {
    if (!isUuid(tenantId)) return false;
    const [row] = await this.orm.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
    return !!row;
  }

  /** The issuer Profile named in credentials: the tenant's issuer profile, or its name until an admin sets one. */
  async issuerProfile(tenantId: string, orm: Orm = this.orm): Promise<ProfileJson> {
    const { did, profileUrl } = this.keys.urls(tenantId);
    const p = await new CatalogRepository(orm).findIssuer(tenantId);
    if (p) {
      return {
        id: did,
        type: ['Profile'],
        name: p.name,
        url: p.url,
        email: p.email,
        ...(p.description ? { description: p.description } : {}),
        ...(p.imageId ? { image: { id: `${profileUrl}/image`, type: 'Image' as const, caption: p.name } } : {}),
      };
    }
    const [t] = await orm.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
    if (!t) throw new NotFoundError('issuer');
    return { id: did, type: ['Profile'], name: t.name, url: t.canvasBaseUrl ?? this.publicUrl };
  }

  private async cachedIssuerProfile(tenantId: string, orm: Orm): Promise<ProfileJson> {
    const hit = this.profiles.get(tenantId);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.profile;
    const profile = await this.issuerProfile(tenantId, orm);
    this.profiles.set(tenantId, { profile, at: Date.now() });
    return profile;
  }

  async issuerImage(tenantId: string): Promise<{ contentType: string; bytes: Buffer } | undefined> {
    const repo = new CatalogRepository(this.orm);
    const p = await repo.findIssuer(tenantId);
    if (!p?.imageId) return undefined;
    const img = await repo.findImage(tenantId, p.imageId);
    return img ? { contentType: img.contentType, bytes: img.bytes } : undefined;
  }

  /** The DID document (the tenant's first key is generated if it has none yet, so the document always exists). */
  async didDocument(tenantId: string) {
    await this.keys.signingKey(tenantId);
    return this.keys.didDocument(tenantId);
  }

  // ---- achievements -------------------------------------------------------------------------------------------

  /** The Achievement of a published version, as credentials carry it (image by URL, no catalog extension). */
  async versionAchievement(versionId: string, orm: Orm = this.orm): Promise<{ achievement: Omit<AchievementJson, 'microcred'>; version: MicroCredentialVersionRow } | undefined> {
    if (!isUuid(versionId)) return undefined;
    const cached = this.achievements.get(versionId);
    if (cached) return cached;
    const [row] = await orm
      .select({ version: microCredentialVersions, key: microCredentials.key })
      .from(microCredentialVersions)
      .innerJoin(microCredentials, eq(microCredentials.id, microCredentialVersions.credentialId))
      .where(eq(microCredentialVersions.id, versionId))
      .limit(1);
    if (!row || !row.version.publishedAt) return undefined;
    const id = this.achievementUrl(versionId);
    const a = toAchievement(definitionOf(row.version), { id, key: row.key, version: row.version.version, imageDataUri: `${id}/image` });
    const out = { achievement: publicAchievement(a), version: row.version };
    if (this.achievements.size > 1000) this.achievements.clear();
    this.achievements.set(versionId, out);
    return out;
  }

  /** A stack as an Achievement (achievementType LearningProgram); its criteria name the members. */
  async stackAchievement(stackId: string, orm: Orm = this.orm): Promise<{ achievement: Omit<AchievementJson, 'microcred'>; stack: StackRow; credits: number } | undefined> {
    if (!isUuid(stackId)) return undefined;
    const [stack] = await orm.select().from(stacks).where(eq(stacks.id, stackId)).limit(1);
    if (!stack || stack.state === 'draft') return undefined;
    const members = await orm
      .select({ name: microCredentialVersions.name, hours: microCredentialVersions.hours })
      .from(stackMembers)
      .innerJoin(microCredentials, eq(microCredentials.id, stackMembers.credentialId))
      .innerJoin(microCredentialVersions, eq(microCredentialVersions.id, microCredentials.currentVersionId))
      .where(eq(stackMembers.stackId, stackId))
      .orderBy(asc(stackMembers.position));
    const need = stack.kind === 'ordered' ? 'Earn each of these micro-credentials, in order' : `Earn ${stack.requiredCount ?? members.length} of these micro-credentials`;
    const credits = ceus(members.reduce((s, m) => s + Number(m.hours), 0));
    const id = this.stackAchievementUrl(stackId);
    return {
      stack,
      credits,
      achievement: {
        id,
        type: ['Achievement'],
        name: stack.name,
        description: stack.description || `The ${stack.name} stack of micro-credentials.`,
        criteria: { narrative: `${need}: ${members.map((m) => m.name).join('; ')}.` },
        achievementType: 'LearningProgram',
        creditsAvailable: credits,
        humanCode: stack.key,
        image: { id: `${id}/image`, type: 'Image', caption: stack.name },
      },
    };
  }

  async versionImage(versionId: string) {
    if (!isUuid(versionId)) return undefined;
    const [v] = await this.orm.select().from(microCredentialVersions).where(eq(microCredentialVersions.id, versionId)).limit(1);
    if (!v?.publishedAt) return undefined;
    return renderDesign(new CatalogRepository(this.orm), v.tenantId, v.image, v.name);
  }

  async stackImage(stackId: string) {
    if (!isUuid(stackId)) return undefined;
    const [s] = await this.orm.select().from(stacks).where(eq(stacks.id, stackId)).limit(1);
    if (!s || s.state === 'draft') return undefined;
    return renderDesign(new CatalogRepository(this.orm), s.tenantId, s.image, s.name);
  }

  // ---- issuing --------------------------------------------------------------------------------------------------

  /**
   * Signs and stores an OpenBadgeCredential. Pass the award command's transaction as `tx` to issue inside it
   * (the credential row then commits or rolls back with the award). Idempotent per `awardId`.
   */
  async issueOpenBadge(input: IssueOpenBadgeInput, opts: { tx?: Orm } = {}): Promise<IssuedCredential> {
    const orm = opts.tx ?? this.orm;
    if (input.awardId) {
      const existing = await this.findByAward(input.awardId, orm);
      if (existing) return this.toIssued(existing);
    }
    const isVersion = 'versionId' in input.achievement;
    const found = isVersion ? await this.versionAchievement((input.achievement as { versionId: string }).versionId, orm) : await this.stackAchievement((input.achievement as { stackId: string }).stackId, orm);
    if (!found) throw new NotFoundError(isVersion ? 'published micro-credential version' : 'stack');
    const tenantOfAchievement = 'version' in found ? found.version.tenantId : found.stack.tenantId;
    if (tenantOfAchievement !== input.tenantId) throw new NotFoundError(isVersion ? 'published micro-credential version' : 'stack');
    const expiryMonths = 'version' in found ? found.version.expiryMonths : null;
    const creditsEarned = 'version' in found ? ceus(Number(found.version.hours)) : found.credits;

    const issuer = await this.cachedIssuerProfile(input.tenantId, orm);
    const outside = this.singleSession && opts.tx ? opts.tx : undefined;
    const key = await this.keys.signingKey(input.tenantId, outside);
    const validFrom = new Date(Math.floor((input.awardedAt ?? new Date()).getTime() / 1000) * 1000);
    const validUntil = expiryMonths ? addMonths(validFrom, expiryMonths) : null;
    const source: ProfileJson = input.source
      ? { id: input.source.id ?? `${this.keys.urls(input.tenantId).profileUrl}#reviewers`, type: ['Profile'], name: input.source.name, ...(input.source.url ? { url: input.source.url } : {}), ...(input.source.email ? { email: input.source.email } : {}) }
      : issuer;
    const identifiers = subjectIdentifiers(input.earner, `${this.publicUrl}/users`);

    const list = await this.takeSlot(input.tenantId, outside);
    // A random index: a list is at most a quarter full, so it is free at least 3 times in 4; the unique
    // (tenant, list, index) insert below detects a taken one, and we pick again.
    for (let attempt = 0; attempt < 20; attempt++) {
      const index = crypto.randomInt(list.length);
      const id = crypto.randomUUID();
      const listUrl = this.statusListUrl(input.tenantId, list.listNumber);
      let unsigned: Json;
      try {
        unsigned = buildOpenBadge({
          id: this.credentialUrl(id),
          issuer,
          achievement: found.achievement,
          identifiers,
          validFrom,
          validUntil,
          results: input.results ?? [],
          creditsEarned,
          evidence: input.evidence ?? [],
          source,
          narrative: input.narrative,
          credentialStatus: { id: `${listUrl}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: STATUS_PURPOSE, statusListIndex: String(index), statusListCredential: listUrl },
        });
      } catch (err) {
        if (err instanceof UnknownRubricLevelError) throw new InvalidInputError(err.message, { results: err.message });
        throw err;
      }
      const signed = await this.signIssued(unsigned, key);
      const [row] = await orm
        .insert(issuedCredentials)
        .values({
          id,
          tenantId: input.tenantId,
          earnerUserId: input.earner.userId,
          versionId: isVersion ? (input.achievement as { versionId: string }).versionId : null,
          stackId: isVersion ? null : (input.achievement as { stackId: string }).stackId,
          awardId: input.awardId ?? null,
          credential: signed,
          statusListId: list.id,
          statusIndex: index,
          showName: input.earner.showName && !!input.earner.name,
          validFrom,
          validUntil,
        })
        .onConflictDoNothing()
        // Only the id: the credential is the one just signed (returning the row would send 13 KB back and parse it).
        .returning({ id: issuedCredentials.id });
      if (row) return { id, url: this.credentialUrl(id), credential: signed, validUntil, statusListCredential: listUrl, statusListIndex: index };
      // Another issue for the same award won the race: that one is the credential.
      if (input.awardId) {
        const existing = await this.findByAward(input.awardId, orm);
        if (existing) return this.toIssued(existing);
      }
    }
    throw new Error('could not allocate a status list index');
  }

  private toIssued(row: IssuedCredentialRow): IssuedCredential {
    const status = row.credential.credentialStatus as { statusListCredential: string };
    return { id: row.id, url: this.credentialUrl(row.id), credential: row.credential, validUntil: row.validUntil, statusListCredential: status.statusListCredential, statusListIndex: row.statusIndex };
  }

  private async findByAward(awardId: string, orm: Orm): Promise<IssuedCredentialRow | undefined> {
    const [row] = await orm.select().from(issuedCredentials).where(eq(issuedCredentials.awardId, awardId)).limit(1);
    return row;
  }

  /**
   * A status list with room for one more credential. Slots are counted against a list's capacity in blocks of
   * `ALLOCATION_BLOCK` per process (one UPDATE per block, not per credential), on the pool and outside the
   * caller's transaction, so concurrent awards never queue on the list row until commit. A block left unused
   * at exit, or an award that rolls back, only leaves slots unused.
   */
  private async takeSlot(tenantId: string, orm: Orm = this.orm): Promise<StatusListRow> {
    for (;;) {
      const block = this.blocks.get(tenantId);
      if (block && block.remaining > 0) {
        block.remaining--;
        return block.list;
      }
      await this.reserveOnce(tenantId, orm);
    }
  }

  /** Reserves a new block, or waits for the reservation another award of this process already started. */
  private reserveOnce(tenantId: string, orm: Orm = this.orm): Promise<void> {
    let pending = this.reserving.get(tenantId);
    if (!pending) {
      pending = this.reserveBlock(tenantId, orm).finally(() => this.reserving.delete(tenantId));
      this.reserving.set(tenantId, pending);
    }
    return pending;
  }

  /**
   * Before an award's transaction: loads the tenant's signing key and makes sure this process holds at least `slots`
   * free status slots. Both are read on the pool, outside the caller's transaction; from inside one, with the pool
   * full of other award transactions, they could wait for a connection until the timeout. (A block left with fewer
   * slots is abandoned: unused slots only.)
   */
  async prepareIssue(tenantId: string, slots: number): Promise<void> {
    // The signing key is read (and cached) on the pool too, for the same reason.
    await this.keys.signingKey(tenantId);
    await this.prepareSlots(tenantId, slots);
  }

  async prepareSlots(tenantId: string, min: number): Promise<void> {
    const want = Math.min(Math.max(1, min), ALLOCATION_BLOCK);
    for (;;) {
      const block = this.blocks.get(tenantId);
      if (block && block.remaining >= want) return;
      await this.reserveOnce(tenantId);
    }
  }

  private async reserveBlock(tenantId: string, orm: Orm = this.orm): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [row] = await orm
        .update(statusLists)
        .set({ allocated: sql`${statusLists.allocated} + ${ALLOCATION_BLOCK}` })
        .where(
          and(
            eq(statusLists.id, sql`(SELECT id FROM status_lists WHERE tenant_id = ${tenantId} AND allocated + ${ALLOCATION_BLOCK} <= capacity ORDER BY list_number DESC LIMIT 1)`),
            sql`${statusLists.allocated} + ${ALLOCATION_BLOCK} <= ${statusLists.capacity}`,
          ),
        )
        .returning();
      if (row) {
        this.blocks.set(tenantId, { list: row, remaining: ALLOCATION_BLOCK });
        return;
      }
      const [last] = await orm.select({ n: statusLists.listNumber }).from(statusLists).where(eq(statusLists.tenantId, tenantId)).orderBy(desc(statusLists.listNumber)).limit(1);
      await orm
        .insert(statusLists)
        .values({ tenantId, listNumber: (last?.n ?? 0) + 1, length: LIST_LENGTH, capacity: LIST_CAPACITY })
        .onConflictDoNothing();
    }
    throw new Error('could not allocate a status list');
  }

  // ---- status lists and revocation ------------------------------------------------------------------------------

  /** The signed BitstringStatusListCredential (signed on first request, re-signed on every revocation). */
  async statusListCredential(tenantId: string, listNumber: number): Promise<Json | undefined> {
    if (!isUuid(tenantId) || !Number.isInteger(listNumber)) return undefined;
    const [row] = await this.orm
      .select()
      .from(statusLists)
      .where(and(eq(statusLists.tenantId, tenantId), eq(statusLists.listNumber, listNumber)))
      .limit(1);
    if (!row) return undefined;
    if (row.signedJson) return row.signedJson;
    return this.orm.transaction(async (tx) => {
      const [locked] = await tx.select().from(statusLists).where(eq(statusLists.id, row.id)).for('update');
      if (locked?.signedJson) return locked.signedJson;
      return this.resign(tx, row);
    });
  }

  private async resign(tx: Orm, list: StatusListRow): Promise<Json> {
    const revoked = await tx
      .select({ index: issuedCredentials.statusIndex })
      .from(issuedCredentials)
      .where(and(eq(issuedCredentials.statusListId, list.id), sql`${issuedCredentials.revokedAt} IS NOT NULL`));
    const bits = emptyBitstring(list.length);
    for (const r of revoked) setBit(bits, r.index);
    const url = this.statusListUrl(list.tenantId, list.listNumber);
    const key = await this.keys.signingKey(list.tenantId);
    const signed = await signCredential(
      {
        '@context': [VC2_CONTEXT],
        id: url,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        issuer: this.keys.urls(list.tenantId).did,
        validFrom: isoSeconds(new Date()),
        credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: list.statusPurpose, encodedList: encodeBitstring(bits) },
      },
      key,
    );
    await tx.update(statusLists).set({ signedJson: signed, signedAt: new Date() }).where(eq(statusLists.id, list.id));
    return signed;
  }

  /**
   * Revokes a credential: flips its bit and re-signs the list, in one transaction that holds the list's row lock
   * (concurrent revocations of one list take turns, so none is lost). Revoking twice keeps the first reason.
   */
  async revoke(credentialId: string, reason: string, opts: { tenantId?: string } = {}): Promise<IssuedCredentialRow> {
    if (!isUuid(credentialId)) throw new NotFoundError('credential');
    const why = reason.trim();
    if (!why) throw new InvalidInputError('Say why the credential is revoked.', { reason: 'Say why the credential is revoked.' });
    return this.orm.transaction(async (tx) => {
      const [cred] = await tx.select().from(issuedCredentials).where(eq(issuedCredentials.id, credentialId)).limit(1);
      if (!cred || (opts.tenantId && cred.tenantId !== opts.tenantId)) throw new NotFoundError('credential');
      const [list] = await tx.select().from(statusLists).where(eq(statusLists.id, cred.statusListId)).for('update');
      const [updated] = await tx
        .update(issuedCredentials)
        .set({ revokedAt: new Date(), revocationReason: why.slice(0, 1000) })
        .where(and(eq(issuedCredentials.id, credentialId), isNull(issuedCredentials.revokedAt)))
        .returning();
      if (!updated) return cred;
      await this.resign(tx, list!);
      return updated;
    });
  }

  // ---- reading ----------------------------------------------------------------------------------------------------

  async findIssued(id: string): Promise<IssuedCredentialRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.orm.select().from(issuedCredentials).where(eq(issuedCredentials.id, id)).limit(1);
    return row;
  }

  async credentialsOf(tenantId: string, earnerUserId: string): Promise<IssuedCredentialRow[]> {
    return this.orm
      .select()
      .from(issuedCredentials)
      .where(and(eq(issuedCredentials.tenantId, tenantId), eq(issuedCredentials.earnerUserId, earnerUserId)))
      .orderBy(asc(issuedCredentials.createdAt));
  }

  // ---- verification -------------------------------------------------------------------------------------------------

  /** Resolves our own DIDs, key ids and status lists from the database: the verifier never goes to the network. */
  localResolver(): LocalResolver {
    const statusPrefix = `${this.publicUrl}/status/`;
    return async (url: string) => {
      const [base, fragment] = url.split('#') as [string, string | undefined];
      const tenantKey = tenantKeyOfDid(this.publicUrl, base);
      if (tenantKey) {
        const doc = await this.keys.didDocument(tenantKey);
        if (!doc || !fragment) return doc;
        const vm = doc.verificationMethod.find((v) => v.id === url);
        return vm ? { '@context': doc['@context'], ...vm } : undefined;
      }
      if (base.startsWith(statusPrefix)) {
        const m = /^([0-9a-f-]{36})\/(\d+)$/.exec(base.slice(statusPrefix.length));
        if (m) return this.statusListCredential(m[1]!, Number(m[2]));
      }
      return undefined;
    };
  }

  /** Verifies any credential JSON offline (see verify.ts); `now` for tests of expiry. */
  async verifyCredential(json: unknown, now?: Date): Promise<VerificationResult> {
    return verifyCredentialJson(json, this.localResolver(), now);
  }

  // ---- CLR ------------------------------------------------------------------------------------------------------------

  /**
   * A signed CLR 2.0 `ClrCredential` of an earner's credentials (all of them not revoked, or the named ones):
   * the signed OB credentials as they are, their achievements, and `isPartOf` associations from each stack
   * member's achievement to the stack's achievement.
   */
  async issueClr(o: { tenantId: string; earnerUserId: string; credentialIds?: string[] }): Promise<Json> {
    let rows = await this.credentialsOf(o.tenantId, o.earnerUserId);
    if (o.credentialIds) rows = rows.filter((r) => o.credentialIds!.includes(r.id));
    rows = rows.filter((r) => !r.revokedAt);
    if (rows.length === 0) throw new NotFoundError('credential');
    const achievements = new Map<string, Json>();
    for (const r of rows) {
      const a = (r.credential.credentialSubject as { achievement: Json & { id: string } }).achievement;
      achievements.set(a.id, a);
    }
    const association = await this.stackAssociations(o.tenantId, rows);
    const issuer = await this.issuerProfile(o.tenantId);
    const key = await this.keys.signingKey(o.tenantId);
    const newest = rows[rows.length - 1]!.credential.credentialSubject as { identifier: unknown };
    return signCredential(
      {
        '@context': [VC2_CONTEXT, CLR2_CONTEXT, OB3_CONTEXT],
        id: `urn:uuid:${crypto.randomUUID()}`,
        type: ['VerifiableCredential', 'ClrCredential'],
        issuer,
        name: `Comprehensive Learner Record from ${issuer.name}`,
        validFrom: isoSeconds(new Date()),
        credentialSubject: {
          type: ['ClrSubject'],
          identifier: newest.identifier,
          verifiableCredential: rows.map((r) => r.credential),
          achievement: [...achievements.values()],
          ...(association.length ? { association } : {}),
        },
      },
      key,
    );
  }

  private async stackAssociations(tenantId: string, rows: IssuedCredentialRow[]) {
    const stackIds = rows.map((r) => r.stackId).filter((s): s is string => !!s);
    const versionIds = rows.map((r) => r.versionId).filter((v): v is string => !!v);
    if (!stackIds.length || !versionIds.length) return [];
    const links = await this.orm
      .select({ stackId: stackMembers.stackId, versionId: microCredentialVersions.id })
      .from(stackMembers)
      .innerJoin(microCredentialVersions, eq(microCredentialVersions.credentialId, stackMembers.credentialId))
      .where(and(eq(stackMembers.tenantId, tenantId), inArray(stackMembers.stackId, stackIds), inArray(microCredentialVersions.id, versionIds)));
    return links.map((l) => ({ type: 'Association', associationType: 'isPartOf', sourceId: this.achievementUrl(l.versionId), targetId: this.stackAchievementUrl(l.stackId) }));
  }
}
