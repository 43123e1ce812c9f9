import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { JsonWebKeyLike, Tool } from './store';

/**
 * The platform's RS256 signing keys. Like Canvas, the JWKS publishes the current key and the previous ones,
 * so a tool that cached the old key keeps verifying during a rotation.
 */
export class PlatformKeys {
  private keys: { kid: string; privateKey: crypto.KeyObject; publicJwk: JsonWebKeyLike }[] = [];

  constructor() {
    this.rotate();
  }

  rotate(): string {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `${new Date().toISOString().slice(0, 10)}T${crypto.randomBytes(6).toString('hex')}`;
    const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKeyLike;
    this.keys.unshift({ kid, privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } });
    // Canvas keeps past, present and future keys; three is enough to show rotation.
    this.keys = this.keys.slice(0, 3);
    return kid;
  }

  get current(): { kid: string; privateKey: crypto.KeyObject } {
    return this.keys[0] as { kid: string; privateKey: crypto.KeyObject };
  }

  jwks(): { keys: JsonWebKeyLike[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  sign(payload: Record<string, unknown>): string {
    return jwt.sign(payload, this.current.privateKey, { algorithm: 'RS256', keyid: this.current.kid });
  }
}

export type ToolJwtResult = { ok: true; payload: jwt.JwtPayload } | { ok: false; error: string };

/** Fetch the tool's public keys: its registered JWKS URL (fetched on every use, as Canvas does) or its inline public_jwk. */
export async function toolKeys(tool: Tool): Promise<JsonWebKeyLike[]> {
  if (tool.publicJwk) return Array.isArray((tool.publicJwk as { keys?: unknown }).keys) ? ((tool.publicJwk as unknown as { keys: JsonWebKeyLike[] }).keys) : [tool.publicJwk];
  if (!tool.jwksUrl) return [];
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 5000);
  try {
    const r = await fetch(tool.jwksUrl, { signal: ctrl.signal, headers: { 'User-Agent': 'Canvas-Sandbox/1.0', Accept: 'application/json' } });
    if (!r.ok) throw new Error(`the tool's JWKS URL answered ${r.status}`);
    const body = (await r.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error("the tool's JWKS has no keys array");
    return body.keys as JsonWebKeyLike[];
  } finally {
    clearTimeout(timer);
  }
}

/** Verify an RS256 JWT sent by a tool against the tool's keys (selected by `kid`). */
export async function verifyToolJwt(token: string, tool: Tool): Promise<ToolJwtResult> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') return { ok: false, error: 'the JWT is malformed' };
  if (decoded.header.alg !== 'RS256') return { ok: false, error: `the JWT must be signed with RS256, not ${decoded.header.alg}` };
  let keys: JsonWebKeyLike[];
  try {
    keys = await toolKeys(tool);
  } catch (e) {
    return { ok: false, error: `could not fetch the tool's public keys: ${(e as Error).message}` };
  }
  const kid = decoded.header.kid;
  const candidates = kid ? keys.filter((k) => k.kid === kid) : keys;
  if (candidates.length === 0) return { ok: false, error: kid ? `no key with kid ${kid} in the tool's JWKS` : 'the tool has no public key' };
  for (const k of candidates) {
    try {
      const key = crypto.createPublicKey({ key: k as crypto.JsonWebKey, format: 'jwk' });
      const payload = jwt.verify(token, key, { algorithms: ['RS256'], clockTolerance: 30 });
      if (typeof payload === 'string') return { ok: false, error: 'the JWT payload is not an object' };
      return { ok: true, payload };
    } catch (e) {
      if (candidates.length === 1) return { ok: false, error: `the JWT signature or expiry is invalid (${(e as Error).message})` };
    }
  }
  return { ok: false, error: 'the JWT signature is invalid' };
}

export const randomToken = (bytes = 32): string => crypto.randomBytes(bytes).toString('base64url');
