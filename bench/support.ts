/*
 * What the launch and load benchmarks share: a database per run, microcred in its own process (installed in the
 * sandbox from its JSON configuration and registered, as an administrator would), virtual users, and the figures
 * read from /proc (CPU time, RSS) that do not depend on what else the shared machine is doing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { openDatabase, migrate } from '../src/db/database';
import { startLti } from '../src/lti/provider';
import { Platforms } from '../src/lti/platforms';
import { PlatformAdmin } from '../src/lti/platformAdmin';
import { TenantRepository } from '../src/tenants/repository';
import { canvasDeveloperKeyJson, toolUrls } from '../src/lti/toolConfiguration';
import type { Sandbox } from '../src/sandbox';
import { freePort } from '../test/support/ports';

export const SECRET = 'bench-secret-0123456789abcdef0123456789';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The value at quantile q of sorted times. */
export const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** A database for this run (created, migrated; dropped by `drop`), on DATABASE_URL's server. */
export async function benchDatabase(prefix: string): Promise<{ url: string; name: string; admin: Client; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `${prefix}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  await migrate(db);
  await db.close();
  return {
    url: url.toString(),
    name,
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    },
  };
}

/**
 * microcred from the checkout in `dir` (its `script`, default src/main.ts) in its own process: installed in the
 * sandbox from its JSON configuration, registered in the database, started, answering /healthz.
 */
export async function startMicrocred(o: { sandbox: Sandbox; databaseUrl: string; dir?: string; script?: string; env?: Record<string, string>; children: ChildProcess[]; cpuProf?: string }): Promise<{ proc: ChildProcess; toolId: string; url: string }> {
  const dir = o.dir ?? process.cwd();
  const port = await freePort();
  const env = { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `https://127.0.0.1:${port}`, DATABASE_URL: o.databaseUrl, SECRET_KEY: SECRET, LOG_LEVEL: 'warn' };
  const config = { ...loadConfig(env), publicUrl: `http://127.0.0.1:${port}` };
  const tool = o.sandbox.installFromJsonConfig({ ...canvasDeveloperKeyJson(config), redirect_uris: [toolUrls(config).launch] });
  const db = await openDatabase({ url: o.databaseUrl });
  const { lti, store } = await startLti({ config, sql: db.sql, onLaunch: async () => '/', renderError: () => undefined });
  await new PlatformAdmin(lti, new Platforms(lti), new TenantRepository(db.orm)).register({
    issuer: o.sandbox.issuer, clientId: tool.clientId, name: `bench ${port}`, authEndpoint: `${o.sandbox.baseUrl}/api/lti/authorize_redirect`,
    tokenEndpoint: `${o.sandbox.baseUrl}/login/oauth2/token`, jwksUrl: `${o.sandbox.baseUrl}/api/lti/security/jwks`, deploymentIds: [tool.deploymentId], active: true,
  });
  await lti.close({ silent: true });
  await store.Close();
  await db.close();
  // Production mode insists on an https PUBLIC_URL; the bench talks http on loopback, so the tool runs in `test` mode,
  // which caches views and keeps logs quiet like production.
  const proc = startProcess(path.join(dir, o.script ?? 'src/main.ts'), dir, { ...env, NODE_ENV: 'test', PUBLIC_URL: config.publicUrl, REGISTRATION_AUTO_ACTIVATE: 'off', ...o.env }, o.children, o.cpuProf);
  await waitHttp(`${config.publicUrl}/healthz`, proc);
  return { proc, toolId: tool.toolId, url: config.publicUrl };
}

export function startProcess(script: string, cwd: string, env: Record<string, string>, children: ChildProcess[], cpuProf?: string): ChildProcess {
  const prof = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProf)}`] : [];
  const child = fork(script, [], { cwd, env: { ...process.env, ...env }, execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return child;
}

/** Stops the servers (SIGTERM: they drain, and write their CPU profiles), waiting at most 5 s for each. */
export async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'), setTimeout(r, 5000))))));
}

export function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

export async function waitHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}

/** `concurrency` virtual users doing `work` back to back for `seconds`; times of the ones that succeeded. */
export async function run(work: () => Promise<void>, concurrency: number, seconds: number, onError?: (err: Error) => void) {
  const times: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        try {
          await work();
          times.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (onError) onError(err as Error);
          else if (errors <= 3) console.error((err as Error).message);
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { launches: times.length, errors, perSecond: times.length / elapsed, p50: quantile(times, 0.5), p95: quantile(times, 0.95) };
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

/** User + system CPU time of a process so far, in ms (0 when it is not on this machine). */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14 and 15 of the line)
  } catch {
    return 0;
  }
}

/** CPU ms of every PostgreSQL backend connected to a database, by pid. */
export async function backendsCpu(admin: Client, dbName: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
}

export function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}
