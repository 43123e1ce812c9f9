import { verifyCredential } from '@digitalcredentials/verifier-core';
import { bundledContexts, CLR2_CONTEXT } from '../../src/badges/contexts';
import type { NetworkGuard } from './support';

/**
 * The DCC verifier (`@digitalcredentials/verifier-core`, behind the Learner Credential Wallet): another code
 * lineage than our signer (its own VC, JSON-LD and canonicalization forks). Its document loader cannot be
 * injected, so the test routes its `fetch` calls: `https://<our host>/…` (did:web documents, status lists) to
 * `serve`, the CLR context (which DCC does not bundle) to our vendored copy, and everything else is refused.
 */
export function routeDccFetch(guard: NetworkGuard, host: string, serve: (url: URL) => Promise<Response>): void {
  guard.allow((url) => {
    if (url === CLR2_CONTEXT) return Promise.resolve(Response.json(bundledContexts().get(CLR2_CONTEXT)));
    // DCC's optional JSON Schema check fetches 1EdTech's schema, which is not available offline: answer 404 (it
    // reports INVALID_SCHEMA as additional information, not as a failed check).
    if (url.startsWith('https://purl.imsglobal.org/spec/ob/v3p0/schema/')) return Promise.resolve(new Response('offline', { status: 404 }));
    const u = new URL(url);
    if ((u.protocol === 'https:' || u.protocol === 'http:') && u.host === host) return serve(u);
    return undefined;
  });
}

export interface DccResult {
  /** check id → passed (valid_signature, expiration, revocation_status, registered_issuer) */
  log: Record<string, boolean | undefined>;
  /** fatal errors (e.g. invalid_signature), when the verifier stopped early */
  fatal: string[];
}

export async function dccVerify(credential: object): Promise<DccResult> {
  // verifier-core logs its (expected, offline) schema fetch failure to the console: keep test output readable.
  const saved = { log: console.log, error: console.error };
  console.log = console.error = () => undefined;
  const r = (await verifyCredential({ credential: credential as never, knownDIDRegistries: [] }).finally(() => Object.assign(console, saved))) as unknown as {
    log?: { id: string; valid?: boolean }[];
    errors?: { name: string; message: string }[];
  };
  return { log: Object.fromEntries((r.log ?? []).map((l) => [l.id, l.valid])), fatal: (r.errors ?? []).map((e) => e.name) };
}
