/**
 * ltijs 5.9.x database plugin on our SqlPool (PostgreSQL or PGlite).
 *
 * ltijs duck-types its plugin: it calls setup, Close, Get, Insert, Replace, Modify and Delete exactly as it
 * calls its built-in MongoDB implementation (node_modules/ltijs/dist/Utils/Database.js), so every method here
 * reproduces Mongo's observable behaviour (see /work/shared/research/canvas-lti.md §1.10), plus what Mongo gave
 * for free: TTL expiry, atomic upserts and unique keys.
 *
 * Storage: the `ltijs_*` tables created by our drizzle migration (src/lti/schema.ts), one JSONB document per
 * row. Queries are equality filters on top-level fields.
 */
import crypto from 'node:crypto';
import type { SqlClient, SqlPool } from '../db/database';
import { logger } from '../log';
import type { LtiDatabasePlugin, LtijsDocument, LtijsQuery } from './ltijsTypes';

export type { LtijsDocument, LtijsQuery } from './ltijsTypes';

const DAY = 24 * 3600;
/** Canvas issues client-credentials tokens for 1 h; we forget them a minute earlier so one is never sent at its edge. */
const ACCESS_TOKEN_MARGIN_SECONDS = 60;
const ACCESS_TOKEN_MAX_SECONDS = 3600;
/** Floor for the nonce TTL: Mongo's TTL monitor runs about every 60 s, so a Mongo-backed ltijs kept nonces at least that long. */
const MIN_NONCE_TTL_SECONDS = 60;

interface CollectionSpec {
  /** Mongo TTL in seconds (`expires` on `createdAt`); collections with a TTL also carry `createdAt` in Mongo. */
  ttl?: number;
  /** The unique indexes of src/lti/schema.ts (kept in step with it by hand; the tests exercise each one). */
  unique: string[][];
}

/** The nine collections of ltijs 5.9.9; TTLs from the Mongo schemas, nonce set per instance. */
const BASE_COLLECTIONS: Record<string, CollectionSpec> = {
  idtoken: { ttl: DAY, unique: [] },
  contexttoken: { ttl: DAY, unique: [] },
  platform: { unique: [['kid'], ['platformUrl', 'clientId']] },
  platformStatus: { unique: [['id']] },
  privatekey: { unique: [['kid']] },
  publickey: { unique: [['kid']] },
  accesstoken: { ttl: ACCESS_TOKEN_MAX_SECONDS - ACCESS_TOKEN_MARGIN_SECONDS, unique: [['platformUrl', 'clientId', 'scopes']] },
  nonce: { ttl: MIN_NONCE_TTL_SECONDS, unique: [['nonce']] },
  state: { ttl: 600, unique: [['state']] },
};

export const LTIJS_COLLECTIONS = Object.freeze(Object.keys(BASE_COLLECTIONS));

export interface LtijsStoreOptions {
  /** Seconds a nonce is remembered; must be ≥ the launch token max age (ltijs `tokenMaxAge`). Floored at 60. */
  nonceTtlSeconds: number;
  /** Interval of the expired-row sweep (default 60 s); 0 disables it. */
  sweepIntervalMs?: number;
  /** Table name prefix (default `ltijs_`); tests point it elsewhere to check setup's error. */
  tablePrefix?: string;
  /**
   * Milliseconds to keep answers to Get on the registration collections (`platform`, `platformStatus`), which
   * ltijs reads twice per launch (default 0: no cache). Any write to them through this store clears the cache at
   * once; another instance's write is seen within this time (launchGuard's Platforms cache has the same window).
   */
  registrationCacheMs?: number;
  /**
   * Collections the app never reads, so they are not written: Replace and Insert succeed without a query and
   * Get finds nothing. microcred lists `idtoken` and `contexttoken`: ltijs reads them back only for requests
   * carrying an ltik, and microcred's own sessions replace ltiks (ltiaas mode), so nothing ever asks.
   */
  notStored?: string[];
  /**
   * ltijs asks Get('nonce') and then Insert('nonce'). The Insert alone decides atomically (the unique index; the
   * Get-then-Insert pair is racy anyway), so with this on, Get('nonce') answers "not seen" without a query and a
   * replay is refused by the Insert (NONCE_ALREADY_USED) instead of the Get. Default off (MongoDB's behaviour).
   */
  nonceCheckedByInsert?: boolean;
}

/** ltijs's registration data: read on every launch, written only by an administrator. */
const REGISTRATION_COLLECTIONS = new Set(['platform', 'platformStatus']);

export class LtijsPostgresStore implements LtiDatabasePlugin {
  private readonly collections: Record<string, CollectionSpec>;
  private readonly prefix: string;
  private readonly sweepIntervalMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The timer's sweep in progress: Close waits for it, so no query runs after the app closes its pool. */
  private timedSweep: Promise<unknown> | undefined;
  private ready = false;
  private readonly registrationCacheMs: number;
  private readonly registrationCache = new Map<string, { at: number; rows: LtijsDocument[] | false }>();
  private registrationGeneration = 0;
  private readonly notStored: ReadonlySet<string>;
  private readonly nonceCheckedByInsert: boolean;

  constructor(
    private readonly sql: SqlPool,
    opts: LtijsStoreOptions,
  ) {
    if (!Number.isFinite(opts.nonceTtlSeconds)) throw new Error('LtijsPostgresStore: nonceTtlSeconds must be a number of seconds');
    this.prefix = opts.tablePrefix ?? 'ltijs_';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.prefix)) throw new Error(`LtijsPostgresStore: invalid table prefix ${JSON.stringify(this.prefix)}`);
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 60_000;
    this.registrationCacheMs = opts.registrationCacheMs ?? 0;
    this.notStored = new Set(opts.notStored ?? []);
    this.nonceCheckedByInsert = opts.nonceCheckedByInsert ?? false;
    for (const c of this.notStored) if (!Object.hasOwn(BASE_COLLECTIONS, c)) throw new Error(`LtijsPostgresStore: unknown collection ${c}`);
    this.collections = {
      ...BASE_COLLECTIONS,
      nonce: { ...BASE_COLLECTIONS.nonce!, ttl: Math.max(MIN_NONCE_TTL_SECONDS, Math.ceil(opts.nonceTtlSeconds)) },
    };
  }

  /** The TTL in seconds this store gives new rows of `collection` (undefined: kept until deleted). */
  ttlSeconds(collection: string): number | undefined {
    return this.spec(collection).ttl;
  }

  /**
   * Checks that the migrated tables exist and starts the sweep. Creates nothing: migrations own the schema.
   * Throws a clear error (ltijs's deploy() would otherwise log it and `process.exit()` with code 0). Idempotent.
   */
  async setup(): Promise<true> {
    const names = Object.keys(this.collections).map((c) => this.tableName(c));
    let rows: { name: string; found: string | null }[];
    try {
      ({ rows } = await this.sql.query<{ name: string; found: string | null }>(
        'SELECT n AS name, to_regclass(quote_ident(n))::text AS found FROM unnest($1::text[]) AS n',
        [names],
      ));
    } catch (err) {
      throw new Error(`ltijs store: cannot reach the database: ${(err as Error).message}`, { cause: err });
    }
    const missing = rows.filter((r) => !r.found).map((r) => r.name);
    if (missing.length > 0) throw new Error(`ltijs tables are missing: ${missing.join(', ')}; run npm run migrate`);
    if (this.sweepIntervalMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => {
        if (this.timedSweep) return; // a slow sweep is not stacked on itself
        this.timedSweep = this.sweep()
          .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'ltijs store sweep failed'))
          .finally(() => (this.timedSweep = undefined));
      }, this.sweepIntervalMs);
      // The sweep must never keep the process alive on its own.
      this.sweepTimer.unref();
    }
    this.ready = true;
    return true;
  }

  /** Called by `lti.close()`. Stops the sweep; the pool belongs to the app, which closes it. */
  async Close(): Promise<true> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.ready = false;
    await this.timedSweep;
    return true;
  }

  /** Deletes expired rows (Mongo's TTL monitor); returns how many. Get already hides them, so this is housekeeping. */
  async sweep(): Promise<number> {
    let total = 0;
    for (const [name, spec] of Object.entries(this.collections)) {
      if (!spec.ttl || this.notStored.has(name)) continue;
      const t = this.table(name);
      // Batches keep each statement short when a backlog has built up.
      for (;;) {
        const r = await this.sql.query(
          `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE expires_at <= now() LIMIT 5000)`,
        );
        total += r.affectedRows;
        if (r.affectedRows < 5000) break;
      }
    }
    return total;
  }

  /**
   * Mongo `find(query)`: every live row matching all fields of `query` (none: all rows), in insertion order,
   * or `false` when nothing matches (ltijs tests `if (!result)`). With a key, returns the decrypted payload
   * plus `createdAt` in epoch ms (Platform.platformAccessToken computes the token's age from it).
   */
  async Get(ENCRYPTIONKEY: string | false, collection: string, query?: LtijsQuery): Promise<LtijsDocument[] | false> {
    this.assertReady();
    if (!collection) throw new Error('MISSING_COLLECTION');
    this.spec(collection);
    if (this.notStored.has(collection)) return false;
    if (collection === 'nonce' && this.nonceCheckedByInsert) return false;
    if (ENCRYPTIONKEY || this.registrationCacheMs <= 0 || !REGISTRATION_COLLECTIONS.has(collection)) return this.read(ENCRYPTIONKEY, collection, query);
    const key = collection + ' ' + canonicalJson(normalizeQuery(query));
    const hit = this.registrationCache.get(key);
    if (hit && Date.now() - hit.at < this.registrationCacheMs) return hit.rows && structuredClone(hit.rows);
    const generation = this.registrationGeneration;
    const rows = await this.read(false, collection, query);
    // A write made while this read was under way may be missing from it: such an answer is not kept.
    if (generation === this.registrationGeneration) this.registrationCache.set(key, { at: Date.now(), rows: rows && structuredClone(rows) });
    return rows;
  }

  private async read(ENCRYPTIONKEY: string | false, collection: string, query?: LtijsQuery): Promise<LtijsDocument[] | false> {
    const spec = this.spec(collection);
    const m = matchSql(query, 1);
    const { rows } = await this.sql.query<{ doc: LtijsDocument; created_at: Date | string }>(
      `SELECT doc, created_at FROM ${this.table(collection)} WHERE ${m.sql} AND ${LIVE} ORDER BY id`,
      m.params,
    );
    if (rows.length === 0) return false;
    const out: LtijsDocument[] = [];
    for (const row of rows) {
      const createdAt = new Date(row.created_at);
      if (ENCRYPTIONKEY) {
        const item = JSON.parse(await this.Decrypt(String(row.doc.data), String(row.doc.iv), ENCRYPTIONKEY)) as LtijsDocument;
        if (spec.ttl) item.createdAt = createdAt.getTime();
        out.push(item);
      } else {
        // Mongo documents of TTL collections carry createdAt (a Date); Provider JSON-serialises them into res.locals.token.
        out.push(spec.ttl ? { ...row.doc, createdAt } : row.doc);
      }
    }
    return out;
  }

  /** Every write to a registration collection forgets what was cached, before and after it runs. */
  private async writing<T>(collection: string, write: () => Promise<T>): Promise<T> {
    if (!REGISTRATION_COLLECTIONS.has(collection) || this.registrationCacheMs <= 0) return write();
    this.forgetRegistrations();
    try {
      return await write();
    } finally {
      this.forgetRegistrations();
    }
  }

  private forgetRegistrations(): void {
    this.registrationGeneration++;
    this.registrationCache.clear();
  }

  /**
   * Mongo `save()`. Unique keys hold as in Mongo; a row whose TTL has passed no longer counts. A nonce that is
   * still remembered throws `NONCE_ALREADY_USED` (the unique index decides, so concurrent launches are safe).
   */
  async Insert(ENCRYPTIONKEY: string | false, collection: string, item: LtijsDocument, index?: LtijsDocument): Promise<true> {
    this.assertReady();
    if (!collection || !item || (ENCRYPTIONKEY && !index)) throw new Error('MISSING_PARAMS');
    const t = this.table(collection);
    if (this.notStored.has(collection)) return true;
    const doc = await this.toDoc(ENCRYPTIONKEY, item, index);
    const spec = this.spec(collection);
    const duplicate = (cause?: unknown) => new Error(collection === 'nonce' ? 'NONCE_ALREADY_USED' : `DUPLICATE_KEY: ${collection}`, { cause });
    const only = spec.unique.length === 1 && spec.unique[0]!.length === 1 ? spec.unique[0]![0]! : undefined;
    if (spec.ttl && only) {
      // One statement (the launch path's nonce): a live row with this key refuses it; an expired one is taken over.
      const r = await this.sql.query(
        `INSERT INTO ${t} AS t (doc, expires_at) VALUES ($1::jsonb, ${EXPIRES})
           ON CONFLICT ((doc ->> '${only}')) DO UPDATE SET doc = excluded.doc, created_at = now(), expires_at = excluded.expires_at
           WHERE t.expires_at <= now() RETURNING id`,
        [JSON.stringify(doc), this.ttlFor(collection, item)],
      );
      if (r.rows.length === 0) throw duplicate();
      return true;
    }
    await this.writing(collection, async () => {
      await this.purgeExpired(this.sql, collection, doc);
      try {
        await this.sql.query(`INSERT INTO ${t} (doc, expires_at) VALUES ($1::jsonb, ${EXPIRES})`, [JSON.stringify(doc), this.ttlFor(collection, item)]);
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate(err);
        throw err;
      }
    });
    return true;
  }

  /**
   * Mongo `replaceOne(query, doc, { upsert: true })`: the first matching row gets the new document (keeping its
   * place), else one is inserted. `createdAt` and the TTL restart, so idtoken/contexttoken live 24 h after the
   * latest launch. A transaction-scoped advisory lock on (table, query) serialises concurrent Replaces of one key,
   * which would otherwise both find nothing and both insert.
   */
  async Replace(
    ENCRYPTIONKEY: string | false,
    collection: string,
    query: LtijsQuery | undefined,
    item: LtijsDocument,
    index?: LtijsDocument,
  ): Promise<true> {
    this.assertReady();
    if (!collection || !item || (ENCRYPTIONKEY && !index)) throw new Error('MISSING_PARAMS');
    const t = this.table(collection);
    if (this.notStored.has(collection)) return true;
    const doc = await this.toDoc(ENCRYPTIONKEY, item, index);
    const ttl = this.ttlFor(collection, item);
    await this.writing(collection, () =>
      this.sql.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [t, canonicalJson(normalizeQuery(query))]);
        await this.purgeExpired(tx, collection, doc, query);
        const m = matchSql(query, 3);
        const updated = await tx.query(
          `UPDATE ${t} SET doc = $1::jsonb, created_at = now(), expires_at = ${EXPIRES}
            WHERE id = (SELECT id FROM ${t} WHERE ${m.sql} ORDER BY id LIMIT 1)`,
          [JSON.stringify(doc), ttl, ...m.params],
        );
        if (updated.affectedRows === 0) {
          await tx.query(`INSERT INTO ${t} (doc, expires_at) VALUES ($1::jsonb, ${EXPIRES})`, [JSON.stringify(doc), ttl]);
        }
      }),
    );
    return true;
  }

  /**
   * Mongo `updateOne(query, modification)`: `$set` of the modification's fields on the first live match; no-op
   * when nothing matches; `createdAt` untouched. Like ltijs's own implementation, the encrypted branch applies
   * only the first key of `modification` (ltijs never calls it with a key).
   */
  async Modify(ENCRYPTIONKEY: string | false, collection: string, query: LtijsQuery, modification: LtijsDocument): Promise<true> {
    this.assertReady();
    if (!collection || !query || !modification) throw new Error('MISSING_PARAMS');
    const t = this.table(collection);
    if (this.notStored.has(collection)) return true;
    if (!ENCRYPTIONKEY) {
      const m = matchSql(query, 2);
      // JSON.stringify drops undefined fields, as Mongoose ≥ 6 does in updates.
      await this.writing(collection, () =>
        this.sql.query(
          `UPDATE ${t} SET doc = doc || $1::jsonb WHERE id = (SELECT id FROM ${t} WHERE ${m.sql} AND ${LIVE} ORDER BY id LIMIT 1)`,
          [JSON.stringify(modification), ...m.params],
        ),
      );
      return true;
    }
    await this.writing(collection, () =>
      this.sql.transaction(async (tx) => {
        const m = matchSql(query, 1);
        const { rows } = await tx.query<{ id: string; doc: LtijsDocument }>(
          `SELECT id, doc FROM ${t} WHERE ${m.sql} AND ${LIVE} ORDER BY id LIMIT 1 FOR UPDATE`,
          m.params,
        );
        const row = rows[0];
        if (!row) return;
        const plain = JSON.parse(await this.Decrypt(String(row.doc.data), String(row.doc.iv), ENCRYPTIONKEY)) as LtijsDocument;
        const [key, value] = Object.entries(modification)[0] ?? [];
        if (key !== undefined) plain[key] = value;
        const enc = await this.Encrypt(JSON.stringify(plain), ENCRYPTIONKEY);
        await tx.query(`UPDATE ${t} SET doc = doc || $1::jsonb WHERE id = $2`, [JSON.stringify(enc), row.id]);
      }),
    );
    return true;
  }

  /**
   * Mongo `deleteMany(query)`. ltijs calls it without `await` for state cleanup, and under Node 20 an unhandled
   * rejection ends the process: the returned promise therefore has a logging handler attached, while callers
   * that do await it still receive the error.
   */
  Delete(collection: string, query: LtijsQuery): Promise<true> {
    const run = async (): Promise<true> => {
      this.assertReady();
      if (!collection || !query) throw new Error('MISSING_PARAMS');
      if (this.notStored.has(collection)) return true;
      const m = matchSql(query, 1);
      await this.writing(collection, () => this.sql.query(`DELETE FROM ${this.table(collection)} WHERE ${m.sql}`, m.params));
      return true;
    };
    const p = run();
    p.catch((err: unknown) => logger.warn({ err: (err as Error).message, collection }, 'ltijs store delete failed'));
    return p;
  }

  /** Byte-compatible with ltijs's Database.js: AES-256-CBC, key sha256(secret), random IV, hex iv and data. */
  async Encrypt(data: string, secret: string): Promise<{ iv: string; data: string }> {
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv('aes-256-cbc', deriveKey(secret), iv);
    const encrypted = Buffer.concat([cipher.update(data, 'utf8'), cipher.final()]);
    return { iv: iv.toString('hex'), data: encrypted.toString('hex') };
  }

  async Decrypt(data: string, iv: string, secret: string): Promise<string> {
    const decipher = crypto.createDecipheriv('aes-256-cbc', deriveKey(secret), Buffer.from(iv, 'hex'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'hex')), decipher.final()]).toString('utf8');
  }

  // ---------------------------------------------------------------------------------------------------------

  private assertReady(): void {
    // Same guard as Mongo's plugin: a call before setup() (or after Close) is a programming error.
    if (!this.ready) throw new Error('PROVIDER_NOT_DEPLOYED');
  }

  private spec(collection: string): CollectionSpec {
    const spec = Object.hasOwn(this.collections, collection) ? this.collections[collection] : undefined;
    if (!spec) throw new Error(`UNKNOWN_COLLECTION: ${collection}`);
    return spec;
  }

  private tableName(collection: string): string {
    this.spec(collection);
    return `${this.prefix}${collection.toLowerCase()}`;
  }

  private table(collection: string): string {
    return `"${this.tableName(collection)}"`;
  }

  private async toDoc(ENCRYPTIONKEY: string | false, item: LtijsDocument, index?: LtijsDocument): Promise<LtijsDocument> {
    if (!ENCRYPTIONKEY) return item;
    const enc = await this.Encrypt(JSON.stringify(item), ENCRYPTIONKEY);
    return { ...index, iv: enc.iv, data: enc.data };
  }

  /** TTL of a new row; an access token is also cut to the lifetime the platform announced, minus the margin. */
  private ttlFor(collection: string, item: LtijsDocument): number | null {
    const ttl = this.spec(collection).ttl;
    if (ttl === undefined) return null;
    if (collection === 'accesstoken') {
      const token = item.token as { expires_in?: unknown } | undefined;
      const announced = Number(token?.expires_in);
      if (Number.isFinite(announced) && announced > 0) {
        return Math.max(0, Math.min(ACCESS_TOKEN_MAX_SECONDS, announced) - ACCESS_TOKEN_MARGIN_SECONDS);
      }
    }
    return ttl;
  }

  /**
   * Removes expired rows that would collide with `doc` on a unique key or that match `query`: logically they are
   * gone already (Get hides them), so they must not block or shadow a new write.
   */
  private async purgeExpired(q: SqlClient, collection: string, doc: LtijsDocument, query?: LtijsQuery): Promise<void> {
    const spec = this.spec(collection);
    if (!spec.ttl) return;
    const params: unknown[] = [];
    const ors: string[] = [];
    for (const cols of spec.unique) {
      if (cols.some((c) => doc[c] === undefined || doc[c] === null)) continue; // NULLs never collide
      ors.push(
        '(' +
          cols
            .map((c) => {
              params.push(c, typeof doc[c] === 'string' ? doc[c] : JSON.stringify(doc[c]));
              return `doc ->> $${params.length - 1}::text = $${params.length}::text`;
            })
            .join(' AND ') +
          ')',
      );
    }
    if (query !== undefined) {
      const m = matchSql(query, params.length + 1);
      params.push(...m.params);
      ors.push(`(${m.sql})`);
    }
    if (ors.length === 0) return;
    await q.query(`DELETE FROM ${this.table(collection)} WHERE expires_at <= now() AND (${ors.join(' OR ')})`, params);
  }
}

/** A row is live until its expiry; rows without one (platforms, keys) live until deleted. */
const LIVE = '(expires_at IS NULL OR expires_at > now())';
/** `$2` is the TTL in seconds, or NULL for no expiry. */
const EXPIRES = 'now() + $2::double precision * interval \'1 second\'';

function deriveKey(secret: string): Buffer {
  return crypto.createHash('sha256').update(secret).digest().subarray(0, 32);
}

/** Mongo/Mongoose turn `{ field: undefined }` into `{ field: null }`, which matches null or missing fields. */
function normalizeQuery(query: LtijsQuery | undefined): LtijsQuery {
  const out: LtijsQuery = {};
  for (const [k, v] of Object.entries(query ?? {})) out[k] = v === undefined ? null : v;
  return out;
}

/**
 * WHERE clause for a Mongo equality query on top-level fields, parameters numbered from `offset`.
 * Non-null values go through JSONB containment (served by the GIN index); objects and arrays must also be equal
 * as a whole, as Mongo compares embedded documents whole. null/undefined match a null or missing field.
 */
function matchSql(query: LtijsQuery | undefined, offset: number): { sql: string; params: unknown[] } {
  const q = normalizeQuery(query);
  const params: unknown[] = [];
  const parts: string[] = [];
  const contained: LtijsQuery = {};
  const p = (v: unknown): string => {
    params.push(v);
    return `$${offset + params.length - 1}`;
  };
  for (const [k, v] of Object.entries(q)) {
    if (v === null) {
      parts.push(`(doc -> ${p(k)}::text IS NULL OR jsonb_typeof(doc -> ${p(k)}::text) = 'null')`);
    } else {
      contained[k] = v;
      if (typeof v === 'object') parts.push(`doc -> ${p(k)}::text = ${p(JSON.stringify(v))}::jsonb`);
    }
  }
  if (Object.keys(contained).length > 0) parts.unshift(`doc @> ${p(JSON.stringify(contained))}::jsonb`);
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'TRUE', params };
}

/** JSON with sorted keys, so one logical query always takes the same advisory lock. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
