import path from 'node:path';
import express, { type Express } from 'express';
import type { Config } from './config';
import { ping, type Database } from './db/database';
import { logger } from './log';
import { TenantRepository } from './tenants/repository';
import { LoginRepository } from './lti/loginRepository';
import { SessionRepository } from './lti/sessions';
import { Platforms } from './lti/platforms';
import { PlatformKeys, serveLtijsKeySets } from './lti/platformKeys';
import { PlatformAdmin } from './lti/platformAdmin';
import { loginInitiation } from './lti/login';
import { launchGuard } from './lti/launchGuard';
import { completeLaunch } from './lti/launch';
import { startLti } from './lti/provider';
import { dynamicRegistration } from './lti/registration';
import { canvasDeveloperKeyJson, toolUrls } from './lti/toolConfiguration';
import type { LtiProvider } from './lti/ltijsTypes';
import { homeRoutes } from './homes/routes';
import { deepLinkingRoutes } from './deepLinking/routes';
import { catalogChoices } from './deepLinking/catalogChoices';
import { catalogBodyParsers, catalogRoutes } from './catalog/api';
import type { CourseReaderFactory } from './catalog/canvasReader';
import { canvasCourseReader } from './catalog/canvasCourseReader';
import { catalogPages } from './catalog/pages';
import { multipartForms } from './catalog/multipart';
import { openApiDocument } from './web/openapi';
import { requestContext } from './web/requestContext';
import { FrameAncestors, securityHeaders } from './web/security';
import { errorHandler, notFound, sendError } from './web/errorHandler';
import { sessionRouter } from './web/sessionRouter';
import { ROUTE_TABLE } from './web/routeTable';
import { CanvasAccess } from './canvas/access';
import { canvasAuthorizationErrors, canvasOauthCallback, canvasRoutes } from './canvas/routes';
import { Badges } from './badges/service';
import { badgeRoutes } from './badges/routes';
import { JobQueue } from './jobs/queue';
import { Progress } from './progress/service';
import { earnerHomeData, progressRoutes } from './progress/routes';
import { reviewRoutes } from './review/routes';
import { snapshotEvidenceSource, submitLatestSnapshot, submitWaitingSnapshots, progressFollowsReview } from './progress/toReview';
import { type EvidenceSource, type OnAward, type ReviewDeps } from './review/ports';
import { PASSBACK_JOB } from './review/service';
import { runPassback, type PassbackJob } from './review/passback';
import { privacyRoutes } from './privacy/routes';
import { purgeExpiredEvidence, RETENTION_CRON, RETENTION_JOB, withRetention, type RetentionRun } from './privacy/retention';
import { Portfolio } from './portfolio/service';
import { portfolioRoutes, publicPortfolioRoutes } from './portfolio/routes';
import { reportRoutes } from './reports/routes';
import { Awards } from './awards/service';
import { awardRoutes } from './awards/routes';
import type { AgsPlatform } from './awards/ags';

export interface App {
  app: Express;
  lti: LtiProvider;
  admin: PlatformAdmin;
  platforms: Platforms;
  repos: { tenants: TenantRepository; logins: LoginRepository; sessions: SessionRepository };
  /** Canvas REST access: per-user OAuth2 tokens, the service token, and `CanvasClient`s. */
  canvas: CanvasAccess;
  /** The catalog reads Canvas courses through this; the Canvas client (or a test) sets it. */
  catalog: { setCourseReader(factory: CourseReaderFactory): void };
  /** The review reads evidence through an EvidenceSource and awards through a hook; the progress and award features set them. */
  review: { deps: ReviewDeps; setEvidenceSource(source: EvidenceSource): void; setOnAward(hook: OnAward): void };
  /** The credential engine: issue, revoke, verify Open Badges 3.0 (the award command calls it). */
  badges: Badges;
  /** The durable job queue; `startServer` starts it after migrations and stops it first on the way down. */
  jobs: JobQueue;
  /** Progress from Canvas: sync jobs, fast refreshes, Live Events, evidence snapshots (docs/progress.md). */
  progress: Progress;
  /** Privacy (docs/privacy.md): the evidence retention job (daily; `purgeNow` runs it at once). */
  privacy: { purgeNow(now?: Date): Promise<RetentionRun>; schedule(): Promise<void> };
  /** The award command, its outbox jobs to Canvas (grades, rubric, messages, next levels), designers' commands (docs/awards.md). */
  awards: Awards;
  /** Stops timers and ltijs; the caller closes the HTTP server and the database. */
  close(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');

/** Builds the Express app: the route order here is the request flow of docs/architecture.md. */
export async function createApp(config: Config, db: Database): Promise<App> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(ROOT, 'views'));
  // Compiled templates are kept except in development, where editing a view should show at once.
  if (config.env !== 'development') app.enable('view cache');
  app.locals.nav = [];
  app.locals.flash = [];
  app.locals.url = (p: string) => p;
  app.locals.csrfToken = '';
  app.locals.session = undefined;
  app.locals.publicUrl = config.publicUrl;

  const tenants = new TenantRepository(db.orm);
  const logins = new LoginRepository(db.orm);
  const sessions = new SessionRepository(db.orm, config.sessionTtlMinutes);
  const canvas = new CanvasAccess({ orm: db.orm, config });
  const jobs = JobQueue.create(db, { connectionString: config.database.url, schema: config.jobs.schema });
  // `lti` exists only after startLti; NRPS is called later, from a job.
  const ltiRef: { lti?: LtiProvider } = {};
  const progress = new Progress({
    orm: db.orm, canvas, queue: jobs, syncIntervalMinutes: config.progress.syncIntervalMinutes, liveEventsJwksUrl: config.progress.liveEventsJwksUrl,
    nrpsMembers: async (idtoken) => (ltiRef.lti ? (await ltiRef.lti.NamesAndRoles.getMembers(idtoken, { pages: false, resourceLinkId: true })).members : []),
  });
  progress.defineJobs();

  const renderError = (res: express.Response, err: unknown) => sendError(app, res.req, res, err);
  // Set once the credential engine exists (below); launches only happen after createApp returns.
  const awardsRef: { awards?: Awards } = {};
  const afterLaunch = async (l: Parameters<Progress['onLaunch']>[0]) => {
    await Promise.all([progress.onLaunch(l), awardsRef.awards?.rememberLaunch(l)]);
  };
  const { lti, store } = await startLti({ config, sql: db.sql, onLaunch: completeLaunch({ tenants, sessions, afterLaunch }), renderError });
  ltiRef.lti = lti;
  const platforms = new Platforms(lti);
  const keys = new PlatformKeys();
  // ltijs's own verification of a launch takes the JWKS launchGuard has just used instead of fetching it again.
  const stopServingKeySets = serveLtijsKeySets(keys);
  const admin = new PlatformAdmin(lti, platforms, tenants);
  const frameAncestors = new FrameAncestors(async () => {
    const list = await tenants.list();
    return [...list.map((t) => t.canvasBaseUrl ?? ''), ...list.map((t) => t.issuer)];
  });
  await frameAncestors.refresh();
  admin.onChange(() => frameAncestors.refresh());

  app.use(requestContext());
  app.use(securityHeaders(frameAncestors, { hsts: config.publicUrl.startsWith('https://') }));
  app.use('/assets', express.static(path.join(ROOT, 'public'), { index: false, maxAge: config.env === 'production' ? '1d' : 0 }));

  app.get('/healthz', async (_req, res) => {
    try {
      await ping(db);
      res.json({ status: 'ok', database: db.kind });
    } catch (err) {
      logger.error({ err }, 'health check failed');
      res.status(503).json({ status: 'unavailable', database: db.kind, error: 'database not reachable' });
    }
  });
  app.get('/', (_req, res) => res.render('index', { title: 'microcred', urls: toolUrls(config) }));
  if (config.env !== 'production') app.get('/styleguide', (_req, res) => res.render('styleguide', { title: 'Style guide' }));

  // LTI: our login initiation, registration and launch guard in front of ltijs (mounted at /lti).
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });
  app.get('/lti/canvas-config.json', (_req, res) => res.json(canvasDeveloperKeyJson(config)));
  app.all('/lti/login', form, loginInitiation({ config, platforms, logins }));
  app.get('/lti/register', dynamicRegistration({ config, admin, autoActivate: config.registrationAutoActivate }));
  app.use('/lti', form, launchGuard({ config, platforms, keys, logins, tenants }), lti.app);

  // Public credential routes (no session): issuer and DID document, status lists, credentials, OB 2.0, /verify.
  const badges = new Badges({ orm: db.orm, publicUrl: config.publicUrl, secretKey: config.secretKey, singleSession: db.kind === 'pglite' || config.database.singleSession });
  app.use(badgeRoutes(badges));
  // The public portfolio an earner chose to share (GET /portfolio/:slug; off = 404).
  const portfolio = new Portfolio({ orm: db.orm, badges });
  app.use(publicPortfolioRoutes(portfolio));

  // Canvas's OAuth2 redirect lands in a top-level window without the session path: the state names it.
  app.get('/canvas/oauth/callback', canvasOauthCallback({ access: canvas }));
  // Canvas Live Events (signed JWTs over HTTPS): public, verified by signature.
  app.use(progress.liveEvents(keys));

  const catalogDeps = { db, courseReader: canvasCourseReader(canvas), publicUrl: config.publicUrl };
  const progressDeps = { progress, sessionTtlMinutes: config.sessionTtlMinutes };
  const awards = new Awards({ db, badges, jobs, canvas, publicUrl: config.publicUrl, platform: (issuer, clientId) => agsPlatform(lti, issuer, clientId) });
  awardsRef.awards = awards;
  awards.defineJobs();
  progress.next.afterSave = awards.afterProgressSave;
  // Purged files (retention) show as such whatever source reads the snapshots.
  const reviewDeps: ReviewDeps = { db, evidence: withRetention(db.orm, snapshotEvidenceSource(db.orm)), onAward: awards.onReviewAward, onNotYet: awards.onReviewNotYet, progress: progressFollowsReview, jobs, canvas };
  progress.next.afterSnapshot = (job) => submitLatestSnapshot(reviewDeps, job);
  progress.next.afterRefresh = (job) => submitWaitingSnapshots(reviewDeps, job.tenantId, job.canvasUserId);
  // Jobs are defined before the queue starts (startServer starts it after createApp).
  jobs.define<PassbackJob>({ name: PASSBACK_JOB, retryLimit: 10, retryDelaySeconds: 30, handler: async (data) => void (await runPassback(reviewDeps, data)) });
  const retentionDays = config.privacy.evidenceRetentionDays;
  const purgeNow = (now?: Date) => (retentionDays > 0 ? purgeExpiredEvidence(db, { retentionDays, now }) : Promise.resolve({ purged: 0, bytes: 0, batches: 0 }));
  jobs.define<object>({ name: RETENTION_JOB, policy: 'singleton', retryLimit: 3, retryDelaySeconds: 600, expireInSeconds: 60 * 60, handler: async () => void (await purgeNow()) });
  const routes = [
    ...homeRoutes({ tenants, earnerHome: earnerHomeData(progressDeps) }),
    ...deepLinkingRoutes({ config, lti, choices: catalogChoices({ config, catalog: catalogDeps }) }),
    ...canvasRoutes({ access: canvas }),
    ...catalogRoutes(catalogDeps),
    ...catalogPages(catalogDeps),
    ...progressRoutes(progressDeps),
    ...reviewRoutes(reviewDeps),
    ...privacyRoutes({ db, badges, jobSchema: config.jobs.schema, retentionDays }),
    ...portfolioRoutes({ portfolio, publicUrl: config.publicUrl }),
    ...reportRoutes({ orm: db.orm }),
    ...awardRoutes(awards),
  ];
  for (const p of catalogBodyParsers()) app.use(p.path, p.handler);
  // The two no-JavaScript badge upload forms post multipart/form-data (src/catalog/multipart.ts).
  for (const p of ['/s/:token/catalog/credentials/:id/image', '/s/:token/admin/issuer']) app.use(p, multipartForms());
  // Notification choices (PUT /me/preferences, the awards feature's route): an HTML form cannot send PUT, so the
  // portfolio's no-JavaScript form posts `_method=PUT` and is passed on as the PUT it means. Only this path.
  app.post('/s/:token/me/preferences', express.urlencoded({ extended: false, limit: '16kb' }), (req, _res, next) => {
    if ((req.body as Record<string, unknown> | undefined)?._method === 'PUT') req.method = 'PUT';
    next();
  });
  app.use('/s/:token', sessionRouter({ sessions, routes }));
  const openapi = openApiDocument({ publicUrl: config.publicUrl, routes });
  app.get('/openapi.json', (_req, res) => res.json(openapi));

  app.use(notFound());
  app.use(canvasAuthorizationErrors({ access: canvas }));
  app.use(errorHandler(app));

  const sweeper = setInterval(() => {
    void Promise.all([logins.sweep(), sessions.sweep(), canvas.store.sweepStates()]).catch((err) => logger.warn({ err }, 'sweep failed'));
  }, 10 * 60_000);
  sweeper.unref();

  return {
    app,
    lti,
    admin,
    platforms,
    repos: { tenants, logins, sessions },
    canvas,
    badges,
    jobs,
    progress,
    awards,
    catalog: {
      setCourseReader(factory) {
        catalogDeps.courseReader = factory;
      },
    },
    review: {
      deps: reviewDeps,
      setEvidenceSource(source) {
        // Purged files (retention) show as such whatever source reads the snapshots.
        reviewDeps.evidence = withRetention(db.orm, source);
      },
      setOnAward(hook) {
        reviewDeps.onAward = hook;
      },
    },
    privacy: {
      purgeNow,
      async schedule() {
        if (retentionDays > 0) await jobs.schedule(RETENTION_JOB, RETENTION_CRON, {}, 'privacy');
      },
    },
    async close() {
      clearInterval(sweeper);
      stopServingKeySets();
      await store.Close();
    },
  };
}

/**
 * ltijs's registration of a platform, as the AGS client-credentials grant needs it (undefined when inactive). Kept
 * for 30 s: every passback asks, and ltijs decrypts the private key on each read.
 */
const platformCache = new Map<string, { at: number; value: Promise<AgsPlatform | undefined> }>();
function agsPlatform(lti: LtiProvider, issuer: string, clientId: string): Promise<AgsPlatform | undefined> {
  const key = `${issuer}\u0000${clientId}`;
  const hit = platformCache.get(key);
  if (hit && Date.now() - hit.at < 30_000) return hit.value;
  const value = readAgsPlatform(lti, issuer, clientId);
  platformCache.set(key, { at: Date.now(), value });
  value.catch(() => platformCache.delete(key));
  return value;
}

async function readAgsPlatform(lti: LtiProvider, issuer: string, clientId: string): Promise<AgsPlatform | undefined> {
  const p = await lti.getPlatform(issuer, clientId);
  if (!p || !(await p.platformActive())) return undefined;
  const [kid, tokenEndpoint, audience, privateKeyPem] = await Promise.all([p.platformKid(), p.platformAccessTokenEndpoint(), p.platformAuthorizationServer(), p.platformPrivateKey()]);
  return { issuer, clientId, kid, tokenEndpoint, audience: audience || tokenEndpoint, privateKeyPem };
}

export { ROUTE_TABLE };
