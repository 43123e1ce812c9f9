import { parentPort } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { signCredential, type Json } from './signing';

/**
 * A signing worker (signerPool.ts): canonicalizes and signs what the main thread sends, with its own RDF cache.
 * Answers with the proof only; the main thread adds it to the credential it already has.
 */

export interface SignRequest {
  id: number;
  credential: Json;
  verificationMethod: string;
  /** Sent the first time this worker signs with `verificationMethod` (and again after a key change). */
  privateKey?: KeyObject;
  created: string;
}
export type SignResponse = { id: number; proof: Json } | { id: number; error: { name: string; message: string } };

const keys = new Map<string, KeyObject>();

parentPort?.on('message', (m: SignRequest) => {
  if (m.privateKey) keys.set(m.verificationMethod, m.privateKey);
  const privateKey = keys.get(m.verificationMethod);
  if (!privateKey) {
    parentPort!.postMessage({ id: m.id, error: { name: 'Error', message: `no key for ${m.verificationMethod} in this worker` } } satisfies SignResponse);
    return;
  }
  signCredential(m.credential, { verificationMethod: m.verificationMethod, privateKey }, m.created).then(
    (signed) => parentPort!.postMessage({ id: m.id, proof: signed.proof as Json } satisfies SignResponse),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      parentPort!.postMessage({ id: m.id, error: { name: e.name, message: e.message } } satisfies SignResponse);
    },
  );
});
