import type { KeyObject } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { isoSeconds, signCredential, type Json, type ProofKey } from './signing';
import type { SignRequest, SignResponse } from './signerWorker';

/**
 * Signing off the main thread: a small pool of worker threads that canonicalize and sign (signerWorker.ts), so a
 * bulk award uses every core and the event loop stays free for requests and the database. The output is exactly
 * `signCredential`'s (same function, same `created`, tested).
 *
 * - Workers start on first use and stop after `IDLE_MS` without work (a worker holds ~40 MB: jsonld, contexts).
 * - A worker keeps the process alive only while it has work (ref/unref), so a script or a test can exit.
 * - A failed job rejects with the worker's error (e.g. JSON-LD safe mode); a crashed worker rejects its jobs and
 *   is replaced on the next job.
 * - From TypeScript sources (tsx, Jest) the worker loads signerWorker.ts through tsx (a dev dependency); from the
 *   build, signerWorker.js.
 */

export const IDLE_MS = 30_000;

/** Workers by default: 2 on a machine with 2 or more cores (awards are background jobs), none on one core. */
export function defaultSigningWorkers(): number {
  const n = os.availableParallelism();
  return n >= 2 ? 2 : 0;
}

interface Slot {
  worker: Worker;
  /** The key object this worker last received per verification method (sent again only if it changes). */
  keys: Map<string, KeyObject>;
  pending: Map<number, { resolve: (proof: Json) => void; reject: (err: Error) => void }>;
}

export class SignerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error('a signer pool needs at least one worker');
  }

  /** Same result as `signCredential(credential, key, date)`. */
  async sign(credential: Json, key: ProofKey, date?: string): Promise<Json> {
    const created = date ?? isoSeconds(new Date());
    const slot = this.pick();
    const id = this.nextId++;
    const proof = await new Promise<Json>((resolve, reject) => {
      try {
        // Throws (DataCloneError) for what cannot be sent to a thread, e.g. a function in the credential.
        const known = slot.keys.get(key.verificationMethod) === key.privateKey;
        slot.worker.postMessage({ id, credential, verificationMethod: key.verificationMethod, ...(known ? {} : { privateKey: key.privateKey }), created } satisfies SignRequest);
        slot.keys.set(key.verificationMethod, key.privateKey);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      this.touch();
    });
    return { ...credential, proof };
  }

  /** Stops the workers (pending jobs are rejected). The pool starts them again if used. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) this.fail(s, new Error('the signing pool was closed'));
  }

  /** Running workers (for tests). */
  get running(): number {
    return this.slots.length;
  }

  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.pending.size < best.pending.size) best = s;
    if (best && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    // From the build: signerWorker.js. From TypeScript sources (tsx, Jest): signerWorker.ts through tsx's CommonJS
    // hook (tsx's ESM loader, which `tsx` puts in execArgv, does not reach a worker's entry file in Node 20).
    const ts = __filename.endsWith('.ts');
    const entry = path.join(__dirname, ts ? 'signerWorker.ts' : 'signerWorker.js');
    const boot = (ts ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});\n` : '') + `require(${JSON.stringify(entry)});`;
    const worker = new Worker(boot, { eval: true });
    worker.unref();
    const slot: Slot = { worker, keys: new Map(), pending: new Map() };
    worker.on('message', (m: SignResponse) => {
      const job = slot.pending.get(m.id);
      if (!job) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if ('proof' in m) job.resolve(m.proof);
      else job.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    });
    const gone = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.fail(slot, err);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`a signing worker stopped (exit code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, err: Error): void {
    for (const job of slot.pending.values()) job.reject(err);
    slot.pending.clear();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.slots.every((s) => s.pending.size === 0)) void this.close();
      else this.touch();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

let shared: SignerPool | undefined;

/** The process-wide pool (one per process, whatever the number of `Badges` instances). */
export function sharedSignerPool(size: number): SignerPool {
  if (!shared || shared.size !== size) shared = new SignerPool(size);
  return shared;
}

/** Signs on the shared pool with `workers` threads, or in this thread when `workers` is 0. */
export function signWith(workers: number): (credential: Json, key: ProofKey, date?: string) => Promise<Json> {
  return workers > 0 ? (c, k, d) => sharedSignerPool(workers).sign(c, k, d) : signCredential;
}

/** Stops the shared pool's workers (graceful shutdown, tests). */
export async function closeSignerPool(): Promise<void> {
  await shared?.close();
}
