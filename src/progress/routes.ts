import { z } from 'zod';
import type { SessionContext } from '../lti/sessions';
import { defineRoutes } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { ConflictError, InvalidInputError } from '../web/errors';
import type { Progress } from './service';
import type { CourseSyncStateRow, CredentialProgressRow, ProgressState } from './schema';

export const STATE_LABELS: Record<ProgressState, string> = {
  not_started: 'Not started',
  in_progress: 'In progress',
  ready_for_review: 'Ready for review',
  in_review: 'In review',
  returned: 'Not yet — feedback waiting',
  awarded: 'Awarded',
};
const STATE_PILL: Record<ProgressState, string> = {
  not_started: 'pill--neutral',
  in_progress: 'pill--in-progress',
  ready_for_review: 'pill--ready',
  in_review: 'pill--info',
  returned: 'pill--returned',
  awarded: 'pill--awarded',
};

const SettingsSchema = z.object({ liveEventsJwksUrl: z.url({ protocol: /^https?$/ }).nullable() });
const SyncSchema = z.object({ mode: z.enum(['auto', 'full', 'incremental']).optional() });

/** What the polling script and the JSON API say about a course's sync. */
export function presentSync(s: CourseSyncStateRow | undefined) {
  const active = s?.status === 'running' || s?.status === 'queued';
  const total = s?.total ?? 0;
  const done = Math.min(s?.done ?? 0, total);
  return {
    status: s?.status ?? 'idle',
    active,
    total,
    done,
    label: s?.status === 'running' ? (total ? `Reading Canvas: ${done} of ${total} educators` : 'Reading Canvas…') : s?.status === 'queued' ? 'Waiting to start…' : s?.status === 'failed' ? 'Interrupted' : 'Up to date',
    lastSyncAt: s?.lastSyncAt?.toISOString() ?? null,
    lastFullSyncAt: s?.lastFullSyncAt?.toISOString() ?? null,
    lastError: s?.lastError ?? null,
    issues: (s?.issues ?? []).map((i) => ({ kind: i.kind, message: i.message, at: i.at })),
    lastRequests: s?.lastRequests ?? null,
    lastDurationMs: s?.lastDurationMs ?? null,
  };
}

function canvasLinks(ctx: SessionContext, canvasCourseId: string | null) {
  const base = ctx.tenant.canvasBaseUrl;
  return {
    module: (id: string) => (base && canvasCourseId ? `${base}/courses/${encodeURIComponent(canvasCourseId)}/modules#module_${encodeURIComponent(id)}` : null),
    assignment: (id: string) => (base && canvasCourseId ? `${base}/courses/${encodeURIComponent(canvasCourseId)}/assignments/${encodeURIComponent(id)}` : null),
  };
}

/** The earner's view of their own progress in the session's course (published micro-credentials only). */
export async function earnerProgress(progress: Progress, ctx: SessionContext, launchedAt: Date) {
  const course = ctx.course;
  const canvasUserId = ctx.user.canvasUserId;
  if (!course) return { credentials: [], refreshing: false, knowsCanvasId: !!canvasUserId };
  const attached = (await progress.repo.attached(ctx.tenant.id, course.id)).filter((a) => a.state === 'published');
  const rows = canvasUserId ? await progress.repo.progressFor(ctx.tenant.id, course.id, canvasUserId) : [];
  const state = await progress.repo.syncState(ctx.tenant.id, course.id);
  const names = state?.moduleNames ?? {};
  const links = canvasLinks(ctx, course.canvasCourseId);
  const credentials = attached.map((a) => {
    const row = rows.find((r) => r.credentialId === a.credentialId);
    const done = new Set(row?.doneModuleIds ?? []);
    const missing = new Set(row?.missingModuleIds ?? []);
    const st: ProgressState = row?.state ?? 'not_started';
    return {
      credentialId: a.credentialId,
      name: a.name,
      state: st,
      stateLabel: STATE_LABELS[st],
      pill: STATE_PILL[st],
      summary: row?.summary || `0 of ${a.moduleIds.length} modules done; evidence not submitted yet`,
      modulesDone: row?.modulesDone ?? 0,
      modulesTotal: a.moduleIds.length,
      evidence: { state: row?.evidenceState ?? 'missing', attempt: row?.evidenceAttempt ?? null, submittedAt: row?.evidenceSubmittedAt?.toISOString() ?? null, url: links.assignment(a.assignmentId) },
      modules: a.moduleIds.map((id, i) => ({ id, name: names[id] ?? `Module ${i + 1}`, done: done.has(id), missing: missing.has(id), url: links.module(id) })),
      updatedAt: row?.updatedAt?.toISOString() ?? null,
    };
  });
  // Just launched and the fast refresh has not written yet: say so (for a minute at most).
  const fresh = Date.now() - launchedAt.getTime() < 60_000;
  const refreshing = !!canvasUserId && ctx.roles.includes('earner') && attached.length > 0 && fresh && (rows.length < attached.length || rows.some((r) => r.updatedAt < launchedAt));
  return { credentials, refreshing, knowsCanvasId: !!canvasUserId };
}

/** The designer's table: every educator of the course × every attached micro-credential. */
async function courseTable(progress: Progress, ctx: SessionContext) {
  const course = ctx.course!;
  const [attached, rows, roster, state] = await Promise.all([
    progress.repo.attached(ctx.tenant.id, course.id),
    progress.repo.progressForCourse(ctx.tenant.id, course.id),
    progress.repo.roster(ctx.tenant.id, course.id),
    progress.repo.syncState(ctx.tenant.id, course.id),
  ]);
  const byKey = new Map<string, CredentialProgressRow>(rows.map((r) => [`${r.credentialId}:${r.canvasUserId}`, r]));
  const people = [...roster].sort((a, b) => Number(b.enrolled) - Number(a.enrolled) || (a.name ?? '').localeCompare(b.name ?? ''));
  return {
    sync: presentSync(state),
    credentials: attached.map((a) => {
      const list = people.map((p) => {
        const r = byKey.get(`${a.credentialId}:${p.canvasUserId}`);
        const st: ProgressState = r?.state ?? 'not_started';
        return {
          canvasUserId: p.canvasUserId, name: p.name ?? `Canvas user ${p.canvasUserId}`, enrolled: p.enrolled, modules: `${r?.modulesDone ?? 0} of ${a.moduleIds.length}`,
          evidence: r?.evidenceState === 'submitted' ? `Submitted${r.evidenceAttempt && r.evidenceAttempt > 1 ? ` (attempt ${r.evidenceAttempt})` : ''}` : r?.evidenceState === 'excused' ? 'Excused' : 'Not submitted',
          state: st, stateLabel: STATE_LABELS[st], pill: STATE_PILL[st], summary: r?.summary ?? '',
        };
      });
      const counts = Object.fromEntries((Object.keys(STATE_LABELS) as ProgressState[]).map((s) => [s, list.filter((x) => x.state === s && x.enrolled).length]));
      return { credentialId: a.credentialId, name: a.name, published: a.state === 'published', moduleCount: a.moduleIds.length, rows: list, counts };
    }),
  };
}

function requireCourse(ctx: SessionContext) {
  if (!ctx.course) throw new ConflictError('Open microcred from a Canvas course to see its progress.');
  return ctx.course;
}

export function progressRoutes(deps: { progress: Progress; sessionTtlMinutes: number }) {
  const { progress } = deps;
  const launchedAt = (ctx: SessionContext) => new Date(ctx.expiresAt.getTime() - deps.sessionTtlMinutes * 60_000);
  describeApi([
    { method: 'get', path: '/api/progress/course', tag: 'progress', summary: 'This course’s sync state and every educator’s progress per attached micro-credential', description: 'Designers and admins. `sync.active` is true while a sync is queued or running; `done`/`total` count educators.' },
    { method: 'post', path: '/api/progress/course/sync', tag: 'progress', summary: 'Queue a sync of this course with Canvas (one waits at most per course)', body: SyncSchema, response: { status: 202, description: 'Queued, or already waiting' } },
    { method: 'get', path: '/api/progress/me', tag: 'progress', summary: 'My progress on the published micro-credentials of this course', description: '`poll.active` is true while the refresh started by the launch has not finished.' },
    { method: 'get', path: '/api/progress/settings', tag: 'progress', summary: 'Where Canvas Live Events signing keys are read (admins)' },
    { method: 'put', path: '/api/progress/settings', tag: 'progress', summary: 'Set the Live Events JWKS URL for this district (null: Canvas’s)', body: SettingsSchema },
  ]);
  return defineRoutes([
    {
      method: 'get',
      path: '/progress',
      action: 'progress.course',
      handler: async (ctx, req, res) => {
        requireCourse(ctx);
        const table = await courseTable(progress, ctx);
        const queued = (req.query as Record<string, unknown>).queued;
        res.render('progress/course', {
          title: 'Course progress', ...table, queued: queued === '1' ? 'new' : queued === '0' ? 'waiting' : null,
          eventsUrl: `${res.app.locals.publicUrl as string}/canvas/events/${ctx.tenant.id}`, scripts: ['/assets/js/progress-poll.js'],
        });
      },
    },
    {
      method: 'post',
      path: '/progress/sync',
      action: 'progress.sync',
      handler: async (ctx, req, res) => {
        const course = requireCourse(ctx);
        const mode = SyncSchema.safeParse(req.body ?? {});
        const queued = await progress.requestSync(ctx.tenant.id, course.id, mode.success ? (mode.data.mode ?? 'auto') : 'auto');
        res.redirect(303, `${ctx.base}/progress?queued=${queued ? '1' : '0'}`);
      },
    },
    {
      method: 'get',
      path: '/api/progress/course',
      action: 'progress.course',
      kind: 'api',
      handler: async (ctx, req, res) => {
        requireCourse(ctx);
        if ((req.query as Record<string, unknown>).rows === '0') {
          const sync = presentSync(await progress.repo.syncState(ctx.tenant.id, ctx.course!.id));
          res.json({ sync, poll: { active: sync.active, done: sync.done, total: sync.total, label: sync.label } });
          return;
        }
        const table = await courseTable(progress, ctx);
        res.json({ ...table, poll: { active: table.sync.active, done: table.sync.done, total: table.sync.total, label: table.sync.label } });
      },
    },
    {
      method: 'post',
      path: '/api/progress/course/sync',
      action: 'progress.sync',
      kind: 'api',
      handler: async (ctx, req, res) => {
        const course = requireCourse(ctx);
        const body = SyncSchema.safeParse(req.body ?? {});
        if (!body.success) throw new InvalidInputError('Unknown sync mode.', { mode: 'Use auto, full or incremental.' });
        const queued = await progress.requestSync(ctx.tenant.id, course.id, body.data.mode ?? 'auto');
        res.status(202).json({ queued, message: queued ? 'Sync queued.' : 'A sync of this course is already waiting to run.' });
      },
    },
    {
      method: 'get',
      path: '/api/progress/me',
      action: 'progress.mine',
      kind: 'api',
      handler: async (ctx, _req, res) => {
        const mine = await earnerProgress(progress, ctx, launchedAt(ctx));
        res.json({ ...mine, poll: { active: mine.refreshing, done: 0, total: 0, label: mine.refreshing ? 'Checking Canvas for your latest progress…' : 'Up to date' } });
      },
    },
    {
      method: 'get',
      path: '/api/progress/settings',
      action: 'progress.settings',
      kind: 'api',
      handler: async (ctx, _req, res) => {
        res.json({ ...(await progress.repo.settings(ctx.tenant.id)), eventsPath: `/canvas/events/${ctx.tenant.id}` });
      },
    },
    {
      method: 'put',
      path: '/api/progress/settings',
      action: 'progress.settings',
      kind: 'api',
      handler: async (ctx, req, res) => {
        const parsed = SettingsSchema.safeParse(req.body ?? {});
        if (!parsed.success) throw new InvalidInputError('Check the JWKS URL.', { liveEventsJwksUrl: 'An http(s) URL, or null for Canvas’s own keys.' });
        await progress.repo.setSettings(ctx.tenant.id, parsed.data);
        res.json(parsed.data);
      },
    },
  ]);
}

/** Data for the earner's home (views/homes/earner.ejs). */
export function earnerHomeData(deps: { progress: Progress; sessionTtlMinutes: number }) {
  return async (ctx: SessionContext) => {
    const launchedAt = new Date(ctx.expiresAt.getTime() - deps.sessionTtlMinutes * 60_000);
    const mine = await earnerProgress(deps.progress, ctx, launchedAt);
    return { progress: mine, scripts: mine.refreshing ? ['/assets/js/progress-poll.js'] : [] };
  };
}
