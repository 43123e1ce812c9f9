import { isUuid } from '../catalog/repository';
import crypto from 'node:crypto';
import express, { type Request, type Response } from 'express';
import jwt, { type JwtHeader } from 'jsonwebtoken';
import { z } from 'zod';
import type { Orm } from '../db/database';
import { logger as rootLogger, type Logger } from '../log';
import { KeyError, type PlatformKeys } from '../lti/platformKeys';
import { localId } from './engine';
import type { ProgressRepository } from './repository';

/** Canvas's signing keys for Live Events delivered over HTTPS (canvas-lti.md §3.9). */
export const CANVAS_LIVE_EVENTS_JWKS = 'https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks';

export const HANDLED_EVENTS = ['submission_created', 'submission_updated', 'course_progress', 'grade_change'] as const;
export type HandledEvent = (typeof HANDLED_EVENTS)[number];

/** The Canvas event format: `{metadata, body}`. Only the fields we read are checked. */
const EventSchema = z.looseObject({
  metadata: z.looseObject({
    event_name: z.string(),
    event_time: z.string().optional(),
    event_id: z.string().optional(),
    request_id: z.string().optional(),
    context_type: z.string().nullable().optional(),
    context_id: z.union([z.string(), z.number()]).nullable().optional(),
    user_id: z.union([z.string(), z.number()]).nullable().optional(),
  }),
  body: z.looseObject({}).nullable().optional(),
});
export type CanvasLiveEvent = z.infer<typeof EventSchema>;

export interface EventTarget { canvasCourseId?: string; canvasAssignmentId?: string; canvasUserId?: string }

/**
 * Where an event points, in local Canvas ids: the student and the course (or the evidence assignment, when the
 * event has no course). Metadata and most bodies carry global ids (shard × 10^13 + id); `course_progress`
 * bodies carry local ones: `localId` handles both.
 */
export function targetOf(e: CanvasLiveEvent): EventTarget {
  const b = (e.body ?? {}) as Record<string, unknown>;
  const m = e.metadata;
  const nested = (o: unknown, k: string) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined);
  const asId = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? localId(v) : undefined);
  let user: string | undefined;
  let course: string | undefined = m.context_type === 'Course' ? asId(m.context_id) : undefined;
  switch (m.event_name) {
    case 'course_progress':
      user = asId(nested(b.user, 'id'));
      course = asId(nested(b.course, 'id')) ?? course;
      break;
    case 'grade_change':
      user = asId(b.student_id) ?? asId(b.user_id);
      break;
    default:
      user = asId(b.user_id) ?? asId(m.user_id);
  }
  return { canvasCourseId: course, canvasAssignmentId: asId(b.assignment_id), canvasUserId: user };
}

/** Canvas may deliver an event twice: the event id when there is one, else a hash of what identifies it. */
export function idempotencyKey(e: CanvasLiveEvent): string {
  if (e.metadata.event_id) return `id:${e.metadata.event_id}`;
  const h = crypto.createHash('sha256').update(JSON.stringify([e.metadata.event_name, e.metadata.event_time ?? '', e.metadata.request_id ?? '', e.body ?? null])).digest('hex');
  return `h:${h}`;
}

/** The JWT in either delivery form: the raw token (`application/jwt`, or any text), or JSON around it. */
export function extractJwt(raw: string): string | undefined {
  const t = raw.trim();
  if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(t)) return t;
  try {
    const j: unknown = JSON.parse(t);
    if (typeof j === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(j)) return j;
    if (typeof j === 'object' && j !== null) {
      for (const k of ['jwt', 'JWT', 'token', 'signed_payload', 'payload']) {
        const v = (j as Record<string, unknown>)[k];
        if (typeof v === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v.trim())) return v.trim();
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface LiveEventDeps {
  repo: ProgressRepository;
  keys: PlatformKeys;
  defaultJwksUrl: string;
  /** Enqueue a fast refresh for one earner, inside the receipt's transaction. */
  enqueueRefresh: (job: { tenantId: string; courseId: string; canvasUserId: string }, tx: Orm) => Promise<void>;
  log?: Logger;
}

/**
 * `POST /canvas/events/:tenantKey` (public): Canvas Live Events over HTTPS, signed JWTs (RS256, kid from the
 * JWKS configured for the tenant, else Canvas's). Unknown, unhandled or unmatched events get 202 (Canvas
 * deactivates endpoints that keep failing); a bad signature 401; a body that is no signed event 400.
 */
export function liveEventsRoute(deps: LiveEventDeps): express.Router {
  const log = (deps.log ?? rootLogger).child({ component: 'live-events' });
  const r = express.Router();
  r.post('/canvas/events/:tenantKey', express.text({ type: () => true, limit: '128kb' }), async (req: Request, res: Response) => {
    const tenantId = String(req.params.tenantKey ?? '');
    if (!isUuid(tenantId) || !(await deps.repo.tenantExists(tenantId))) {
      res.status(404).json({ error: { code: 'not_found', message: 'No such microcred tenant.' } });
      return;
    }
    const token = extractJwt(typeof req.body === 'string' ? req.body : '');
    if (!token) {
      res.status(400).json({ error: { code: 'invalid_input', message: 'Expected a signed Live Event (a JWT, raw or in JSON).' } });
      return;
    }
    let payload: unknown;
    try {
      const decoded = jwt.decode(token, { complete: true });
      const header = decoded?.header as JwtHeader | undefined;
      if (!header || header.alg !== 'RS256') throw new KeyError('not an RS256 token');
      const jwksUrl = (await deps.repo.settings(tenantId)).liveEventsJwksUrl ?? deps.defaultJwksUrl;
      const key = await deps.keys.keyFor({ method: 'JWK_SET', key: jwksUrl }, header.kid);
      payload = jwt.verify(token, key, { algorithms: ['RS256'], clockTolerance: 300 });
    } catch (err) {
      log.warn({ tenant: tenantId, err: (err as Error).message }, 'live event refused');
      res.status(401).json({ error: { code: 'unauthorized', message: 'The event signature could not be verified.' } });
      return;
    }
    const parsed = EventSchema.safeParse(payload);
    if (!parsed.success) {
      res.status(400).json({ error: { code: 'invalid_input', message: 'The event is not in Canvas format ({metadata, body}).' } });
      return;
    }
    const event = parsed.data;
    const name = event.metadata.event_name;
    if (!(HANDLED_EVENTS as readonly string[]).includes(name)) {
      res.status(202).json({ status: 'ignored', reason: 'event not used' });
      return;
    }
    const target = targetOf(event);
    const courseIds = target.canvasCourseId
      ? [(await deps.repo.courseByCanvasId(tenantId, target.canvasCourseId))?.courseId].filter((x): x is string => !!x)
      : target.canvasAssignmentId
        ? await deps.repo.coursesByAssignment(tenantId, target.canvasAssignmentId)
        : [];
    if (!target.canvasUserId || courseIds.length === 0) {
      res.status(202).json({ status: 'ignored', reason: 'no matching course or student' });
      return;
    }
    const key = idempotencyKey(event);
    const first = await deps.repo.transaction(async (repo, tx) => {
      if (!(await repo.firstReceipt(tenantId, key, name))) return false;
      for (const courseId of courseIds) if ((await repo.attached(tenantId, courseId)).length) await deps.enqueueRefresh({ tenantId, courseId, canvasUserId: target.canvasUserId as string }, tx);
      return true;
    });
    res.status(first ? 202 : 200).json({ status: first ? 'accepted' : 'duplicate' });
  });
  return r;
}
