import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { UNNAMED, type Orm } from '../db/database';
import { ltiLogins, type LtiLogin } from './schema';

/** A login is valid for ten minutes, like ltijs's state, and can be answered once. */
export const LOGIN_TTL_SECONDS = 600;

export class LoginRepository {
  // Each launch runs these two: built once (see UNNAMED).
  private readonly findQuery;
  private readonly consumeQuery;

  constructor(private readonly orm: Orm) {
    this.findQuery = orm
      .select({ login: ltiLogins, expired: sql<boolean>`${ltiLogins.createdAt} < now() - make_interval(secs => ${LOGIN_TTL_SECONDS})` })
      .from(ltiLogins)
      .where(eq(ltiLogins.state, sql.placeholder('state')))
      .limit(1)
      .prepare(UNNAMED);
    this.consumeQuery = orm
      .update(ltiLogins)
      .set({ usedAt: sql`now()` })
      .where(and(eq(ltiLogins.state, sql.placeholder('state')), isNull(ltiLogins.usedAt), gt(ltiLogins.createdAt, sql`now() - make_interval(secs => ${LOGIN_TTL_SECONDS})`)))
      .returning({ state: ltiLogins.state })
      .prepare(UNNAMED);
  }

  async create(login: Omit<LtiLogin, 'createdAt' | 'usedAt'>): Promise<void> {
    await this.orm.insert(ltiLogins).values(login);
  }

  async find(state: string): Promise<(LtiLogin & { expired: boolean }) | undefined> {
    const [row] = await this.findQuery.execute({ state });
    return row ? { ...row.login, expired: row.expired } : undefined;
  }

  /** Marks the login used. Exactly one of several concurrent launches with the same state wins. */
  async consume(state: string): Promise<boolean> {
    const rows = await this.consumeQuery.execute({ state });
    return rows.length === 1;
  }

  /** Used rows are kept a day (replay attempts stay recognisable), then swept. */
  async sweep(): Promise<number> {
    const rows = await this.orm.delete(ltiLogins).where(lt(ltiLogins.createdAt, sql`now() - interval '1 day'`)).returning({ state: ltiLogins.state });
    return rows.length;
  }
}
