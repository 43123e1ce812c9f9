import { openDatabase, ping } from '../../src/db/database';

describe('database', () => {
  it('answers queries and rolls back a failed transaction', async () => {
    const db = await openDatabase({ url: process.env.DATABASE_URL, poolMax: 2 });
    try {
      await ping(db);
      await expect(
        db.sql.transaction(async (tx) => {
          await tx.query("INSERT INTO tenants (issuer, client_id, deployment_id, platform_kid, name) VALUES ('i','c','d','k','n')");
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await db.sql.query<{ n: string }>("SELECT count(*)::text AS n FROM tenants WHERE issuer = 'i' AND client_id = 'c'");
      expect(rows[0]?.n).toBe('0');
    } finally {
      await db.close();
    }
  });

  it('reports an unreachable server as a clear error', async () => {
    await expect(openDatabase({ url: 'postgres://nobody@127.0.0.1:1/none' })).rejects.toThrow(/Cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none/);
  });
});
