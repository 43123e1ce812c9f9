import fs from 'node:fs';
import path from 'node:path';
import { Pool, type PoolClient } from 'pg';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import * as schema from './schema';
import { logger } from '../log';

/** Typed queries over either driver; a transaction (`orm.transaction(tx => …)`) has the same type. */
export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Plain SQL for the few places that need it (the ltijs plugin, health checks, locks). */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows: number }>;
}
export interface SqlPool extends SqlClient {
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export interface Database {
  kind: 'postgres' | 'pglite';
  orm: Orm;
  sql: SqlPool;
  /** The pg pool (real PostgreSQL) or the PGlite instance, for libraries that take one (pg-boss). */
  pool?: Pool;
  pglite?: PGlite;
  close(): Promise<void>;
}

/**
 * The name to give drizzle's `.prepare()` for a query built once and run often (its SQL is built at start-up, not
 * per call). Empty: node-postgres then sends it unnamed, parsed by the server each time. Named statements were
 * tried on the launch path and failed in the test suite with "prepared statement … already exists" (node-postgres lost
 * track of a statement the server had kept), so the saving is the build, not the server's parse.
 */
export const UNNAMED = '';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../drizzle');

export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Opens PostgreSQL when a URL is given, else the embedded PGlite persisted under `pgliteDir`. */
export async function openDatabase(opts: { url?: string; poolMax?: number; pgliteDir?: string }): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.poolMax ?? 10) : openPglite(opts.pgliteDir ?? 'memory://');
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its server (restart, failover) must not crash the process; pg reconnects on next use.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle PostgreSQL client lost'));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`Cannot connect to PostgreSQL at ${safeUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  const sql: SqlPool = {
    async query(text, params) {
      const r = await pool.query(text, params as unknown[]);
      return { rows: r.rows, affectedRows: r.rowCount ?? 0 };
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(clientExecutor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
  return { kind: 'postgres', orm: drizzlePg(pool, { schema }) as unknown as Orm, sql, pool, close: () => pool.end() };
}

function clientExecutor(client: PoolClient): SqlClient {
  return {
    async query(text, params) {
      const r = await client.query(text, params as unknown[]);
      return { rows: r.rows, affectedRows: r.rowCount ?? 0 };
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  if (!dir.startsWith('memory://')) fs.mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  let pglite: PGlite;
  try {
    pglite = (await PGlite.create(dir)) as unknown as PGlite;
  } catch (err) {
    throw new DatabaseUnavailableError(`Cannot open the embedded database in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const wrap = (q: Pick<PGlite, 'query'>): SqlClient => ({
    async query(text, params) {
      const r = await q.query(text, params as unknown[]);
      return { rows: r.rows as never[], affectedRows: r.affectedRows ?? 0 };
    },
  });
  const sql: SqlPool = { ...wrap(pglite), transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))) };
  return { kind: 'pglite', orm: drizzle({ client: pglite as never, schema }) as unknown as Orm, sql, pglite, close: () => pglite.close() };
}

/**
 * Applies pending migrations. On PostgreSQL an advisory lock makes concurrent starts of several
 * instances safe: one migrates, the others wait and then find nothing to do.
 */
export async function migrate(db: Database): Promise<void> {
  if (db.kind === 'pglite') {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(db.orm as never, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  const client = await db.pool!.connect();
  try {
    await client.query('SELECT pg_advisory_lock(4242001)');
    await migratePg(db.orm as never, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query('SELECT pg_advisory_unlock(4242001)').catch(() => undefined);
    client.release();
  }
}

export async function ping(db: Database): Promise<void> {
  await db.sql.query('SELECT 1');
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
