import crypto, { type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import axios from 'axios';
import { USER_AGENT } from '../canvas/userAgent';

export type AuthConfig = { method: 'JWK_SET' | 'JWK_KEY' | 'RSA_KEY'; key: string | Record<string, unknown> };

/**
 * Resolves the platform's signing key for a kid. JWK sets are cached (ltijs 5.9 fetches the set on every
 * launch), refreshed after `ttlMs`, and re-fetched at once when an unknown kid appears (key rotation) —
 * at most once per `minRefetchMs`, so a flood of forged kids cannot make us hammer Canvas.
 */
export class PlatformKeys {
  private readonly sets = new Map<string, { keys: Map<string, KeyObject>; body?: { keys: unknown[] }; fetchedAt: number; pending?: Promise<void> }>();

  constructor(private readonly opts: { ttlMs?: number; minRefetchMs?: number; timeoutMs?: number } = {}) {}

  async keyFor(auth: AuthConfig, kid: string | undefined): Promise<KeyObject> {
    switch (auth.method) {
      case 'RSA_KEY':
        return crypto.createPublicKey(String(auth.key));
      case 'JWK_KEY': {
        const jwk = typeof auth.key === 'string' ? (JSON.parse(auth.key) as crypto.JsonWebKey) : (auth.key as crypto.JsonWebKey);
        return crypto.createPublicKey({ key: jwk, format: 'jwk' });
      }
      case 'JWK_SET':
        if (!kid) throw new KeyError('The id_token has no key id (kid).');
        return this.fromSet(String(auth.key), kid);
      default:
        throw new KeyError('The platform has no key configuration.');
    }
  }

  /**
   * The key set at `url` as last fetched, while it is fresh (younger than the TTL), else undefined. ltijs verifies
   * each launch again after launchGuard, which has just made sure this set is fresh and holds the token's kid:
   * ltijs gets it from here instead of fetching it again (see `serveLtijsKeySets`).
   */
  cachedSet(url: string): { keys: unknown[] } | undefined {
    const entry = this.sets.get(url);
    if (!entry?.body || Date.now() - entry.fetchedAt > (this.opts.ttlMs ?? 5 * 60_000)) return undefined;
    return structuredClone(entry.body);
  }

  private async fromSet(url: string, kid: string): Promise<KeyObject> {
    const ttl = this.opts.ttlMs ?? 5 * 60_000;
    const minRefetch = this.opts.minRefetchMs ?? 10_000;
    let entry = this.sets.get(url);
    const age = entry ? Date.now() - entry.fetchedAt : Infinity;
    if (!entry || age > ttl || (!entry.keys.has(kid) && age > minRefetch)) {
      await this.refresh(url);
      entry = this.sets.get(url);
    }
    const key = entry?.keys.get(kid);
    if (!key) throw new KeyError(`The platform's key set has no key ${JSON.stringify(kid).slice(0, 80)}.`);
    return key;
  }

  private async refresh(url: string): Promise<void> {
    const existing = this.sets.get(url);
    if (existing?.pending) return existing.pending;
    const pending = (async () => {
      const res = await axios.get<{ keys?: unknown }>(url, { timeout: this.opts.timeoutMs ?? 5000, headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' } });
      const keys = new Map<string, KeyObject>();
      const body = { keys: Array.isArray(res.data.keys) ? (res.data.keys as unknown[]) : [] };
      for (const jwk of body.keys) {
        const j = jwk as crypto.JsonWebKey & { kid?: string; use?: string };
        if (!j.kid || j.kty !== 'RSA' || (j.use && j.use !== 'sig')) continue;
        try {
          keys.set(j.kid, crypto.createPublicKey({ key: j, format: 'jwk' }));
        } catch {
          // A malformed key in the set must not hide the good ones.
        }
      }
      this.sets.set(url, { keys, body, fetchedAt: Date.now() });
    })();
    this.sets.set(url, { keys: existing?.keys ?? new Map(), body: existing?.body, fetchedAt: existing?.fetchedAt ?? 0, pending });
    try {
      await pending;
    } catch (err) {
      const e = this.sets.get(url);
      if (e) delete e.pending;
      throw new KeyError(`Could not fetch the platform's keys from ${url}: ${(err as Error).message}`);
    }
  }
}

export class KeyError extends Error {}

type HttpGet = (url: unknown, options?: unknown) => unknown;
const servingLtijs = new Set<PlatformKeys>();
const ORIGINAL = Symbol('ltijs http get');

/**
 * ltijs 5.9 fetches the platform's JWKS over HTTP on every launch (`got.get(keysEndpoint).json()` in
 * ltijs/dist/Utils/Auth.js), after launchGuard has already verified the token with the cached set. This answers
 * that one call from the cache: a bare `get(url)` (no options: the NRPS and AGS calls always pass some) for a URL
 * whose set is cached and fresh returns that set; anything else goes to ltijs's HTTP client as before. ltijs
 * still finds the kid and verifies the signature itself. Returns the function that stops serving from `keys`.
 */
export function serveLtijsKeySets(keys: PlatformKeys): () => void {
  const http = createRequire(__filename)('ltijs/dist/Utils/Http') as { get: HttpGet; [ORIGINAL]?: HttpGet };
  if (!http[ORIGINAL]) {
    const original = http.get;
    http[ORIGINAL] = original;
    http.get = function (url: unknown, options?: unknown) {
      if (typeof url === 'string' && options === undefined) {
        for (const k of servingLtijs) {
          const set = k.cachedSet(url);
          if (set) return { json: () => Promise.resolve(set) };
        }
      }
      return original.call(http, url, options);
    };
  }
  servingLtijs.add(keys);
  return () => void servingLtijs.delete(keys);
}
