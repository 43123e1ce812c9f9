/**
 * `npm run bench:sync`: a full and an incremental sync of 1,000 educators × 12 modules against the sandbox Canvas
 * with 100 ms latency per request and Canvas's throttle on, on an embedded database. Prints requests, throttled
 * requests and wall time (medians of RUNS, default 3). Targets: full ≤ 1,100 requests and ≤ 120 s, incremental
 * with 20 changed educators ≤ 50 requests, 0 throttled.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, migrate } from '../src/db/database';
import { CanvasAccess } from '../src/canvas/access';
import { loadConfig } from '../src/config';
import { CatalogRepository } from '../src/catalog/repository';
import { TenantRepository } from '../src/tenants/repository';
import { ProgressRepository } from '../src/progress/repository';
import { ProgressSync } from '../src/progress/sync';
import { createSandbox, generateScenario } from '../src/sandbox';
import { loadStarterCatalog } from '../src/catalog/commands/starter';

const EDUCATORS = Number(process.env.EDUCATORS ?? 1000);
const MODULES = Number(process.env.MODULES ?? 12);
const LATENCY = Number(process.env.LATENCY_MS ?? 100);
const RUNS = Number(process.env.RUNS ?? 3);
const CHANGED = 20;

interface Figures { requests: number; throttled: number; modulesRead: number; seconds: number }

async function once(run: number): Promise<{ full: Figures; incremental: Figures }> {
  const sb = createSandbox({ baseUrl: 'http://127.0.0.1:0', scenario: generateScenario({ educators: EDUCATORS, modules: MODULES, seed: run + 1 }), latencyMs: LATENCY, throttle: true });
  const server = await sb.listen(0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'microcred-bench-'));
  const db = await openDatabase({ pgliteDir: dir });
  try {
    await migrate(db);
    const config = loadConfig({ NODE_ENV: 'test', SECRET_KEY: 'bench-secret-0123456789abcdef-0123456789', LOG_LEVEL: 'silent', DATA_DIR: dir });
    const tenants = new TenantRepository(db.orm);
    const tenant = await tenants.addDeployment({ issuer: sb.issuer, clientId: 'bench', deploymentId: '1', platformKid: 'bench', name: 'Bench District' });
    await tenants.setCanvasBaseUrl(tenant.id, sb.baseUrl);
    const course = await tenants.upsertCourse(tenant.id, { ltiContextId: 'bench-course', canvasCourseId: '1', title: 'Generated Course' });
    const designer = await tenants.upsertUser(tenant.id, { ltiSub: 'designer', canvasUserId: '4', name: 'Dana Designer' });
    const catalog = new CatalogRepository(db.orm);
    const c = await catalog.insertCredential(tenant.id, { courseId: course.id, key: 'bench', createdBy: designer.id });
    const v = await catalog.insertVersion(tenant.id, c.id, 1, { ...loadStarterCatalog().credentials[0]!.definition, name: 'Tech Leader I' }, designer.id);
    await catalog.markVersionPublished(tenant.id, v.id);
    await catalog.updateCredential(tenant.id, c.id, { state: 'published', currentVersionId: v.id, publishedAt: new Date() });
    const moduleIds = Array.from({ length: MODULES }, (_, i) => String(100 + i));
    await catalog.upsertAttachment(tenant.id, { courseId: course.id, credentialId: c.id, canvasCourseId: '1', moduleIds, assignmentId: String(1000 + MODULES - 1), rubricImported: false, attachedBy: designer.id });
    const canvas = new CanvasAccess({ orm: db.orm, config, clientOptions: { timeoutMs: 30_000 } });
    await canvas.store.setServiceToken(tenant.id, sb.issueUserToken({ userId: 1, ttlSeconds: 86_400 }).accessToken, { setBy: designer.id, canvasUser: '1' });
    const sync = new ProgressSync({ repo: new ProgressRepository(db.orm), canvas, enqueueSnapshot: async () => undefined });

    const measure = async (mode: 'full' | 'incremental'): Promise<Figures> => {
      const from = sb.requests.length;
      const t = Date.now();
      const r = await sync.syncCourse({ tenantId: tenant.id, courseId: course.id, mode });
      const sent = sb.requests.slice(from);
      return { requests: sent.length, throttled: sent.filter((x) => x.throttled).length, modulesRead: r.modulesRead, seconds: (Date.now() - t) / 1000 };
    };
    const full = await measure('full');
    // 20 educators make progress in Canvas: a module item each, and evidence for half of them.
    for (let i = 0; i < CHANGED; i++) {
      const uid = 100 + i * Math.floor(EDUCATORS / CHANGED);
      const item = sb.data.moduleItems.find((x) => x.completionRequirement && x.type !== 'Assignment' && !sb.data.itemCompletion(x, uid).completed);
      if (item) sb.actions.completeItem(1, item.id, uid);
      else sb.actions.submit(1, 1000 + MODULES - 1, uid, { body: '<p>Evidence</p>' });
    }
    const incremental = await measure('incremental');
    return { full, incremental };
  } finally {
    await db.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  console.log(`bench:sync — ${EDUCATORS} educators × ${MODULES} modules, ${LATENCY} ms latency, throttle on, ${RUNS} run(s)`);
  const runs: { full: Figures; incremental: Figures }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await once(i);
    runs.push(r);
    console.log(`run ${i + 1}: full ${r.full.requests} requests (${r.full.throttled} throttled, ${r.full.modulesRead} module reads) in ${r.full.seconds.toFixed(1)} s; incremental ${r.incremental.requests} requests (${r.incremental.throttled} throttled, ${r.incremental.modulesRead} module reads) in ${r.incremental.seconds.toFixed(1)} s`);
  }
  const pick = (k: 'full' | 'incremental', f: keyof Figures) => median(runs.map((r) => r[k][f]));
  console.log('\n| sync | requests | throttled | module reads | wall time |\n|---|---|---|---|---|');
  for (const k of ['full', 'incremental'] as const) console.log(`| ${k} | ${pick(k, 'requests')} | ${pick(k, 'throttled')} | ${pick(k, 'modulesRead')} | ${pick(k, 'seconds').toFixed(1)} s |`);
  const ok = pick('full', 'requests') <= 1100 && pick('incremental', 'requests') <= 50 && pick('full', 'throttled') === 0 && pick('incremental', 'throttled') === 0 && pick('full', 'seconds') <= 120;
  console.log(ok ? '\nall targets met' : '\nTARGETS MISSED');
  process.exitCode = ok ? 0 : 1;
}

void main();
