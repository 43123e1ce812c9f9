import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { logger as rootLogger, type Logger } from '../log';
import { USER_AGENT } from './userAgent';
import { ConcurrencyLimiter, fullJitter } from './limiter';
import {
  CanvasAuthorizationRequired, CanvasFileTooLarge, CanvasForbidden, CanvasNotFound, CanvasRequestError, CanvasResponseError, CanvasUnavailable,
} from './errors';
import {
  AssignmentSchema, ConversationSchema, CourseSchema, EnrollmentSchema, ModuleItemSchema, ModuleSchema, RubricSchema, SubmissionSchema, UserProgressSchema, UserSchema,
  type CanvasAssignment, type CanvasConversation, type CanvasCourse, type CanvasEnrollment, type CanvasModule, type CanvasModuleItem, type CanvasRubric,
  type CanvasSubmission, type CanvasUser, type CanvasUserProgress,
} from './types';

/**
 * Where a client's bearer token comes from. `id` names the token's owner (never the token) and keys the
 * per-token limiter; `refresh` is called once after a 401 with the token Canvas refused, and either returns a
 * new token or throws `CanvasAuthorizationRequired`.
 */
export interface TokenSource {
  readonly id: string;
  readonly kind: 'user' | 'service' | 'static';
  token(): Promise<string>;
  refresh(rejected: string): Promise<string>;
}

/** A fixed token (tests, scripts): a 401 means re-authorize. */
export function staticToken(token: string, id = 'static'): TokenSource {
  return {
    id,
    kind: 'static',
    token: () => Promise.resolve(token),
    refresh: () => Promise.reject(new CanvasAuthorizationRequired('unauthorized')),
  };
}

export interface CanvasClientOptions {
  /** The tenant's Canvas, e.g. https://district.instructure.com (learnt at launch). */
  baseUrl: string;
  tokens: TokenSource;
  /** Shared by every client of the same token; a fresh one by default. */
  limiter?: ConcurrencyLimiter;
  timeoutMs?: number;
  /** Retries after a 5xx, a timeout or a network error (idempotent requests only). */
  retries?: number;
  /** Retries after Canvas's throttle 403 (every request: a throttled request was not processed). */
  throttleRetries?: number;
  backoff?: { baseMs?: number; capMs?: number; throttleBaseMs?: number; throttleCapMs?: number };
  /** Most pages one listing may fetch; more is an error rather than silently partial data. */
  maxPages?: number;
  perPage?: number;
  log?: Logger;
  random?: () => number;
}

export interface CanvasClientStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
  /** Throttle 403s received. */
  throttled: number;
  refreshes: number;
  pages: number;
}

type Params = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Send { method: Method; url: string; data?: unknown; idempotent?: boolean; stream?: boolean }
interface Answer { status: number; headers: AxiosResponse['headers']; text: string; stream?: Readable }

const RATE_LIMITED = /rate limit exceeded/i;
const TRANSIENT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ECANCELED']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Canvas's `Link` header: comma-separated `<absolute url>; rel="next"` entries (header names case-insensitive). */
export function parseLinkHeader(header: string | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  const re = /<([^>]+)>((?:\s*;\s*[^;,]+)*)/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    const rel = /rel\s*=\s*"?([^";]+)"?/i.exec(m[2] ?? '')?.[1];
    if (rel) for (const r of rel.trim().split(/\s+/)) out[r.toLowerCase()] = m[1] as string;
  }
  return out;
}

/** Canvas's ISO8601 (`YYYY-MM-DDTHH:MM:SSZ`). */
function isoSeconds(d: Date | string): string {
  return (typeof d === 'string' ? new Date(d) : d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The one Canvas REST client: base URL from the tenant, `User-Agent` and `Accept` always, the bearer token
 * from a `TokenSource`, Link pagination, retries with full jitter, refresh on 401 once, a per-token
 * concurrency limiter fed by `X-Rate-Limit-Remaining`, and zod validation of every answer.
 */
export class CanvasClient {
  readonly stats: CanvasClientStats = { requests: 0, retries: 0, throttled: 0, refreshes: 0, pages: 0 };
  readonly limiter: ConcurrencyLimiter;
  private readonly http: AxiosInstance;
  private readonly origin: string;
  private readonly o: Required<Omit<CanvasClientOptions, 'limiter' | 'log' | 'backoff'>> & { backoff: Required<NonNullable<CanvasClientOptions['backoff']>> };
  private readonly log: Logger;

  constructor(opts: CanvasClientOptions) {
    const base = new URL(opts.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('Canvas base URL must be http(s)');
    this.origin = base.origin;
    this.limiter = opts.limiter ?? new ConcurrencyLimiter();
    this.log = (opts.log ?? rootLogger).child({ component: 'canvas', tokenOwner: opts.tokens.id });
    this.o = {
      baseUrl: this.origin,
      tokens: opts.tokens,
      timeoutMs: opts.timeoutMs ?? 20_000,
      retries: opts.retries ?? 3,
      throttleRetries: opts.throttleRetries ?? 8,
      maxPages: opts.maxPages ?? 100,
      perPage: opts.perPage ?? 100,
      random: opts.random ?? Math.random,
      backoff: { baseMs: 250, capMs: 8_000, throttleBaseMs: 1_000, throttleCapMs: 15_000, ...opts.backoff },
    };
    this.http = axios.create({
      timeout: this.o.timeoutMs,
      // We classify every status ourselves, and parse JSON ourselves to tell malformed answers apart.
      validateStatus: () => true,
      transformResponse: [(d: unknown) => d],
      maxRedirects: 0,
      headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
    });
  }

  /** Who the token acts as: the user's own token, the tenant's service token, or a fixed one. */
  get actingAs(): TokenSource['kind'] {
    return this.o.tokens.kind;
  }

  // ---------------------------------------------------------------- typed calls

  getSelf(): Promise<CanvasUser> {
    return this.get('/api/v1/users/self', {}, UserSchema);
  }

  getCourse(courseId: string): Promise<CanvasCourse> {
    return this.get(`/api/v1/courses/${seg(courseId)}`, {}, CourseSchema);
  }

  /**
   * Modules, with items and per-student completion (`student_id`) when asked. Canvas omits `items` when it
   * deems them too numerous; those modules are completed with one items call each.
   */
  async listModules(courseId: string, o: { studentId?: string; includeItems?: boolean; includeContentDetails?: boolean } = {}): Promise<CanvasModule[]> {
    const include = [...(o.includeItems ? ['items'] : []), ...(o.includeContentDetails ? ['content_details'] : [])];
    const modules = await this.list(`/api/v1/courses/${seg(courseId)}/modules`, { 'include[]': include, student_id: o.studentId }, ModuleSchema);
    if (o.includeItems) {
      for (const m of modules) {
        if (m.items === undefined && (m.items_count ?? 0) > 0) m.items = await this.listModuleItems(courseId, m.id, { studentId: o.studentId, includeContentDetails: o.includeContentDetails });
      }
    }
    return modules;
  }

  listModuleItems(courseId: string, moduleId: string, o: { studentId?: string; includeContentDetails?: boolean } = {}): Promise<CanvasModuleItem[]> {
    return this.list(`/api/v1/courses/${seg(courseId)}/modules/${seg(moduleId)}/items`, { 'include[]': o.includeContentDetails ? ['content_details'] : [], student_id: o.studentId }, ModuleItemSchema);
  }

  /** Canvas puts `rubric` on assignments that have one; `includeRubric: false` drops it to keep lists small. */
  async listAssignments(courseId: string, o: { includeRubric?: boolean; assignmentIds?: string[]; searchTerm?: string } = {}): Promise<CanvasAssignment[]> {
    const list = await this.list(`/api/v1/courses/${seg(courseId)}/assignments`, { 'assignment_ids[]': o.assignmentIds, search_term: o.searchTerm }, AssignmentSchema);
    if (o.includeRubric === false) for (const a of list) delete a.rubric;
    return list;
  }

  getAssignment(courseId: string, assignmentId: string): Promise<CanvasAssignment> {
    return this.get(`/api/v1/courses/${seg(courseId)}/assignments/${seg(assignmentId)}`, {}, AssignmentSchema);
  }

  /** Needs `manage_rubrics` in the course (designers, teachers, admins). */
  listCourseRubrics(courseId: string): Promise<CanvasRubric[]> {
    return this.list(`/api/v1/courses/${seg(courseId)}/rubrics`, {}, RubricSchema);
  }

  getRubric(courseId: string, rubricId: string, o: { include?: ('assessments' | 'graded_assessments' | 'associations' | 'assignment_associations')[] } = {}): Promise<CanvasRubric> {
    return this.get(`/api/v1/courses/${seg(courseId)}/rubrics/${seg(rubricId)}`, { 'include[]': o.include }, RubricSchema);
  }

  /**
   * Submissions of many students in one listing (avoids N+1, canvas-lti.md §3.3). An explicit id list is sent
   * in batches of 100 (Canvas answers 400 "too many students" above its max page size).
   */
  async listStudentSubmissions(
    courseId: string,
    o: {
      studentIds: 'all' | string[];
      assignmentIds?: string[];
      submittedSince?: Date | string;
      gradedSince?: Date | string;
      workflowState?: 'submitted' | 'unsubmitted' | 'graded' | 'pending_review';
      include?: ('submission_history' | 'submission_comments' | 'rubric_assessment' | 'assignment' | 'user' | 'visibility' | 'course' | 'total_scores')[];
    },
  ): Promise<CanvasSubmission[]> {
    const batches = o.studentIds === 'all' ? [['all']] : chunk(o.studentIds, 100);
    const out: CanvasSubmission[] = [];
    for (const ids of batches) {
      if (ids.length === 0) continue;
      out.push(
        ...(await this.list(
          `/api/v1/courses/${seg(courseId)}/students/submissions`,
          {
            'student_ids[]': ids,
            'assignment_ids[]': o.assignmentIds,
            submitted_since: o.submittedSince ? isoSeconds(o.submittedSince) : undefined,
            graded_since: o.gradedSince ? isoSeconds(o.gradedSince) : undefined,
            workflow_state: o.workflowState,
            'include[]': o.include,
          },
          SubmissionSchema,
        )),
      );
    }
    return out;
  }

  /** Course-wide module progress counts for every student (staff only). */
  bulkUserProgress(courseId: string): Promise<CanvasUserProgress[]> {
    return this.list(`/api/v1/courses/${seg(courseId)}/bulk_user_progress`, {}, UserProgressSchema);
  }

  listUsers(courseId: string, o: { enrollmentType?: ('student' | 'teacher' | 'ta' | 'designer' | 'observer')[] | 'student' | 'teacher' | 'ta' | 'designer' | 'observer'; include?: ('email' | 'enrollments' | 'avatar_url')[]; searchTerm?: string } = {}): Promise<CanvasUser[]> {
    const types = o.enrollmentType === undefined ? undefined : Array.isArray(o.enrollmentType) ? o.enrollmentType : [o.enrollmentType];
    return this.list(`/api/v1/courses/${seg(courseId)}/users`, { 'enrollment_type[]': types, 'include[]': o.include, search_term: o.searchTerm }, UserSchema);
  }

  /** Grades a submission with a rubric assessment, a posted grade and/or a comment (canvas-lti.md §3.5). */
  gradeSubmission(
    courseId: string,
    assignmentId: string,
    userId: string,
    o: { rubricAssessment?: Record<string, { points?: number; ratingId?: string; comments?: string }>; postedGrade?: string | number; comment?: string },
  ): Promise<CanvasSubmission> {
    const body: Record<string, unknown> = {};
    if (o.rubricAssessment) {
      body.rubric_assessment = Object.fromEntries(
        Object.entries(o.rubricAssessment).map(([id, v]) => [id, { ...(v.points !== undefined ? { points: v.points } : {}), ...(v.ratingId ? { rating_id: v.ratingId } : {}), ...(v.comments !== undefined ? { comments: v.comments } : {}) }]),
      );
    }
    if (o.postedGrade !== undefined) body.submission = { posted_grade: String(o.postedGrade) };
    if (o.comment) body.comment = { text_comment: o.comment };
    // Setting a grade twice is harmless; posting a comment twice is not.
    return this.call('PUT', `/api/v1/courses/${seg(courseId)}/assignments/${seg(assignmentId)}/submissions/${seg(userId)}`, body, SubmissionSchema, !o.comment);
  }

  postConversation(o: { recipients: string[]; body: string; subject?: string; contextCode?: string; groupConversation?: boolean; forceNew?: boolean }): Promise<CanvasConversation[]> {
    return this.call(
      'POST',
      '/api/v1/conversations',
      { recipients: o.recipients, body: o.body, subject: o.subject, context_code: o.contextCode, group_conversation: o.groupConversation, force_new: o.forceNew },
      z.array(ConversationSchema),
      false,
    );
  }

  enroll(courseId: string, userId: string, type: 'StudentEnrollment' | 'TeacherEnrollment' | 'TaEnrollment' | 'DesignerEnrollment' | 'ObserverEnrollment', o: { state?: 'active' | 'invited'; sectionId?: string } = {}): Promise<CanvasEnrollment> {
    return this.call(
      'POST',
      `/api/v1/courses/${seg(courseId)}/enrollments`,
      { enrollment: { user_id: userId, type, enrollment_state: o.state ?? 'active', ...(o.sectionId ? { course_section_id: o.sectionId } : {}) } },
      EnrollmentSchema,
      false,
    );
  }

  /**
   * Downloads a file from Canvas (a submission attachment's `url`), streaming with a size cap and following
   * redirects (the token is dropped when a redirect leaves the Canvas host). Only Canvas URLs are accepted:
   * the bearer token must never go anywhere else.
   */
  async downloadFile(url: string, o: { maxBytes: number }): Promise<{ data: Buffer; contentType: string; filename: string | undefined; size: number }> {
    const answer = await this.send({ method: 'GET', url: this.resolve(url), stream: true, idempotent: true });
    const stream = answer.stream as Readable;
    const declared = Number(answer.headers['content-length']);
    if (Number.isFinite(declared) && declared > o.maxBytes) {
      stream.destroy();
      throw new CanvasFileTooLarge(o.maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of stream) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      size += b.length;
      if (size > o.maxBytes) {
        stream.destroy();
        throw new CanvasFileTooLarge(o.maxBytes);
      }
      chunks.push(b);
    }
    const disposition = String(answer.headers['content-disposition'] ?? '');
    const filename = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1];
    return { data: Buffer.concat(chunks), contentType: String(answer.headers['content-type'] ?? 'application/octet-stream'), filename: filename ? decodeURIComponent(filename) : undefined, size };
  }

  // ---------------------------------------------------------------- generic

  async get<T extends z.ZodType>(path: string, params: Params, schema: T): Promise<z.output<T>> {
    const answer = await this.send({ method: 'GET', url: this.resolve(path, params), idempotent: true });
    return this.parse(answer, schema, 'GET', path);
  }

  /** Every item of a paginated listing. */
  async list<T extends z.ZodType>(path: string, params: Params, schema: T): Promise<z.output<T>[]> {
    const out: z.output<T>[] = [];
    for await (const item of this.paginate(path, params, schema)) out.push(item);
    return out;
  }

  /** Item by item across pages: `per_page` on the first request, then Canvas's opaque `rel="next"` links. */
  async *paginate<T extends z.ZodType>(path: string, params: Params, schema: T): AsyncGenerator<z.output<T>> {
    let url: string | undefined = this.resolve(path, { per_page: this.o.perPage, ...params });
    let pages = 0;
    const pageSchema = z.array(schema);
    while (url) {
      if (++pages > this.o.maxPages) throw new CanvasResponseError('GET', path, `more than ${this.o.maxPages} pages`);
      const answer = await this.send({ method: 'GET', url, idempotent: true });
      this.stats.pages += 1;
      const items = this.parse(answer, pageSchema, 'GET', path);
      for (const item of items) yield item;
      const next = parseLinkHeader(headerOf(answer.headers, 'link')).next;
      url = next ? this.resolve(next) : undefined;
    }
  }

  async call<T extends z.ZodType>(method: Method, path: string, body: unknown, schema: T, idempotent: boolean): Promise<z.output<T>> {
    const answer = await this.send({ method, url: this.resolve(path), data: body, idempotent });
    return this.parse(answer, schema, method, path);
  }

  // ---------------------------------------------------------------- internals

  /** An absolute URL on this Canvas; anything on another origin is refused (the token would follow it). */
  private resolve(pathOrUrl: string, params: Params = {}): string {
    const u = new URL(pathOrUrl, this.origin + '/');
    if (u.origin !== this.origin) throw new CanvasResponseError('GET', u.pathname, `a link to another host (${u.host})`);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, String(x));
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  private parse<T extends z.ZodType>(answer: Answer, schema: T, method: string, path: string): z.output<T> {
    let json: unknown;
    try {
      json = answer.text.trim() === '' ? null : JSON.parse(answer.text);
    } catch {
      throw new CanvasResponseError(method, path, 'malformed JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CanvasResponseError(method, path, `unexpected shape${issue ? ` at ${issue.path.join('.') || '(root)'}: ${issue.message}` : ''}`);
    }
    return parsed.data;
  }

  private async send(req: Send): Promise<Answer> {
    const path = new URL(req.url).pathname;
    let failures = 0;
    let throttles = 0;
    let refreshed = false;
    for (;;) {
      const token = await this.o.tokens.token();
      const release = await this.limiter.acquire();
      const started = Date.now();
      let res: AxiosResponse | undefined;
      let netError: { code?: string; message?: string } | undefined;
      try {
        this.stats.requests += 1;
        const r: AxiosResponse = await this.http.request({
          method: req.method,
          url: req.url,
          data: req.data,
          headers: { Authorization: `Bearer ${token}`, ...(req.data !== undefined ? { 'Content-Type': 'application/json' } : {}) },
          responseType: req.stream ? 'stream' : 'text',
          maxRedirects: req.stream ? 5 : 0,
        });
        // Observed before the slot is released, so the limiter counts the other requests still in flight.
        this.limiter.observe(remainingOf(r.headers));
        res = r;
      } catch (err) {
        netError = err as { code?: string; message?: string };
      } finally {
        release();
      }

      if (netError || !res) {
        const code = netError?.code ?? 'ERR_NETWORK';
        this.log.debug({ method: req.method, path, error: code, ms: Date.now() - started }, 'canvas request failed');
        const retryable = TRANSIENT_CODES.has(code) && (req.idempotent || code === 'ECONNREFUSED');
        if (retryable && failures < this.o.retries) {
          await this.backoff(failures++, false);
          continue;
        }
        throw new CanvasUnavailable(req.method, path, code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timed out' : code);
      }

      const answer: Answer = { status: res.status, headers: res.headers, text: '', stream: undefined };
      if (req.stream && res.status >= 200 && res.status < 300) {
        answer.stream = res.data as Readable;
      } else {
        answer.text = req.stream ? await readCapped(res.data as Readable, 64 * 1024) : String(res.data ?? '');
      }
      this.log.debug({ method: req.method, path, status: res.status, ms: Date.now() - started, cost: headerOf(res.headers, 'x-request-cost') }, 'canvas request');

      const s = res.status;
      if (s >= 200 && s < 300) return answer;
      if (isThrottled(s, answer)) {
        this.stats.throttled += 1;
        this.limiter.throttled();
        if (throttles < this.o.throttleRetries) {
          await this.backoff(throttles++, true);
          continue;
        }
        throw new CanvasUnavailable(req.method, path, 'rate limited by Canvas');
      }
      if (s === 401) {
        if (refreshed) throw new CanvasAuthorizationRequired('unauthorized');
        refreshed = true;
        this.stats.refreshes += 1;
        await this.o.tokens.refresh(token);
        continue;
      }
      if (s === 403) throw new CanvasForbidden(req.method, path, canvasMessage(answer.text));
      if (s === 404) throw new CanvasNotFound(req.method, path);
      if (s >= 500 || s === 408) {
        if (req.idempotent && failures < this.o.retries) {
          await this.backoff(failures++, false);
          continue;
        }
        throw new CanvasUnavailable(req.method, path, `HTTP ${s}`);
      }
      throw new CanvasRequestError(s, req.method, path, canvasMessage(answer.text));
    }
  }

  private async backoff(attempt: number, throttled: boolean): Promise<void> {
    this.stats.retries += 1;
    const b = this.o.backoff;
    await sleep(throttled ? fullJitter(attempt, b.throttleBaseMs, b.throttleCapMs, this.o.random) : fullJitter(attempt, b.baseMs, b.capMs, this.o.random));
  }
}

function seg(id: string): string {
  return encodeURIComponent(id);
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function headerOf(headers: AxiosResponse['headers'], name: string): string | undefined {
  const v = (headers as Record<string, unknown>)[name.toLowerCase()];
  return v === undefined || v === null ? undefined : String(v);
}

function remainingOf(headers: AxiosResponse['headers']): number | undefined {
  const v = headerOf(headers, 'x-rate-limit-remaining');
  return v === undefined ? undefined : Number.parseFloat(v);
}

/** Canvas's throttle is a 403 whose body says so (and `X-Rate-Limit-Remaining: 0`); a permission 403 is not. */
function isThrottled(status: number, answer: Answer): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  if (RATE_LIMITED.test(answer.text)) return true;
  const remaining = remainingOf(answer.headers);
  return remaining !== undefined && remaining <= 0 && !/"errors"/.test(answer.text);
}

/** The first message of Canvas's `{errors:[{message}]}` (or `{message}`), short, for error details. */
function canvasMessage(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { errors?: { message?: string }[] | Record<string, unknown>; message?: string; error_description?: string };
    const m = Array.isArray(j.errors) ? j.errors[0]?.message : (j.message ?? j.error_description);
    return typeof m === 'string' ? m.slice(0, 200) : undefined;
  } catch {
    return text ? text.slice(0, 120) : undefined;
  }
}

async function readCapped(stream: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    chunks.push(b);
    size += b.length;
    if (size >= max) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max);
}
