import type { CanvasAccess } from '../canvas/access';
import type { CanvasClient } from '../canvas/client';
import type { Orm } from '../db/database';
import type { JobQueue } from '../jobs/queue';
import { logger as rootLogger, type Logger } from '../log';
import { PlatformKeys } from '../lti/platformKeys';
import type { LtiMember, LtiServiceToken } from '../lti/ltijsTypes';
import { identitiesFromNrps } from './identity';
import { backgroundClient } from './canvasToken';
import { liveEventsRoute } from './events';
import type { AttachedCredential, CourseInfo } from './repository';
import { ProgressRepository } from './repository';
import { snapshotEvidence } from './snapshots';
import { ProgressSync, type AfterProgressSave, type ProgressOptions, type SyncMode } from './sync';

export const JOBS = {
  syncCourse: 'progress.syncCourse',
  refreshUser: 'progress.refreshUser',
  snapshotEvidence: 'progress.snapshotEvidence',
  syncAll: 'progress.syncAll',
  importRoster: 'progress.importRoster',
} as const;

export interface SyncCourseJob { tenantId: string; courseId: string; mode?: SyncMode | 'auto' }
export interface RefreshUserJob { tenantId: string; courseId: string; canvasUserId: string }
export interface ImportRosterJob { tenantId: string; courseId: string; idtoken: LtiServiceToken }
export interface SnapshotJob { tenantId: string; courseId: string; credentialId: string; canvasUserId: string }

/** `PROGRESS_SYNC_INTERVAL_MINUTES` as a cron line (pg-boss schedules by cron, one minute at the finest). */
export function cronEvery(minutes: number): string | undefined {
  if (minutes <= 0) return undefined;
  if (minutes < 60) return `*/${Math.max(1, Math.round(minutes))} * * * *`;
  const hours = Math.max(1, Math.round(minutes / 60));
  return hours >= 24 ? '0 3 * * *' : `0 */${hours} * * *`;
}

/**
 * Progress as one object for the app: the repository, the sync, the jobs on the durable queue, the Live Events
 * route. Jobs are `stately` with a singleton key, so across every instance there is at most one running and one
 * waiting sync per course (refreshes per earner, snapshots per earner and credential).
 */
export class Progress {
  readonly repo: ProgressRepository;
  readonly sync: ProgressSync;
  private readonly log: Logger;
  /**
   * What happens next, set by the app once review and awards exist: after an earner's progress is saved (in the same
   * transaction: awards' automatic mode); after a snapshot job (the newest evidence goes to review); after an earner's
   * refresh (evidence that waited for them to be known goes to review too).
   */
  readonly next: {
    afterSave?: AfterProgressSave;
    afterSnapshot?: (job: SnapshotJob) => Promise<unknown>;
    afterRefresh?: (job: RefreshUserJob) => Promise<unknown>;
  } = {};

  constructor(
    private readonly deps: {
      orm: Orm;
      canvas: CanvasAccess;
      queue: JobQueue;
      options?: Partial<ProgressOptions>;
      syncIntervalMinutes: number;
      liveEventsJwksUrl: string;
      clientFor?: (course: CourseInfo, attached: AttachedCredential[]) => Promise<CanvasClient>;
      /** NRPS through ltijs: every member of the launch's course, with `rlid` messages. */
      nrpsMembers?: (idtoken: LtiServiceToken) => Promise<LtiMember[]>;
      log?: Logger;
    },
  ) {
    this.log = (deps.log ?? rootLogger).child({ component: 'progress' });
    this.repo = new ProgressRepository(deps.orm);
    this.sync = new ProgressSync({
      repo: this.repo,
      canvas: deps.canvas,
      options: deps.options,
      clientFor: deps.clientFor,
      enqueueSnapshot: async (job, tx) => void (await deps.queue.send(JOBS.snapshotEvidence, job, { tx, singletonKey: `${job.credentialId}:${job.canvasUserId}` })),
      afterSave: (e) => (this.next.afterSave ? this.next.afterSave(e) : Promise.resolve()),
    });
  }

  /** Declares the jobs (before the queue starts). */
  defineJobs(): void {
    const q = this.deps.queue;
    q.define<SyncCourseJob>({
      name: JOBS.syncCourse,
      policy: 'stately',
      retryLimit: 6,
      retryDelaySeconds: 30,
      expireInSeconds: 60 * 60,
      concurrency: 2,
      handler: async (data) => {
        await this.sync.syncCourse(data);
      },
    });
    q.define<RefreshUserJob>({
      name: JOBS.refreshUser,
      policy: 'stately',
      retryLimit: 3,
      retryDelaySeconds: 10,
      expireInSeconds: 5 * 60,
      concurrency: 4,
      pollingIntervalSeconds: 0.5,
      handler: async (data) => {
        await this.sync.refreshUser(data);
        await this.next.afterRefresh?.(data);
      },
    });
    q.define<SnapshotJob>({
      name: JOBS.snapshotEvidence,
      policy: 'stately',
      retryLimit: 6,
      retryDelaySeconds: 30,
      expireInSeconds: 15 * 60,
      concurrency: 2,
      handler: async (data) => {
        await snapshotEvidence({ repo: this.repo, client: (c, a) => this.clientFor(c, a), maxFileBytes: this.sync.options.maxFileBytes }, data);
        await this.next.afterSnapshot?.(data);
      },
    });
    q.define<ImportRosterJob>({
      name: JOBS.importRoster,
      policy: 'stately',
      retryLimit: 3,
      retryDelaySeconds: 30,
      pollingIntervalSeconds: 0.5,
      handler: async (data) => {
        await this.importRoster(data);
      },
    });
    q.define<object>({
      name: JOBS.syncAll,
      retryLimit: 1,
      handler: async () => {
        for (const c of await this.repo.coursesToSync()) await this.requestSync(c.tenantId, c.courseId, 'auto');
        await this.repo.sweepReceipts();
      },
    });
  }

  /** After the queue started: the periodic sync of every course with attached micro-credentials. */
  async schedule(): Promise<void> {
    const cron = cronEvery(this.deps.syncIntervalMinutes);
    if (cron) await this.deps.queue.schedule(JOBS.syncAll, cron, {}, 'progress');
  }

  clientFor(course: CourseInfo, attached: AttachedCredential[]): Promise<CanvasClient> {
    return this.deps.clientFor ? this.deps.clientFor(course, attached) : backgroundClient(this.deps.canvas, course, attached);
  }

  /** Queues a sync of the course (at most one waiting per course); false when one is already waiting. */
  async requestSync(tenantId: string, courseId: string, mode: SyncMode | 'auto' = 'auto'): Promise<boolean> {
    const id = await this.deps.queue.send<SyncCourseJob>(JOBS.syncCourse, { tenantId, courseId, mode }, { singletonKey: courseId });
    await this.repo.markQueued(tenantId, courseId);
    return id !== null;
  }

  /** A fast refresh of one earner (launch, event). */
  async requestRefresh(job: RefreshUserJob, tx?: Orm): Promise<void> {
    await this.deps.queue.send<RefreshUserJob>(JOBS.refreshUser, job, { tx, singletonKey: `${job.courseId}:${job.canvasUserId}` });
  }

  /** NRPS (with `rlid`) → the identity map. Returns how many members were mapped. */
  async importRoster(job: ImportRosterJob): Promise<number> {
    if (!this.deps.nrpsMembers || !(await this.repo.tenantExists(job.tenantId))) return 0;
    const mapped = identitiesFromNrps(await this.deps.nrpsMembers(job.idtoken));
    await this.repo.recordIdentities(job.tenantId, 'nrps', mapped);
    return mapped.length;
  }

  liveEvents(keys = new PlatformKeys()) {
    return liveEventsRoute({ repo: this.repo, keys, defaultJwksUrl: this.deps.liveEventsJwksUrl, enqueueRefresh: (job, tx) => this.requestRefresh(job, tx), log: this.log });
  }

  /**
   * After a launch: remember who this is (sub ↔ Canvas user id) and, for an earner in a course with attached
   * micro-credentials, refresh their progress now.
   */
  async onLaunch(l: { tenantId: string; userId: string; ltiSub: string; canvasUserId?: string; name?: string | null; courseId: string | null; earner: boolean; staff: boolean; idtoken?: LtiServiceToken; nrps: boolean }): Promise<void> {
    // A staff launch with NRPS maps every member of the course at once (in the background, once per launch).
    if (l.staff && l.nrps && l.courseId && l.idtoken && this.deps.nrpsMembers) {
      await this.deps.queue.send<ImportRosterJob>(JOBS.importRoster, { tenantId: l.tenantId, courseId: l.courseId, idtoken: l.idtoken }, { singletonKey: l.courseId });
    }
    if (!l.canvasUserId) return;
    await this.repo.recordIdentities(l.tenantId, 'launch', [{ canvasUserId: l.canvasUserId, ltiSub: l.ltiSub, userId: l.userId, name: l.name ?? null }]);
    if (l.earner && l.courseId && (await this.repo.attached(l.tenantId, l.courseId)).length) {
      await this.requestRefresh({ tenantId: l.tenantId, courseId: l.courseId, canvasUserId: l.canvasUserId });
    }
  }
}
