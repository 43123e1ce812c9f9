import { PgBoss, fromDrizzle, fromPglite, type Job, type SendOptions } from 'pg-boss';
import { sql } from 'drizzle-orm';
import type { Database, Orm } from '../db/database';
import { logger } from '../log';

/**
 * The durable job queue: pg-boss in the same PostgreSQL (or PGlite) as everything else, so several app
 * instances share it, a job sent inside a transaction exists only if the transaction commits (the outbox),
 * and nothing is lost in a crash: a job not completed is retried with backoff, then kept as failed.
 */
export interface JobDefinition<T extends object> {
  name: string;
  handler: (data: T, job: Job<T>) => Promise<void>;
  /** Retries, expiry, and the policy ('stately' keeps at most one queued and one active job per singletonKey: one sync per course). */
  retryLimit?: number;
  retryDelaySeconds?: number;
  expireInSeconds?: number;
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  /** How many jobs of this kind one instance runs at once. */
  concurrency?: number;
  pollingIntervalSeconds?: number;
}

export interface EnqueueOptions {
  /** Enqueue inside this transaction: the job exists only if it commits. */
  tx?: Orm;
  singletonKey?: string;
  startAfterSeconds?: number;
  retryLimit?: number;
}

export class JobQueue {
  private readonly definitions = new Map<string, JobDefinition<object>>();
  private started = false;

  private constructor(private readonly boss: PgBoss) {
    boss.on('error', (err) => logger.error({ err }, 'job queue error'));
  }

  /** `schema` is pg-boss's own schema: one per deployment (tests give each server its own, so jobs never cross). */
  static create(db: Database, opts: { connectionString?: string; max?: number; schema?: string } = {}): JobQueue {
    const schema = opts.schema ?? 'pgboss';
    const boss =
      db.kind === 'pglite'
        ? new PgBoss({ db: fromPglite(db.pglite! as never), backend: 'pglite', schema })
        : new PgBoss({ connectionString: opts.connectionString, max: opts.max ?? 4, application_name: 'microcred-jobs', schema });
    return new JobQueue(boss);
  }

  define<T extends object>(def: JobDefinition<T>): void {
    if (this.started) throw new Error(`define job ${def.name} before the queue starts`);
    this.definitions.set(def.name, def as unknown as JobDefinition<object>);
  }

  /** Installs or upgrades pg-boss's schema, creates the queues and starts the workers. */
  async start(opts: { work?: boolean } = {}): Promise<void> {
    await this.boss.start();
    for (const def of this.definitions.values()) {
      await this.boss.createQueue(def.name, {
        policy: def.policy ?? 'standard',
        retryLimit: def.retryLimit ?? 8,
        retryDelay: def.retryDelaySeconds ?? 5,
        retryBackoff: true,
        retryDelayMax: 3600,
        expireInSeconds: def.expireInSeconds ?? 15 * 60,
      });
      if (opts.work !== false) {
        await this.boss.work<object>(def.name, { batchSize: 1, localConcurrency: def.concurrency ?? 2, pollingIntervalSeconds: def.pollingIntervalSeconds ?? 1 }, async ([job]) => {
          if (!job) return;
          await def.handler(job.data, job);
        });
      }
    }
    this.started = true;
  }

  async send<T extends object>(name: string, data: T, opts: EnqueueOptions = {}): Promise<string | null> {
    if (!this.definitions.has(name)) throw new Error(`unknown job ${name}`);
    const options: SendOptions = {};
    if (opts.singletonKey) options.singletonKey = opts.singletonKey;
    if (opts.startAfterSeconds) options.startAfter = opts.startAfterSeconds;
    if (opts.retryLimit !== undefined) options.retryLimit = opts.retryLimit;
    if (opts.tx) options.db = fromDrizzle(opts.tx as never, sql as never);
    return this.boss.send(name, data, options);
  }

  async schedule(name: string, cron: string, data: object = {}, key?: string): Promise<void> {
    await this.boss.schedule(name, cron, data, key ? { key } : undefined);
  }

  /** The state of one job, for tests and the designer's "passback state" views. */
  async find(name: string, id: string) {
    const [job] = await this.boss.findJobs(name, { id });
    return job;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: 10_000 });
  }
}
