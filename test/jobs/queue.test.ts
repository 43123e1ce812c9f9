import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/database';
import { JobQueue } from '../../src/jobs/queue';

async function waitFor(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the durable job queue', () => {
  let db: Database;
  let queue: JobQueue;
  const seen: string[] = [];
  let failuresLeft = 2;

  beforeAll(async () => {
    db = await openDatabase({ url: process.env.DATABASE_URL, poolMax: 4 });
    queue = JobQueue.create(db, { connectionString: process.env.DATABASE_URL });
    queue.define<{ v: string }>({ name: 'test.echo', handler: async ({ v }) => void seen.push(v), pollingIntervalSeconds: 0.5 });
    queue.define<{ v: string }>({
      name: 'test.flaky',
      retryDelaySeconds: 1,
      pollingIntervalSeconds: 0.5,
      handler: async ({ v }) => {
        if (failuresLeft-- > 0) throw new Error('Canvas is down');
        seen.push(v);
      },
    });
    queue.define<{ v: string }>({ name: 'test.singleton', policy: 'stately', handler: async () => undefined });
    await queue.start();
  });
  afterAll(async () => {
    await queue.stop();
    await db.close();
  });

  it('runs a job sent outside a transaction', async () => {
    await queue.send('test.echo', { v: 'plain' });
    await waitFor(() => seen.includes('plain'));
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const id = (await queue.send('test.flaky', { v: 'eventually' }))!;
    await waitFor(() => seen.includes('eventually'), 30_000);
    await waitFor(async () => (await queue.find('test.flaky', id))?.state === 'completed');
    expect((await queue.find('test.flaky', id))?.retryCount).toBe(2);
  });

  it('keeps a job sent inside a transaction only if the transaction commits (outbox)', async () => {
    await db.orm.transaction(async (tx) => {
      await tx.execute(sql`SELECT 1`);
      await queue.send('test.echo', { v: 'committed' }, { tx });
    });
    await expect(
      db.orm.transaction(async (tx) => {
        await queue.send('test.echo', { v: 'rolled-back' }, { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await waitFor(() => seen.includes('committed'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen).not.toContain('rolled-back');
  });

  it('keeps at most one waiting job per singleton key (stately)', async () => {
    const first = await queue.send('test.singleton', { v: 'a' }, { singletonKey: 'course-1', startAfterSeconds: 60 });
    const second = await queue.send('test.singleton', { v: 'b' }, { singletonKey: 'course-1', startAfterSeconds: 60 });
    const other = await queue.send('test.singleton', { v: 'c' }, { singletonKey: 'course-2', startAfterSeconds: 60 });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    expect(other).toEqual(expect.any(String));
  });
});
