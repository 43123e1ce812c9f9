import fs from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import express, { type NextFunction, type Request, type Response } from 'express';
import { requireLtiToken, requireUserToken, oauthRoutes, revoke } from './auth';
import { SandboxContext, type RequestRecord } from './context';
import { Faults, type Fault } from './faults';
import { SandboxError, escapeHtml, sleep } from './http';
import { randomToken } from './keys';
import { pageRoutes, launchUrl as buildLaunchUrl } from './pages';
import { agsRoutes } from './platform/ags';
import { createResourceLink, deepLinkingRoutes, linkAssignmentToTool } from './platform/deepLinking';
import { installFromJsonConfig, installTool, type InstallToolOptions } from './platform/install';
import { nrpsRoutes } from './platform/nrps';
import { loginInitiation as buildLoginInitiation, oidcRoutes, type LaunchOptions } from './platform/oidc';
import { registrationRoutes, startRegistration } from './platform/registration';
import { assignmentRoutes } from './rest/assignments';
import { courseRoutes } from './rest/courses';
import { moduleRoutes } from './rest/modules';
import { seed, type Scenario } from './scenario';
import { SandboxData, type EnrollmentType, type ModuleItem, type Submission, type SandboxEventName } from './store';
import { Throttle, type ThrottleOptions } from './throttle';

export { loadScenario, generateScenario, parseScenario, type Scenario } from './scenario';
export type { ThrottleOptions } from './throttle';
export type { Fault } from './faults';
export type { RequestRecord } from './context';
export type { LaunchOptions } from './platform/oidc';
export type { InstallToolOptions } from './platform/install';
export type { SandboxEventName } from './store';
export * from './store';

export interface SandboxOptions {
  /** Where the sandbox is reached, without a trailing slash. A port of 0 is replaced by the real one on `listen`. */
  baseUrl: string;
  scenario: Scenario;
  /** The LTI issuer (`iss`); defaults to baseUrl. */
  issuer?: string;
  /** Added to every API request (`/api/*`, `/login/oauth2/token`). */
  latencyMs?: number;
  throttle?: boolean | ThrottleOptions;
  /** Lifetime of OAuth2 user tokens (Canvas: 3600). */
  tokenTtlSeconds?: number;
}

export interface SubmitWork { body?: string; url?: string; attachments?: { filename: string; contentType: string; bytes: Buffer | string }[]; submittedAt?: string }

/** Things Canvas users do, for tests to trigger what the tool reacts to. */
export interface SandboxActions {
  submit(courseId: number | string, assignmentId: number | string, userId: number | string, work: SubmitWork): Submission;
  /** Complete a module item's requirement for a student (view, mark done or contribute, by requirement). */
  completeItem(courseId: number | string, moduleItemId: number | string, userId: number | string): void;
  uncompleteItem(courseId: number | string, moduleItemId: number | string, userId: number | string): void;
  grade(courseId: number | string, assignmentId: number | string, userId: number | string, score: number | null, graderId?: number | string): Submission;
  comment(courseId: number | string, assignmentId: number | string, userId: number | string, authorId: number | string, text: string): void;
  enroll(courseId: number | string, userId: number | string, type: EnrollmentType): void;
  unenroll(courseId: number | string, userId: number | string, task?: 'delete' | 'conclude' | 'inactivate'): void;
  deleteModule(courseId: number | string, moduleId: number | string): void;
  deleteAssignment(courseId: number | string, assignmentId: number | string): void;
  publishModule(courseId: number | string, moduleId: number | string, published: boolean): void;
  /** Make an assignment an external-tool assignment of a tool (resource link + line item), as a teacher would in Canvas. */
  linkAssignmentToTool(courseId: number | string, assignmentId: number | string, toolId: number | string, o?: { url?: string; custom?: Record<string, string> }): { resourceLinkId: string; lineItemId: number };
  /** Add an external-tool module item (with its resource link). */
  addToolModuleItem(courseId: number | string, moduleId: number | string, toolId: number | string, o: { title: string; url?: string; completionRequirement?: ModuleItem['completionRequirement']; custom?: Record<string, string> }): ModuleItem;
}

export interface Sandbox {
  app: express.Express;
  readonly baseUrl: string;
  readonly issuer: string;
  listen(port: number, host?: string): Promise<{ url: string; close(): Promise<void> }>;
  installTool(t: InstallToolOptions): { clientId: string; deploymentId: string; toolId: string };
  installFromJsonConfig(json: unknown): { clientId: string; deploymentId: string; toolId: string };
  createApiKey(o: { redirectUris: string[]; name?: string }): { clientId: string; clientSecret: string };
  /** Skip the browser consent dance: an OAuth2 user token as if the user had authorized the key. */
  issueUserToken(o: { userId: number | string; clientId?: string; ttlSeconds?: number }): { accessToken: string; refreshToken: string; expiresIn: number };
  launchUrl(o: LaunchOptions): string;
  loginInitiation(o: LaunchOptions): { url: string; params: Record<string, string> };
  startRegistration(toolRegistrationUrl: string, accountId?: number): { url: string; openidConfiguration: string; registrationToken: string };
  rotatePlatformKey(): string;
  platformJwks(): { keys: Record<string, unknown>[] };
  data: SandboxData;
  actions: SandboxActions;
  /** Canvas Live Events: `events.on('submission_created', payload => …)`. */
  events: EventEmitter & { on(name: SandboxEventName, fn: (payload: Record<string, unknown>) => void): EventEmitter };
  requests: RequestRecord[];
  faults: { add(f: Fault): void; clear(): void };
  revokeToken(accessToken: string): void;
  setThrottle(on: boolean | ThrottleOptions): void;
}

/** Views and assets live at the repository root (views/sandbox, public/sandbox); find them from here or from dist/. */
function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'views', 'sandbox'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

const API_PATH = /^\/(api\/|login\/oauth2\/token)/;
// Browser-facing endpoints (the OIDC redirect and the public key set) are not API calls in Canvas's sense.
const UA_EXEMPT = ['/api/lti/authorize_redirect', '/api/lti/security/jwks'];

export function createSandbox(opts: SandboxOptions): Sandbox {
  if (process.env.NODE_ENV === 'production') throw new Error('The Canvas sandbox is for development and tests only; it cannot run with NODE_ENV=production');
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const ctx = new SandboxContext({
    baseUrl, issuer: opts.issuer ?? baseUrl, issuerExplicit: opts.issuer !== undefined, latencyMs: opts.latencyMs ?? 0, tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600,
  });
  seed(ctx.data, opts.scenario);
  const throttle = new Throttle();
  if (opts.throttle) throttle.set(opts.throttle);
  const faults = new Faults();
  const root = findRoot();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'extended');
  app.set('views', path.join(root, 'views', 'sandbox'));
  app.set('view engine', 'ejs');
  app.enable('view cache'); // like Canvas, the sandbox's pages do not change while it runs
  app.locals.assets = '/sandbox-assets';

  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = Date.now();
    const token = ctx.tokenOf(req);
    res.on('finish', () => record(res));
    res.on('close', () => record(res));
    let done = false;
    function record(r: Response): void {
      if (done) return;
      done = true;
      ctx.requests.push({
        method: req.method, path: req.path, status: r.headersSent ? r.statusCode : 0, throttled: r.locals.throttled === true, tokenKind: token ? token.kind : 'none',
        at: new Date(started).toISOString(), durationMs: Date.now() - started, userId: token?.userId ?? null, clientId: token?.clientId ?? null, faulted: r.locals.faulted === true,
      });
    }
    next();
  });
  app.use((req, res, next) => {
    if (API_PATH.test(req.path) && !UA_EXEMPT.includes(req.path) && !req.get('user-agent')) {
      res.status(403).json({ status: 'forbidden', errors: [{ message: 'A User-Agent header is required for API requests' }] });
      return;
    }
    next();
  });
  app.use(faults.middleware());
  // Throttle before latency: like Canvas, a request holds its up-front cost while it is being served.
  app.use(throttle.middleware(ctx));
  app.use(async (req, _res, next) => {
    if (ctx.cfg.latencyMs > 0 && API_PATH.test(req.path)) await sleep(ctx.cfg.latencyMs);
    next();
  });
  app.use('/sandbox-assets', express.static(path.join(root, 'public', 'sandbox'), { index: false }));
  app.use(express.urlencoded({ extended: true, limit: '10mb' }));
  app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '10mb' }));

  app.use(oidcRoutes(ctx));
  app.use(oauthRoutes(ctx));
  app.use(registrationRoutes(ctx));
  app.use(deepLinkingRoutes(ctx));
  const guard = (scopes: string[]): express.RequestHandler => requireLtiToken(ctx, scopes);
  app.use(agsRoutes(ctx, guard));
  app.use(nrpsRoutes(ctx, guard));
  app.use('/api/v1', requireUserToken(ctx));
  app.use(courseRoutes(ctx));
  app.use(moduleRoutes(ctx));
  app.use(assignmentRoutes(ctx));
  app.use(pageRoutes(ctx));
  app.use((req, res) => {
    if (req.path.startsWith('/api/')) res.status(404).json({ errors: [{ message: 'The specified resource does not exist.' }] });
    else res.status(404).render('error', { status: 404, message: `No page at ${req.path}`, user: undefined, title: 'Page not found' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof SandboxError) {
      if (err.html) {
        res.status(err.status).render('error', { status: err.status, message: String(err.body), user: undefined, title: 'Error' });
        return;
      }
      res.status(err.status).json(err.body);
      return;
    }
    const e = err as { status?: number; type?: string; message?: string };
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ errors: [{ message: e.type === 'entity.parse.failed' ? 'Invalid JSON body' : (e.message ?? 'Bad request') }] });
      return;
    }
    const message = e.message ?? String(err);
    if (req.path.startsWith('/api/') || req.path.startsWith('/login/')) res.status(500).json({ errors: [{ message: `Sandbox error: ${message}` }] });
    else res.status(500).type('text/html').send(`<!doctype html><title>Sandbox error</title><main><h1>Sandbox error</h1><pre>${escapeHtml(message)}</pre></main>`);
  });

  const num = (v: number | string): number => Number(v);
  const inCourse = (courseId: number | string, kind: string, found: { courseId: number } | undefined): void => {
    if (!found || found.courseId !== num(courseId)) throw new Error(`No ${kind} in course ${courseId}`);
  };
  const d = ctx.data;
  const actions: SandboxActions = {
    submit: (courseId, assignmentId, userId, work) => {
      inCourse(courseId, `assignment ${assignmentId}`, d.assignment(assignmentId));
      return d.submit(num(assignmentId), num(userId), work);
    },
    completeItem: (courseId, itemId, userId) => {
      const item = d.moduleItem(itemId);
      inCourse(courseId, `module item ${itemId}`, item);
      const how = item?.completionRequirement?.type === 'must_mark_done' ? 'marked_done' : item?.completionRequirement?.type === 'must_contribute' ? 'contributed' : 'viewed';
      d.completeItem(num(itemId), num(userId), how);
    },
    uncompleteItem: (courseId, itemId, userId) => {
      inCourse(courseId, `module item ${itemId}`, d.moduleItem(itemId));
      d.uncompleteItem(num(itemId), num(userId));
    },
    grade: (courseId, assignmentId, userId, score, graderId) => {
      inCourse(courseId, `assignment ${assignmentId}`, d.assignment(assignmentId));
      const s = d.ensureSubmission(num(assignmentId), num(userId));
      d.grade(s, score, graderId === undefined ? null : num(graderId));
      return s;
    },
    comment: (courseId, assignmentId, userId, authorId, text) => {
      inCourse(courseId, `assignment ${assignmentId}`, d.assignment(assignmentId));
      d.addComment(d.ensureSubmission(num(assignmentId), num(userId)), num(authorId), text);
    },
    enroll: (courseId, userId, type) => void d.enroll(num(courseId), num(userId), type),
    unenroll: (courseId, userId, task) => d.unenroll(num(courseId), num(userId), task),
    deleteModule: (courseId, moduleId) => {
      inCourse(courseId, `module ${moduleId}`, d.module(moduleId));
      d.deleteModule(num(moduleId));
    },
    deleteAssignment: (courseId, assignmentId) => {
      inCourse(courseId, `assignment ${assignmentId}`, d.assignment(assignmentId));
      d.deleteAssignment(num(assignmentId));
    },
    publishModule: (courseId, moduleId, published) => {
      const m = d.module(moduleId);
      inCourse(courseId, `module ${moduleId}`, m);
      if (m) m.published = published;
    },
    linkAssignmentToTool: (courseId, assignmentId, toolId, o = {}) => {
      const a = d.assignment(assignmentId);
      inCourse(courseId, `assignment ${assignmentId}`, a);
      const tool = d.tool(toolId);
      if (!tool || !a) throw new Error(`No tool ${toolId}`);
      const rl = linkAssignmentToTool(ctx, a, tool, o);
      const li = d.lineItems.find((l) => l.assignmentId === a.id && l.primary);
      return { resourceLinkId: rl.id, lineItemId: li?.id ?? 0 };
    },
    addToolModuleItem: (courseId, moduleId, toolId, o) => {
      const m = d.module(moduleId);
      inCourse(courseId, `module ${moduleId}`, m);
      const tool = d.tool(toolId);
      if (!tool) throw new Error(`No tool ${toolId}`);
      const url = o.url ?? tool.targetLinkUri;
      const item = d.addModuleItem(num(moduleId), { title: o.title, type: 'ExternalTool', toolId: tool.id, externalUrl: url, completionRequirement: o.completionRequirement ?? null });
      item.resourceLinkId = createResourceLink(ctx, { courseId: num(courseId), toolId: tool.id, title: o.title, url, custom: o.custom ?? {}, assignmentId: null, moduleItemId: item.id }).id;
      return item;
    },
  };

  const sandbox: Sandbox = {
    app,
    get baseUrl() {
      return ctx.cfg.baseUrl;
    },
    get issuer() {
      return ctx.cfg.issuer;
    },
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const server = http.createServer(app);
        const sockets = new Set<Socket>();
        server.on('connection', (s) => {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
        });
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          const actual = typeof addr === 'object' && addr ? addr.port : port;
          const b = new URL(ctx.cfg.baseUrl);
          if (b.port === '0') {
            b.port = String(actual);
            ctx.cfg.baseUrl = b.toString().replace(/\/+$/, '');
            if (!ctx.cfg.issuerExplicit) ctx.cfg.issuer = ctx.cfg.baseUrl;
          }
          resolve({
            url: `http://${host}:${actual}`,
            close: () => new Promise<void>((res) => {
              faults.clear();
              for (const s of sockets) s.destroy();
              server.close(() => res());
            }),
          });
        });
      });
    },
    installTool: (t) => installTool(ctx, t),
    installFromJsonConfig: (json) => installFromJsonConfig(ctx, json),
    createApiKey: (o) => {
      if (!o.redirectUris?.length) throw new Error('createApiKey needs at least one redirect URI');
      const key = { clientId: ctx.globalId(d.nextId('apiKey')), clientSecret: randomToken(48), redirectUris: [...o.redirectUris], name: o.name ?? 'API key' };
      ctx.apiKeys.push(key);
      return { clientId: key.clientId, clientSecret: key.clientSecret };
    },
    issueUserToken: (o) => {
      const u = d.user(o.userId);
      if (!u) throw new Error(`No user ${o.userId}`);
      const t = ctx.issueToken({ kind: 'oauth', userId: u.id, clientId: o.clientId ?? ctx.apiKeys[0]?.clientId ?? 'sandbox', scopes: [], withRefresh: true, ttlSeconds: o.ttlSeconds });
      return { accessToken: t.token, refreshToken: t.refreshToken as string, expiresIn: Math.round((t.expiresAt - Date.now()) / 1000) };
    },
    launchUrl: (o) => buildLaunchUrl(ctx, o),
    loginInitiation: (o) => buildLoginInitiation(ctx, o),
    startRegistration: (url, accountId) => startRegistration(ctx, url, accountId),
    rotatePlatformKey: () => ctx.keys.rotate(),
    platformJwks: () => ctx.keys.jwks(),
    data: d,
    actions,
    events: d.events as Sandbox['events'],
    requests: ctx.requests,
    faults: { add: (f) => faults.add(f), clear: () => faults.clear() },
    revokeToken: (token) => revoke(ctx, token),
    setThrottle: (on) => throttle.set(on),
  };
  return sandbox;
}

/** The default demo scenario shipped with the repository. */
export function defaultScenarioPath(): string {
  return path.join(findRoot(), 'config', 'scenarios', 'tech-leader-1.json');
}
