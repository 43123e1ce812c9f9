/**
 * 1,000 awards through faults: a microcred process is killed with SIGKILL in the middle of awarding, its database
 * connections are all cut (what a PostgreSQL restart does to it) while it works, and Canvas answers 500s and
 * times out during the grade passback. The designer's client retries every bulk request, as a person would after
 * an error. At the end: 1,000 awards, none lost and none doubled (one award, one ledger entry, one signed credential
 * each), and every grade accepted by Canvas (the sandbox) exactly once per educator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateScenario } from '../../src/sandbox';
import { startStack, freePort, TEST_SECRET, type Stack } from '../support/stack';
import { sessionOf } from '../support/session';
import { parseForm } from '../support/browser';
import { startDbProxy, type DbProxy } from '../support/dbProxy';
import { techLeaderI } from '../catalog/support';
import { waitFor } from '../progress/support';

jest.setTimeout(900_000);

const EDUCATORS = 1000;
const BATCH = 50;

describe('1,000 awards through a killed process, a database restart and Canvas failures', () => {
  let stack: Stack;
  let proxy: DbProxy;
  let tenantId: string;
  let credential: { id: string; versionId: string; lineItemId: number };
  let designer: { token: string; csrf: string };
  let educators: number[];
  const children: ChildProcess[] = [];
  /** What went wrong on the way (shown when the test fails): refused requests and the instances' warnings. */
  const trouble: string[] = [];
  const outputs: (() => string)[] = [];
  const q = async <R extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await stack.tool.db.sql.query<R>(text, params)).rows;

  beforeAll(async () => {
    stack = await startStack({ scenario: generateScenario({ educators: EDUCATORS, modules: 2 }) });
    proxy = await startDbProxy(process.env.DATABASE_URL!);
    const { page } = await stack.launch('4', { courseId: '1' });
    const api = sessionOf(page);
    designer = { token: new URL(page.url).pathname.split('/')[2]!, csrf: api.csrf };
    tenantId = (await q<{ id: string }>('SELECT id FROM tenants WHERE client_id = $1', [stack.clientId]))[0]!.id;
    await stack.tool.app.canvas.store.setServiceToken(tenantId, stack.sandbox.issueUserToken({ userId: 1 }).accessToken, { setBy: (await q<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 LIMIT 1', [tenantId]))[0]!.id, canvasUser: '1' });
    // The micro-credential, published and added to the course as a graded assignment (Deep Linking), so awards have
    // a line item to grade.
    const created = (await (await api.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name: 'Faults' }) })).json()) as { id: string };
    const published = (await (await api.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' })).json()) as { current: { id: string } };
    const dl = await stack.launch('4', { courseId: '1', placement: 'module_index_menu_modal', messageType: 'LtiDeepLinkingRequest' });
    const form = parseForm(dl.page.body)!;
    await dl.browser.post(new URL(form.action, dl.page.url).toString(), { _csrf: form.fields._csrf!, choice: `graded:${created.id}` });
    credential = { id: created.id, versionId: published.current.id, lineItemId: stack.sandbox.data.lineItems.find((l) => l.resourceId === created.id)!.id };
    // The educators, as a roster import makes them known (sub ↔ Canvas id).
    const students = stack.sandbox.data.students(1).slice(0, EDUCATORS);
    for (let i = 0; i < students.length; i += 200) {
      const chunk = students.slice(i, i + 200);
      await q(
        `INSERT INTO users (tenant_id, lti_sub, canvas_user_id, name, email) SELECT $1, s.sub, s.cid, s.name, s.email FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS s(sub, cid, name, email)`,
        [tenantId, chunk.map((s) => s.ltiId), chunk.map((s) => String(s.id)), chunk.map((s) => s.name), chunk.map((s) => s.email)],
      );
    }
    educators = students.map((s) => s.id);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await proxy?.close();
    await stack?.stop();
  });

  /** Another microcred instance on the same database (through the proxy) and job queue. */
  async function startInstance(): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: proxy.url,
      DATABASE_POOL_MAX: '5',
      DATABASE_SINGLE_SESSION: stack.config.database.singleSession ? 'on' : 'off',
      SECRET_KEY: TEST_SECRET,
      PUBLIC_URL: stack.config.publicUrl,
      JOB_SCHEMA: stack.config.jobs.schema,
      LOG_LEVEL: 'error',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mc-faults-')),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.on('exit', () => trouble.push(`instance on ${port} exited; its last output: ${output.slice(-1500)}`));
    outputs.push(() => output);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`instance exited early:\n${output}`);
      return (await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)) || undefined;
    }, 60_000, 200);
    return { child, url, exited };
  }

  /** One bulk request to an instance; resolves to the Canvas ids it answered for, or null when it failed. */
  async function bulk(url: string, earners: number[]): Promise<number[] | null> {
    try {
      const res = await fetch(`${url}/s/${designer.token}/api/awards/bulk`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': designer.csrf },
        body: JSON.stringify({ credentialId: credential.id, reason: 'Completed the district summer institute.', earners: earners.map(String) }),
        signal: AbortSignal.timeout(60_000),
      });
      if (res.status !== 200) {
        trouble.push(`bulk ${res.status}: ${(await res.text()).slice(0, 300)}`);
        return null;
      }
      const out = (await res.json()) as { awarded: { canvasUserId: string }[]; alreadyHeld: { canvasUserId: string }[]; skipped: unknown[] };
      return [...out.awarded, ...out.alreadyHeld].map((x) => Number(x.canvasUserId));
    } catch (err) {
      trouble.push(`bulk failed: ${(err as Error).message}`);
      return null;
    }
  }

  it('loses and doubles nothing, and every grade reaches Canvas', async () => {
    // Canvas misbehaves on the grade passback for a while: 500s and a slow answer.
    stack.sandbox.faults.add({ path: `/api/lti/courses/1/line_items/${credential.lineItemId}/scores`, status: 500, times: 40 });
    stack.sandbox.faults.add({ path: `/api/lti/courses/1/line_items/${credential.lineItemId}/scores`, delayMs: 15_000, times: 3 });

    const batches: number[][] = [];
    for (let i = 0; i < educators.length; i += BATCH) batches.push(educators.slice(i, i + BATCH));
    const done = new Set<number>();

    // 1. The first instance awards until it is killed (SIGKILL) in the middle of it.
    const first = await startInstance();
    const inFlight = batches.slice(0, 8).map((b) => bulk(first.url, b));
    await waitFor(async () => Number((await q<{ n: string }>('SELECT count(*) AS n FROM awards WHERE tenant_id = $1', [tenantId]))[0]!.n) >= 120 || undefined, 180_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}\n${trouble.slice(-5).join('\n')}\n${outputs.map((o) => o().slice(-3000)).join('\n')}`);
    });
    first.child.kill('SIGKILL');
    await first.exited;
    for (const r of await Promise.all(inFlight)) for (const id of r ?? []) done.add(id);
    const afterKill = Number((await q<{ n: string }>('SELECT count(*) AS n FROM awards WHERE tenant_id = $1', [tenantId]))[0]!.n);
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(EDUCATORS);

    // 2. A new instance; the client retries everything not confirmed. Mid-way, the database "restarts".
    const second = await startInstance();
    let restarted = false;
    for (let round = 0; round < 10 && done.size < EDUCATORS; round++) {
      const todo = batches.filter((b) => b.some((id) => !done.has(id)));
      const results = [] as Promise<void>[];
      for (const [i, b] of todo.entries()) {
        results.push(bulk(second.url, b).then((r) => void (r ?? []).forEach((id) => done.add(id))));
        if (!restarted && i === Math.floor(todo.length / 2)) {
          restarted = true;
          await proxy.restart(3000);
        }
        if (results.length >= 4) await Promise.all(results.splice(0));
      }
      await Promise.all(results);
    }
    expect(restarted).toBe(true);
    expect(proxy.cut).toBeGreaterThan(0);
    expect(done.size).toBe(EDUCATORS);

    // 0 lost, 0 doubled: one award, one ledger entry and one credential per educator.
    const [counts] = await q<{ awards: string; earners: string; ledger: string; credentials: string }>(
      `SELECT (SELECT count(*) FROM awards WHERE tenant_id = $1 AND version_id = $2) AS awards,
              (SELECT count(DISTINCT earner_id) FROM awards WHERE tenant_id = $1 AND version_id = $2) AS earners,
              (SELECT count(*) FROM ceu_ledger l JOIN awards a ON a.id = l.award_id WHERE a.tenant_id = $1 AND a.version_id = $2) AS ledger,
              (SELECT count(*) FROM issued_credentials WHERE tenant_id = $1 AND version_id = $2) AS credentials`,
      [tenantId, credential.versionId],
    );
    expect(counts).toEqual({ awards: String(EDUCATORS), earners: String(EDUCATORS), ledger: String(EDUCATORS), credentials: String(EDUCATORS) });
    const [orphans] = await q<{ n: string }>('SELECT count(*) AS n FROM awards WHERE tenant_id = $1 AND issued_credential_id IS NULL', [tenantId]);
    expect(orphans!.n).toBe('0');

    // Every grade eventually accepted by Canvas, once per educator (the instances and the test's own share the queue).
    const graded = await waitFor(
      () => {
        const users = new Set(stack.sandbox.data.results.filter((r) => r.lineItemId === credential.lineItemId && r.resultScore !== null).map((r) => r.userId));
        return users.size >= EDUCATORS ? users : undefined;
      },
      // Jobs the killed instance held come back when pg-boss expires them (2 minutes, checked every minute).
      420_000,
      500,
    );
    expect(graded.size).toBe(EDUCATORS);
    await waitFor(async () => {
      const [p] = await q<{ open: string }>(`SELECT count(*) AS open FROM award_passbacks p JOIN awards a ON a.id = p.award_id WHERE a.tenant_id = $1 AND p.kind = 'ags_score' AND p.state <> 'sent'`, [tenantId]);
      return p!.open === '0' || undefined;
    }, 120_000, 500);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
