/**
 * Runs once before all test files, in Jest's parent process.
 * - DATABASE_URL set (CI, a developer with PostgreSQL): creates a fresh database next to it, migrates it, and
 *   points the tests at it; globalTeardown drops it.
 * - DATABASE_URL unset: starts embedded PGlite behind @electric-sql/pglite-socket, so the tests still talk
 *   to a real PostgreSQL engine over the wire (PGlite cannot load inside Jest's module sandbox).
 */
import { Client } from 'pg';
import { openDatabase, migrate } from '../../src/db/database';
import { freePort } from './ports';
import { serializeExtendedProtocol } from './pgliteSerialize';

declare global {
  var __MICROCRED_TEST_DB__: { drop?: () => Promise<void>; stop?: () => Promise<void> } | undefined;
}

export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  const base = process.env.DATABASE_URL;
  if (base) {
    const name = `microcred_test_${process.pid}_${Date.now().toString(36)}`;
    const admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    process.env.MICROCRED_TEST_DB_KIND = 'postgres';
    globalThis.__MICROCRED_TEST_DB__ = {
      drop: async () => {
        const c = new Client({ connectionString: base });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const pglite = await PGlite.create('memory://');
    const port = await freePort();
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections: 100 });
    // Several connections at once (the app's pool, the job queue's): keep each one's protocol sequences whole.
    serializeExtendedProtocol(server);
    await server.start();
    process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
    process.env.MICROCRED_TEST_DB_KIND = 'pglite';
    globalThis.__MICROCRED_TEST_DB__ = {
      stop: async () => {
        await server.stop();
        await pglite.close();
      },
    };
  }
  const db = await openDatabase({ url: process.env.DATABASE_URL, poolMax: 2 });
  await migrate(db);
  await db.close();
}

