import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { openDatabase, type Database } from '../../src/db/database';
import { LTIJS_COLLECTIONS, LtijsPostgresStore } from '../../src/lti/ltijsStore';
import { createLtiProvider, type LtiIdToken, type LtiPlatformRegistration, type LtiProvider } from '../../src/lti/ltijsTypes';

/** ltijs's MongoDB plugin, for format compatibility only: its constructor registers schemas and never connects. */
interface MongoCrypto {
  Encrypt(data: string, secret: string): Promise<{ iv: string; data: string }>;
  Decrypt(data: string, iv: string, secret: string): Promise<string>;
}
const MongoDatabase = createRequire(__filename)('ltijs/dist/Utils/Database') as new (cfg: { url: string }) => MongoCrypto;

const KEY = 'ltijs-store-test-secret';
const uid = (): string => crypto.randomBytes(6).toString('hex');

// Other test files share this database in parallel: every test uses its own random keys and never assumes empty tables.
let db: Database;
let store: LtijsPostgresStore;

beforeAll(async () => {
  db = await openDatabase({ url: process.env.DATABASE_URL, poolMax: 10 });
  store = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 120, sweepIntervalMs: 0 });
  await store.setup();
});

afterAll(async () => {
  await store.Close();
  await db.close();
});

async function rawRows(table: string, field: string, value: string) {
  const { rows } = await db.sql.query<{ id: string; doc: Record<string, unknown>; created_at: Date; expires_at: Date | null; ttl: number | null }>(
    `SELECT id, doc, created_at, expires_at, extract(epoch FROM expires_at - created_at)::float8 AS ttl FROM ${table} WHERE doc ->> $1 = $2 ORDER BY id`,
    [field, value],
  );
  return rows;
}

async function expire(table: string, field: string, value: string): Promise<void> {
  await db.sql.query(`UPDATE ${table} SET expires_at = now() - interval '1 second' WHERE doc ->> $1 = $2`, [field, value]);
}

describe('LtijsPostgresStore: ltijs database plugin contract', () => {
  test('setup checks the tables, is idempotent, and guards calls made before it', async () => {
    await expect(store.setup()).resolves.toBe(true);
    const missing = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, tablePrefix: 'nope_' });
    await expect(missing.setup()).rejects.toThrow(/^ltijs tables are missing: nope_idtoken, nope_contexttoken, .*nope_state; run npm run migrate$/);
    await expect(missing.Get(false, 'state', { state: 'x' })).rejects.toThrow('PROVIDER_NOT_DEPLOYED');
    await expect(store.Get(false, 'sessions')).rejects.toThrow('UNKNOWN_COLLECTION: sessions');
    expect(() => new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, tablePrefix: 'x"; DROP' })).toThrow(/invalid table prefix/);
  });

  test('Get returns false, not [], when nothing matches', async () => {
    await expect(store.Get(false, 'state', { state: uid() })).resolves.toBe(false);
    await expect(store.Get(KEY, 'accesstoken', { platformUrl: uid(), clientId: 'c', scopes: 's' })).resolves.toBe(false);
  });

  test('Get matches every field of the query and returns plain documents without row internals', async () => {
    const iss = `https://${uid()}.example`;
    const base = { iss, clientId: 'c1', deploymentId: 'd1', user: 'u1', userInfo: { name: 'Ada' } };
    await store.Replace(false, 'idtoken', { iss, clientId: 'c1', deploymentId: 'd1', user: 'u1' }, base);
    await store.Replace(false, 'idtoken', { iss, clientId: 'c1', deploymentId: 'd2', user: 'u1' }, { ...base, deploymentId: 'd2' });
    await store.Replace(false, 'idtoken', { iss, clientId: 'c2', deploymentId: 'd1', user: 'u1' }, { ...base, clientId: 'c2' });
    await store.Insert(false, 'idtoken', { iss, clientId: 'c1', user: 'u1' }); // no deploymentId at all

    const one = await store.Get(false, 'idtoken', { iss, clientId: 'c1', deploymentId: 'd1', user: 'u1' });
    expect(one).toHaveLength(1);
    const doc = (one as Record<string, unknown>[])[0]!;
    expect(doc).toEqual({ ...base, createdAt: expect.any(Date) });
    expect(Object.keys(doc).sort()).toEqual(['clientId', 'createdAt', 'deploymentId', 'iss', 'user', 'userInfo']);
    expect(Date.now() - (doc.createdAt as Date).getTime()).toBeLessThan(60_000);

    expect(await store.Get(false, 'idtoken', { iss, clientId: 'c1' })).toHaveLength(3);
    expect(await store.Get(false, 'idtoken', { iss, user: 'u1' })).toHaveLength(4);
    expect(await store.Get(false, 'idtoken', { iss, clientId: 'c1', deploymentId: 'd3' })).toBe(false);
    // Mongo semantics: an undefined value matches only a missing/null field, it is not dropped from the filter.
    const noDeployment = await store.Get(false, 'idtoken', { iss, clientId: 'c1', deploymentId: undefined });
    expect(noDeployment).toEqual([{ iss, clientId: 'c1', user: 'u1', createdAt: expect.any(Date) }]);
    // Embedded documents compare whole, as in Mongo.
    expect(await store.Get(false, 'idtoken', { iss, userInfo: { name: 'Ada' } })).toHaveLength(3);
    expect(await store.Get(false, 'idtoken', { iss, userInfo: {} })).toBe(false);

    // Collections without a TTL have no createdAt (as in Mongo); no query means every row.
    const kid = uid();
    await store.Replace(false, 'platform', { platformUrl: iss, clientId: 'c1' }, { platformUrl: iss, clientId: 'c1', kid, authConfig: { method: 'JWK_SET', key: 'k' } });
    expect(await store.Get(false, 'platform', { kid })).toEqual([{ platformUrl: iss, clientId: 'c1', kid, authConfig: { method: 'JWK_SET', key: 'k' } }]);
    const all = (await store.Get(false, 'platform')) as Record<string, unknown>[];
    expect(all.some((p) => p.kid === kid)).toBe(true);
    await store.Delete('platform', { kid }); // other test files list platforms in this database
  });

  test('rows get the TTLs ltijs expects from MongoDB, with the nonce and access-token adjustments', async () => {
    const id = uid();
    await store.Replace(false, 'idtoken', { iss: id, user: 'u' }, { iss: id, user: 'u' });
    await store.Replace(false, 'contexttoken', { contextId: id, user: 'u' }, { contextId: id, user: 'u' });
    await store.Insert(false, 'state', { state: id, query: {} });
    await store.Insert(false, 'nonce', { nonce: id });
    await store.Replace(KEY, 'accesstoken', { platformUrl: id, clientId: 'c', scopes: 'a' }, { token: { access_token: 't', expires_in: 3600 } }, { platformUrl: id, clientId: 'c', scopes: 'a' });
    await store.Replace(KEY, 'accesstoken', { platformUrl: id, clientId: 'c', scopes: 'b' }, { token: { access_token: 't', expires_in: 600 } }, { platformUrl: id, clientId: 'c', scopes: 'b' });
    await store.Replace(false, 'platform', { platformUrl: id, clientId: 'c' }, { platformUrl: id, clientId: 'c', kid: id });

    expect((await rawRows('ltijs_idtoken', 'iss', id))[0]?.ttl).toBe(86400);
    expect((await rawRows('ltijs_contexttoken', 'contextId', id))[0]?.ttl).toBe(86400);
    expect((await rawRows('ltijs_state', 'state', id))[0]?.ttl).toBe(600);
    expect((await rawRows('ltijs_nonce', 'nonce', id))[0]?.ttl).toBe(120);
    expect((await rawRows('ltijs_accesstoken', 'platformUrl', id)).map((r) => r.ttl)).toEqual([3540, 540]);
    expect((await rawRows('ltijs_platform', 'platformUrl', id))[0]?.expires_at).toBeNull();
    await store.Delete('platform', { kid: id });

    // A nonce is never forgotten in less than 60 s, whatever the token max age.
    const short = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 5, sweepIntervalMs: 0 });
    expect(short.ttlSeconds('nonce')).toBe(60);
    expect(store.ttlSeconds('nonce')).toBe(120);
    expect(store.ttlSeconds('platform')).toBeUndefined();
  });

  test('expired rows are invisible to Get, swept by sweep(), and no longer block a new insert', async () => {
    const state = uid();
    await store.Insert(false, 'state', { state, query: { a: '1' } });
    expect(await store.Get(false, 'state', { state })).toEqual([{ state, query: { a: '1' }, createdAt: expect.any(Date) }]);
    await expect(store.Insert(false, 'state', { state, query: {} })).rejects.toThrow('DUPLICATE_KEY: state');

    await expire('ltijs_state', 'state', state);
    expect(await store.Get(false, 'state', { state })).toBe(false);
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    expect(await rawRows('ltijs_state', 'state', state)).toHaveLength(0);

    // An expired row that was not swept yet is replaced, not reported as a duplicate.
    await store.Insert(false, 'state', { state, query: { b: '2' } });
    await expire('ltijs_state', 'state', state);
    await store.Insert(false, 'state', { state, query: { c: '3' } });
    const rows = await rawRows('ltijs_state', 'state', state);
    expect(rows.map((r) => r.doc.query)).toEqual([{ c: '3' }]);
  });

  test('the sweep timer removes expired rows and Close stops it', async () => {
    const timed = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 30 });
    await timed.setup();
    const nonce = uid();
    await timed.Insert(false, 'nonce', { nonce });
    await expire('ltijs_nonce', 'nonce', nonce);
    const deadline = Date.now() + 5000;
    while ((await rawRows('ltijs_nonce', 'nonce', nonce)).length > 0 && Date.now() < deadline) await sleep(20);
    expect(await rawRows('ltijs_nonce', 'nonce', nonce)).toHaveLength(0);

    await timed.Close();
    await expect(timed.Get(false, 'nonce', { nonce })).rejects.toThrow('PROVIDER_NOT_DEPLOYED');
    const after = uid();
    await db.sql.query(`INSERT INTO ltijs_nonce (doc, expires_at) VALUES ($1::jsonb, now() - interval '1 second')`, [JSON.stringify({ nonce: after })]);
    await sleep(200);
    expect(await rawRows('ltijs_nonce', 'nonce', after)).toHaveLength(1);
  });

  test('Replace upserts in place and refreshes createdAt and the TTL', async () => {
    const contextId = uid();
    const q = { contextId, user: 'u' };
    await store.Replace(false, 'contexttoken', q, { ...q, path: '/a' });
    const [first] = await rawRows('ltijs_contexttoken', 'contextId', contextId);
    // Age the row: a launch 23 h ago, one hour left.
    await db.sql.query(`UPDATE ltijs_contexttoken SET created_at = now() - interval '23 hours', expires_at = now() + interval '1 hour' WHERE id = $1`, [first!.id]);

    await store.Replace(false, 'contexttoken', q, { ...q, path: '/b', roles: ['Learner'] });
    const rows = await rawRows('ltijs_contexttoken', 'contextId', contextId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(first!.id);
    expect(rows[0]!.doc).toEqual({ ...q, path: '/b', roles: ['Learner'] });
    expect(Date.now() - rows[0]!.created_at.getTime()).toBeLessThan(60_000);
    expect(rows[0]!.ttl).toBe(86400);

    // An expired match is not resurrected with its old content: it is replaced like a missing one.
    await expire('ltijs_contexttoken', 'contextId', contextId);
    await store.Replace(false, 'contexttoken', q, { ...q, path: '/c' });
    const again = await store.Get(false, 'contexttoken', q);
    expect(again).toEqual([{ ...q, path: '/c', createdAt: expect.any(Date) }]);
    expect(await rawRows('ltijs_contexttoken', 'contextId', contextId)).toHaveLength(1);
  });

  test('concurrent Replaces of one key leave exactly one row', async () => {
    // Many small rounds: each starts on an empty key, where an unlocked "update nothing, then insert" races.
    const users = Array.from({ length: 20 }, () => uid());
    for (const user of users) {
      const q = { iss: 'https://canvas.test', clientId: 'c', deploymentId: 'd', user };
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.Replace(false, 'idtoken', { ...q }, { ...q, n: i })));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
    const { rows } = await db.sql.query<{ user: string; n: number }>(
      `SELECT doc ->> 'user' AS user, count(*)::int AS n FROM ltijs_idtoken WHERE doc ->> 'user' = ANY($1::text[]) GROUP BY 1`,
      [users],
    );
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(rows).toHaveLength(users.length);

    // Key order in the query does not change the lock.
    const user = users[0]!;
    const q = { iss: 'https://canvas.test', clientId: 'c', deploymentId: 'd', user };
    await Promise.all([
      store.Replace(false, 'idtoken', { user, deploymentId: 'd', clientId: 'c', iss: 'https://canvas.test' }, { ...q, n: 'x' }),
      store.Replace(false, 'idtoken', { ...q }, { ...q, n: 'y' }),
    ]);
    expect(await rawRows('ltijs_idtoken', 'user', user)).toHaveLength(1);
  });

  test('encrypted collections: round trip, no plaintext at rest, createdAt in ms, byte-compatible with ltijs Database.js', async () => {
    const platformUrl = `https://${uid()}.example`;
    const index = { platformUrl, clientId: 'c', scopes: 'https://purl.imsglobal.org/spec/lti-ags/scope/score' };
    const token = { access_token: `secret-${uid()}`, token_type: 'bearer', expires_in: 3600, scope: index.scopes };
    await expect(store.Insert(KEY, 'accesstoken', { token })).rejects.toThrow('MISSING_PARAMS');
    await expect(store.Replace(KEY, 'accesstoken', index, { token })).rejects.toThrow('MISSING_PARAMS');
    await store.Replace(KEY, 'accesstoken', index, { token }, index);

    const [row] = await rawRows('ltijs_accesstoken', 'platformUrl', platformUrl);
    expect(Object.keys(row!.doc).sort()).toEqual(['clientId', 'data', 'iv', 'platformUrl', 'scopes']);
    expect(row!.doc.iv).toMatch(/^[0-9a-f]{32}$/);
    expect(row!.doc.data).toMatch(/^[0-9a-f]+$/);
    expect(JSON.stringify(row!.doc)).not.toContain(token.access_token);

    const got = (await store.Get(KEY, 'accesstoken', index)) as Record<string, unknown>[];
    expect(got).toEqual([{ token, createdAt: expect.any(Number) }]);
    expect(Math.abs(Date.now() - (got[0]!.createdAt as number))).toBeLessThan(60_000);
    // ltijs's access-token freshness test on this row: not stale.
    expect((Date.now() - (got[0]!.createdAt as number)) / 1000 > token.expires_in).toBe(false);

    // The plain Get (ltijs's kid-uniqueness probe) sees the stored row as is.
    expect(await store.Get(false, 'accesstoken', index)).toEqual([{ ...row!.doc, createdAt: expect.any(Date) }]);

    // ltijs's own implementation reads our ciphertext, and we read its.
    const mongo = new MongoDatabase({ url: 'mongodb://127.0.0.1:1/never-connected' });
    expect(JSON.parse(await mongo.Decrypt(String(row!.doc.data), String(row!.doc.iv), KEY))).toEqual({ token });
    const theirs = await mongo.Encrypt(JSON.stringify({ key: 'PEM', kid: 'k' }), KEY);
    expect(JSON.parse(await store.Decrypt(theirs.data, theirs.iv, KEY))).toEqual({ key: 'PEM', kid: 'k' });
    await expect(store.Decrypt(String(row!.doc.data), String(row!.doc.iv), 'another-secret')).rejects.toThrow();

    // Keys carry no createdAt (none in Mongo's key schema).
    const kid = uid();
    await store.Replace(KEY, 'publickey', { platformUrl, clientId: 'c' }, { key: 'PUBLIC PEM', kid }, { kid, platformUrl, clientId: 'c' });
    expect(await store.Get(KEY, 'publickey', { kid })).toEqual([{ key: 'PUBLIC PEM', kid }]);
    expect(JSON.stringify((await rawRows('ltijs_publickey', 'kid', kid))[0]!.doc)).not.toContain('PUBLIC PEM');
    // Another file's provider serves every publickey row in its JWKS: leave none that is not a real key.
    await store.Delete('publickey', { kid });
  });

  test('Modify is updateOne: first live match only, no-op without a match, createdAt untouched', async () => {
    const user = uid();
    await store.Replace(false, 'contexttoken', { contextId: 'c1', user }, { contextId: 'c1', user, path: '/1', roles: ['A'] });
    await store.Replace(false, 'contexttoken', { contextId: 'c2', user }, { contextId: 'c2', user, path: '/2', roles: ['B'] });
    await db.sql.query(`UPDATE ltijs_contexttoken SET created_at = now() - interval '2 hours' WHERE doc ->> 'user' = $1`, [user]);

    await store.Modify(false, 'contexttoken', { user }, { path: '/new', extra: { x: 1 }, gone: undefined });
    const rows = await rawRows('ltijs_contexttoken', 'user', user);
    expect(rows.map((r) => r.doc)).toEqual([
      { contextId: 'c1', user, path: '/new', roles: ['A'], extra: { x: 1 } },
      { contextId: 'c2', user, path: '/2', roles: ['B'] },
    ]);
    expect(rows.every((r) => Date.now() - r.created_at.getTime() > 3600_000)).toBe(true);

    await expect(store.Modify(false, 'contexttoken', { user, contextId: 'nope' }, { path: '/x' })).resolves.toBe(true);
    // An expired first match is skipped, like a document Mongo's TTL monitor already removed.
    await expire('ltijs_contexttoken', 'contextId', 'c1');
    await store.Modify(false, 'contexttoken', { user }, { path: '/third' });
    expect((await rawRows('ltijs_contexttoken', 'user', user)).map((r) => r.doc.path)).toEqual(['/new', '/third']);
    await expect(store.Modify(false, 'contexttoken', undefined as never, { path: '/x' })).rejects.toThrow('MISSING_PARAMS');

    // Encrypted branch applies only the first key (ltijs quirk); plain Modify edits the clear index fields.
    const kid = uid();
    await store.Replace(KEY, 'privatekey', { platformUrl: 'p', clientId: kid }, { key: 'OLD', kid }, { kid, platformUrl: 'p', clientId: kid });
    await store.Modify(KEY, 'privatekey', { kid }, { key: 'NEW', kid: 'ignored' });
    expect(await store.Get(KEY, 'privatekey', { kid })).toEqual([{ key: 'NEW', kid }]);
    await store.Modify(false, 'privatekey', { kid }, { platformUrl: 'p2' });
    expect(await store.Get(KEY, 'privatekey', { kid, platformUrl: 'p2' })).toEqual([{ key: 'NEW', kid }]);
  });

  test('Delete removes every match and is safe to leave un-awaited', async () => {
    const user = uid();
    for (const c of ['a', 'b', 'c']) await store.Replace(false, 'contexttoken', { contextId: c, user }, { contextId: c, user });
    await store.Replace(false, 'contexttoken', { contextId: 'a', user: `${user}-other` }, { contextId: 'a', user: `${user}-other` });
    await expect(store.Delete('contexttoken', { user })).resolves.toBe(true);
    expect(await store.Get(false, 'contexttoken', { user })).toBe(false);
    expect(await store.Get(false, 'contexttoken', { user: `${user}-other` })).toHaveLength(1);
    await expect(store.Delete('contexttoken', undefined as never)).rejects.toThrow('MISSING_PARAMS');

    // ltijs does `this.Database.Delete('state', { state })` without await; a failure there must not become an
    // unhandled rejection (Jest fails the test if it does), yet an awaiting caller still sees it.
    const closed = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0 });
    void closed.Delete('state', { state: 'x' });
    await sleep(50);
    await expect(closed.Delete('state', { state: 'x' })).rejects.toThrow('PROVIDER_NOT_DEPLOYED');
  });

  test('nonce: 50 concurrent inserts of one nonce, exactly one wins; a replay within the TTL is refused', async () => {
    const nonce = uid();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.Insert(false, 'nonce', { nonce })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    expect(reasons).toEqual(Array(49).fill('NONCE_ALREADY_USED'));
    expect(await rawRows('ltijs_nonce', 'nonce', nonce)).toHaveLength(1);

    await expect(store.Insert(false, 'nonce', { nonce })).rejects.toThrow('NONCE_ALREADY_USED');
    await expire('ltijs_nonce', 'nonce', nonce);
    await expect(store.Insert(false, 'nonce', { nonce })).resolves.toBe(true);
    expect(await rawRows('ltijs_nonce', 'nonce', nonce)).toHaveLength(1);
    await expect(store.Insert(false, 'nonce', undefined as never)).rejects.toThrow('MISSING_PARAMS');
  });

  test('registration cache: Get on platform and platformStatus is answered from memory until a write or the TTL', async () => {
    const cached = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, registrationCacheMs: 60_000 });
    await cached.setup();
    const url = `https://canvas-${uid()}.test`;
    const kid = uid();
    await cached.Replace(false, 'platform', { platformUrl: url, clientId: 'c' }, { platformUrl: url, clientId: 'c', kid, platformName: 'one' });
    await cached.Replace(false, 'platformStatus', { id: kid }, { id: kid, active: true });
    expect(await cached.Get(false, 'platform', { platformUrl: url, clientId: 'c' })).toEqual([{ platformUrl: url, clientId: 'c', kid, platformName: 'one' }]);
    expect(await cached.Get(false, 'platformStatus', { id: kid })).toEqual([{ id: kid, active: true }]);

    // A change made behind the store's back (another instance) is not seen while the answer is fresh...
    await db.sql.query(`UPDATE ltijs_platform SET doc = doc || '{"platformName":"two"}' WHERE doc ->> 'kid' = $1`, [kid]);
    const answer = await cached.Get(false, 'platform', { platformUrl: url, clientId: 'c' });
    expect(answer && answer[0]!.platformName).toBe('one');
    // ...and a caller mutating an answer does not change the cache.
    if (answer) answer[0]!.platformName = 'mutated';
    expect(((await cached.Get(false, 'platform', { platformUrl: url, clientId: 'c' })) || [])[0]!.platformName).toBe('one');
    // A store without the cache reads the row every time.
    expect(((await store.Get(false, 'platform', { platformUrl: url, clientId: 'c' })) || [])[0]!.platformName).toBe('two');

    // Any write through this store forgets: a deactivation is seen by the next Get.
    await cached.Replace(false, 'platformStatus', { id: kid }, { id: kid, active: false });
    expect(await cached.Get(false, 'platformStatus', { id: kid })).toEqual([{ id: kid, active: false }]);
    expect(((await cached.Get(false, 'platform', { platformUrl: url, clientId: 'c' })) || [])[0]!.platformName).toBe('two');
    await cached.Modify(false, 'platform', { kid }, { platformName: 'three' });
    expect(((await cached.Get(false, 'platform', { kid })) || [])[0]!.platformName).toBe('three');
    await cached.Delete('platform', { kid });
    await cached.Delete('platformStatus', { id: kid });
    expect(await cached.Get(false, 'platform', { kid })).toBe(false);
    expect(await cached.Get(false, 'platformStatus', { id: kid })).toBe(false);

    // Other collections are never cached.
    const state = uid();
    expect(await cached.Get(false, 'state', { state })).toBe(false);
    await store.Insert(false, 'state', { state, query: {} });
    expect(await cached.Get(false, 'state', { state })).toHaveLength(1);

    // The TTL ends a cached answer.
    const short = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, registrationCacheMs: 50 });
    await short.setup();
    const other = uid();
    expect(await short.Get(false, 'platformStatus', { id: other })).toBe(false);
    await store.Insert(false, 'platformStatus', { id: other, active: true });
    expect(await short.Get(false, 'platformStatus', { id: other })).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(await short.Get(false, 'platformStatus', { id: other })).toEqual([{ id: other, active: true }]);
    await store.Delete('platformStatus', { id: other });
    await short.Close();
    await cached.Close();
  });

  test('notStored collections: writes succeed without a row, reads find nothing, unknown names are refused', async () => {
    const lean = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, notStored: ['idtoken', 'contexttoken'] });
    await lean.setup();
    const id = uid();
    await expect(lean.Replace(false, 'idtoken', { iss: id, user: 'u' }, { iss: id, user: 'u' })).resolves.toBe(true);
    await expect(lean.Replace(false, 'contexttoken', { contextId: id, user: 'u' }, { contextId: id, user: 'u' })).resolves.toBe(true);
    await expect(lean.Insert(false, 'idtoken', { iss: id, user: 'v' })).resolves.toBe(true);
    await expect(lean.Modify(false, 'idtoken', { iss: id }, { user: 'w' })).resolves.toBe(true);
    expect(await rawRows('ltijs_idtoken', 'iss', id)).toHaveLength(0);
    expect(await rawRows('ltijs_contexttoken', 'contextId', id)).toHaveLength(0);
    await store.Replace(false, 'idtoken', { iss: id, user: 'u' }, { iss: id, user: 'u' });
    expect(await lean.Get(false, 'idtoken', { iss: id, user: 'u' })).toBe(false);
    expect(await store.Get(false, 'idtoken', { iss: id, user: 'u' })).toHaveLength(1);
    await lean.Delete('idtoken', { iss: id });
    expect(await rawRows('ltijs_idtoken', 'iss', id)).toHaveLength(1);
    // Other collections work as ever.
    const nonce = uid();
    await lean.Insert(false, 'nonce', { nonce });
    await expect(lean.Insert(false, 'nonce', { nonce })).rejects.toThrow('NONCE_ALREADY_USED');
    expect(() => new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, notStored: ['sessions'] })).toThrow(/unknown collection sessions/);
    await lean.Close();
  });

  test('nonceCheckedByInsert: Get(nonce) asks nothing, and the insert still refuses every replay', async () => {
    const lean = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, nonceCheckedByInsert: true });
    await lean.setup();
    const nonce = uid();
    await lean.Insert(false, 'nonce', { nonce });
    expect(await lean.Get(false, 'nonce', { nonce })).toBe(false);
    expect(await store.Get(false, 'nonce', { nonce })).toHaveLength(1);
    await expect(lean.Insert(false, 'nonce', { nonce })).rejects.toThrow('NONCE_ALREADY_USED');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => lean.Insert(false, 'nonce', { nonce: nonce + 'x' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await lean.Close();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('a real ltijs Provider on LtijsPostgresStore', () => {
  const ISS = `https://canvas-${uid()}.test.instructure.com`;
  const CLIENT_ID = `10000000000${Math.floor(Math.random() * 1000)}`;
  const canvasKeys = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let lti: LtiProvider;
  let ltiStore: LtijsPostgresStore;
  // ltijs's JWKS decrypts every publickey row with its own secret, so a provider of another test file (another
  // secret) would break this one: the provider gets private copies of the migrated tables, same indexes.
  const prefix = `t${uid()}_ltijs_`;

  beforeAll(async () => {
    for (const c of LTIJS_COLLECTIONS) {
      await db.sql.query(`CREATE TABLE "${prefix}${c.toLowerCase()}" (LIKE "ltijs_${c.toLowerCase()}" INCLUDING ALL)`);
    }
    ltiStore = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 60, sweepIntervalMs: 0, tablePrefix: prefix });
    lti = createLtiProvider();
    lti.setup('provider-secret', { plugin: ltiStore }, { cookies: { secure: false, sameSite: '' }, tokenMaxAge: 60 });
    lti.onConnect((token: LtiIdToken, req, res) => {
      res.json({ user: token.user, name: token.userInfo.name, course: token.platformContext.context?.id, lang: req.query.lang });
    });
    await ltiStore.setup();
    await lti.deploy({ serverless: true, silent: true });
  });

  afterAll(async () => {
    await lti.close({ silent: true });
    for (const c of LTIJS_COLLECTIONS) await db.sql.query(`DROP TABLE IF EXISTS "${prefix}${c.toLowerCase()}"`);
  });

  test('createLtiProvider gives an independent instance, not the module singleton', () => {
    const singleton = (createRequire(__filename)('ltijs') as { Provider: object }).Provider;
    expect(lti).not.toBe(singleton);
    expect(createLtiProvider()).not.toBe(lti);
  });

  test('registerPlatform, getPlatform, platformPublicKey, JWKS, launch, deletePlatform', async () => {
    const registration: LtiPlatformRegistration = {
      url: ISS,
      name: 'Canvas test',
      clientId: CLIENT_ID,
      authenticationEndpoint: 'https://sso.test.canvaslms.com/api/lti/authorize_redirect',
      accesstokenEndpoint: 'https://canvas.test.instructure.com/login/oauth2/token',
      authConfig: { method: 'RSA_KEY', key: canvasKeys.publicKey },
    };
    const platform = await lti.registerPlatform(registration);
    const kid = await platform.platformKid();

    const found = await lti.getPlatform(ISS, CLIENT_ID);
    expect(found).not.toBe(false);
    if (!found) return;
    expect(await found.platformName()).toBe('Canvas test');
    expect(await found.platformActive()).toBe(true);
    const pem = await found.platformPublicKey();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(crypto.createPublicKey(pem).asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(await lti.getPlatformById(kid)).not.toBe(false);

    // Re-registering takes the Modify path and keeps the key pair.
    const renamed = await lti.registerPlatform({ ...registration, name: 'Canvas renamed' });
    expect(await renamed.platformName()).toBe('Canvas renamed');
    expect(await renamed.platformKid()).toBe(kid);

    const jwks = await request(lti.app).get('/keys');
    expect(jwks.status).toBe(200);
    const jwk = (jwks.body as { keys: { kid: string; kty: string; alg: string; n: string }[] }).keys.find((k) => k.kid === kid);
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(crypto.createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })).toBe(pem);

    // A simulated Canvas launch exercises state, nonce, idtoken and contexttoken through ltijs itself.
    const agent = request.agent(lti.app);
    const target = 'http://127.0.0.1/?lang=en';
    const login = async () => {
      const r = await agent.get('/login').query({ iss: ISS, login_hint: 'hint', target_link_uri: target, client_id: CLIENT_ID });
      expect(r.status).toBe(302);
      const u = new URL(r.headers.location as string);
      return { state: u.searchParams.get('state')!, nonce: u.searchParams.get('nonce')! };
    };
    const { state, nonce } = await login();
    expect(await ltiStore.Get(false, 'state', { state })).toEqual([{ state, query: { lang: 'en' }, createdAt: expect.any(Date) }]);
    const sub = `user-${uid()}`;
    const idToken = jwt.sign(
      {
        iss: ISS,
        aud: CLIENT_ID,
        sub,
        nonce,
        name: 'Ada Lovelace',
        'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiResourceLinkRequest',
        'https://purl.imsglobal.org/spec/lti/claim/version': '1.3.0',
        'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'dep-1',
        'https://purl.imsglobal.org/spec/lti/claim/target_link_uri': target,
        'https://purl.imsglobal.org/spec/lti/claim/resource_link': { id: 'rl-1' },
        'https://purl.imsglobal.org/spec/lti/claim/context': { id: 'course-1' },
        'https://purl.imsglobal.org/spec/lti/claim/roles': ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
      },
      canvasKeys.privateKey,
      { algorithm: 'RS256', keyid: 'canvas-kid', expiresIn: 300 },
    );
    const post = await agent.post('/').type('form').send({ id_token: idToken, state });
    expect(post.status).toBe(302);
    const back = new URL(post.headers.location as string, 'http://127.0.0.1');
    expect(back.searchParams.get('ltik')).toBeTruthy();
    const final = await agent.get(back.pathname + back.search);
    expect(final.status).toBe(200);
    expect(final.body).toEqual({ user: sub, name: 'Ada Lovelace', course: 'course-1', lang: 'en' });
    expect(await ltiStore.Get(false, 'idtoken', { iss: ISS, clientId: CLIENT_ID, deploymentId: 'dep-1', user: sub })).toHaveLength(1);
    expect(await ltiStore.Get(false, 'nonce', { nonce })).toHaveLength(1);

    // Replaying the captured id_token with a fresh state cookie is refused by the nonce store.
    const second = await login();
    const replay = await agent.post('/').type('form').send({ id_token: idToken, state: second.state });
    expect(replay.status).toBe(401);
    expect((replay.body as { details: { message: string } }).details.message).toBe('NONCE_ALREADY_RECEIVED');

    await lti.deletePlatform(ISS, CLIENT_ID);
    expect(await lti.getPlatform(ISS, CLIENT_ID)).toBe(false);
    expect(await ltiStore.Get(false, 'publickey', { kid })).toBe(false);
    expect(await ltiStore.Get(false, 'privatekey', { kid })).toBe(false);
    const after = (await request(lti.app).get('/keys')).body as { keys: { kid: string }[] };
    expect(after.keys.some((k) => k.kid === kid)).toBe(false);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
