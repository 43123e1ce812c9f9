/*
 * `npm run bench`: every benchmark of docs/benchmarks.md, one after another (never two at once: the machine has two
 * cores), each as its own `npm run bench:<name>`, with its output as it goes and a summary at the end (exit code,
 * wall time, and the 1-minute load average before and after each: the figures move with the machine's other work).
 * BENCH_ONLY=launch,load picks some. A benchmark whose script does not exist yet (award, until its feature lands)
 * is listed as skipped. Exits non-zero when one failed or missed its target.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ALL = ['launch', 'load', 'sync', 'sign', 'review', 'award'];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const scripts = (JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

interface Outcome { name: string; status: 'ok' | 'failed' | 'skipped'; code?: number | null; seconds?: number; load?: [number, number] }

function runOne(name: string): Promise<Outcome> {
  const script = `bench:${name}`;
  if (!scripts[script]) return Promise.resolve({ name, status: 'skipped' });
  console.log(`\n===== npm run ${script} =====`);
  const load0 = os.loadavg()[0]!;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: 'inherit', env: process.env });
    child.on('exit', (code) => resolve({ name, status: code === 0 ? 'ok' : 'failed', code, seconds: (Date.now() - started) / 1000, load: [load0, os.loadavg()[0]!] }));
  });
}

async function main() {
  const outcomes: Outcome[] = [];
  for (const name of ALL) {
    if (only && !only.includes(name)) continue;
    outcomes.push(await runOne(name));
  }
  console.log(`\n===== summary (${new Date().toISOString()}, ${os.cpus().length} CPUs, Node ${process.version}) =====`);
  console.log('| benchmark | result | wall time | load average before → after |');
  console.log('|---|---|---|---|');
  for (const o of outcomes) {
    const result = o.status === 'skipped' ? `skipped: no \`bench:${o.name}\` script yet` : o.status === 'ok' ? 'ok' : `failed (exit ${o.code})`;
    console.log(`| \`npm run bench:${o.name}\` | ${result} | ${o.seconds ? `${o.seconds.toFixed(0)} s` : '–'} | ${o.load ? `${o.load[0].toFixed(1)} → ${o.load[1].toFixed(1)}` : '–'} |`);
  }
  console.log('\nFigures: each benchmark printed its own above; launch and load also wrote bench/results/*.json.');
  if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
