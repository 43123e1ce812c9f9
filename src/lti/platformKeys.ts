import crypto, { type KeyObject } from 'node:crypto';
import axios from 'axios';
import { USER_AGENT } from '../canvas/userAgent';

export type AuthConfig = { method: 'JWK_SET' | 'JWK_KEY' | 'RSA_KEY'; key: string | Record<string, unknown> };

/**
 * Resolves the platform's signing key for a kid. JWK sets are cached (ltijs 5.9 fetches the set on every
 * launch), refreshed after `ttlMs`, and re-fetched at once when an unknown kid appears (key rotation) —
 * at most once per `minRefetchMs`, so a flood of forged kids cannot make us hammer Canvas.
 */
export class PlatformKeys {
  private readonly sets = new Map<string, { keys: Map<string, KeyObject>; fetchedAt: number; pending?: Promise<void> }>();

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
      for (const jwk of Array.isArray(res.data.keys) ? res.data.keys : []) {
        const j = jwk as crypto.JsonWebKey & { kid?: string; use?: string };
        if (!j.kid || j.kty !== 'RSA' || (j.use && j.use !== 'sig')) continue;
        try {
          keys.set(j.kid, crypto.createPublicKey({ key: j, format: 'jwk' }));
        } catch {
          // A malformed key in the set must not hide the good ones.
        }
      }
      this.sets.set(url, { keys, fetchedAt: Date.now() });
    })();
    this.sets.set(url, { keys: existing?.keys ?? new Map(), fetchedAt: existing?.fetchedAt ?? 0, pending });
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
