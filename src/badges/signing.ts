import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import type { Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey';
import { documentLoader } from './contexts';

/** A signed credential as JSON. */
export type Json = Record<string, unknown>;

const contextsOnly = documentLoader();

/**
 * Signs with a `DataIntegrityProof` / `eddsa-rdfc-2022`, proofPurpose assertionMethod (what OB 3.0 conformance
 * requires). JSON-LD safe mode runs while signing: an undefined term, a relative id or an unknown type throws
 * here instead of producing a credential other verifiers reject. `date` pins `proof.created` (the golden test).
 */
export async function signCredential(credential: Json, keyPair: Ed25519KeyPair, date?: string): Promise<Json> {
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, ...(date ? { date } : {}) });
  return vc.issue({ credential, suite, documentLoader: contextsOnly });
}

/** `2026-11-22T13:56:10Z`: XML Schema dateTimeStamp without milliseconds, as the OB examples write it. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `months` calendar months after `d` (the 31st of a shorter month becomes its last day). */
export function addMonths(d: Date, months: number): Date {
  const out = new Date(d.getTime());
  const day = out.getUTCDate();
  out.setUTCDate(1);
  out.setUTCMonth(out.getUTCMonth() + months);
  const last = new Date(Date.UTC(out.getUTCFullYear(), out.getUTCMonth() + 1, 0)).getUTCDate();
  out.setUTCDate(Math.min(day, last));
  return out;
}
