import crypto from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { USER_AGENT } from '../canvas/userAgent';

/**
 * LTI Assignment and Grade Services, as the award passback needs it: find the credential's line item, post a
 * score. Our own client-credentials token (an RS256 assertion signed with the tool's key for the platform, as
 * ltijs would sign it) rather than `lti.Grade`, because the passback must be able to drop a token Canvas refused
 * (401), time out a request that hangs, and choose the score's `timestamp` (ltijs always overwrites it with now,
 * and Canvas refuses a timestamp earlier than the result's last one).
 */

export const AGS = {
  lineitemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;
const CONTAINER = 'application/vnd.ims.lis.v2.lineitemcontainer+json';
const SCORE = 'application/vnd.ims.lis.v1.score+json';

/** What a client-credentials grant needs to know about a platform registration (ltijs keeps it). */
export interface AgsPlatform {
  issuer: string;
  clientId: string;
  kid: string;
  tokenEndpoint: string;
  /** The assertion's `aud`: the authorization server, else the token endpoint. */
  audience: string;
  privateKeyPem: string;
}

export interface LineItem { id: string; scoreMaximum: number; label: string; resourceId?: string; tag?: string }

export interface Score {
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  comment?: string;
  activityProgress: 'Completed';
  gradingProgress: 'FullyGraded';
  'https://canvas.instructure.com/lti/submission'?: { new_submission: boolean };
}

/** An AGS call failed. `transient`: worth trying again later (5xx, timeout, network, throttling). */
export class AgsError extends Error {
  constructor(message: string, readonly status: number | null, readonly transient: boolean) {
    super(message);
    this.name = 'AgsError';
  }
}

export interface AgsOptions {
  timeoutMs: number;
  /** Tries per call beyond the first, for transient failures, a refused token, or a timestamp Canvas refused. */
  retries: number;
  backoffMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class AgsClient {
  private readonly http: AxiosInstance;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** The last score timestamp sent per (line item, user): every score must come after the previous one. */
  private readonly lastTimestamp = new Map<string, number>();
  /** Line items found by (container, resourceId), for a few minutes: every award of a credential in a course uses the same one. */
  private readonly lineItems = new Map<string, { item: LineItem; at: number }>();

  constructor(readonly options: AgsOptions) {
    this.http = axios.create({ validateStatus: () => true, transformResponse: [(d: unknown) => d], maxRedirects: 0, headers: { 'User-Agent': USER_AGENT } });
  }

  /** Line items of the course container whose resourceId is this (deep linking tagged them with the credential id). */
  async findLineItem(p: AgsPlatform, lineitemsUrl: string, resourceId: string): Promise<LineItem | undefined> {
    const key = `${p.issuer}|${p.clientId}|${lineitemsUrl}|${resourceId}`;
    const hit = this.lineItems.get(key);
    if (hit && Date.now() - hit.at < 5 * 60_000) return hit.item;
    const found = await this.lookUpLineItem(p, lineitemsUrl, resourceId);
    if (found) this.lineItems.set(key, { item: found, at: Date.now() });
    return found;
  }

  /** Forgets a line item Canvas no longer has (a 404 on its scores). */
  forgetLineItem(lineItemUrl: string): void {
    for (const [k, v] of this.lineItems) if (v.item.id === lineItemUrl) this.lineItems.delete(k);
  }

  private async lookUpLineItem(p: AgsPlatform, lineitemsUrl: string, resourceId: string): Promise<LineItem | undefined> {
    let url: string | undefined = withQuery(lineitemsUrl, { resource_id: resourceId, limit: '100' });
    for (let page = 0; url && page < 20; page++) {
      const res = await this.request(p, [AGS.lineitemReadonly, AGS.score], { method: 'GET', url, headers: { Accept: CONTAINER } });
      const items = parseJson<LineItem[]>(res.text, 'line items');
      const hit = items.find((li) => li.resourceId === resourceId);
      if (hit) return hit;
      url = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(res.link ?? '')?.[1];
    }
    return undefined;
  }

  /**
   * Posts a score. The timestamp is now, and always after the last one sent for this line item and user; when
   * Canvas still finds it too early (another instance, a clock behind Canvas's) it is moved past Canvas's own and
   * sent again.
   */
  async submitScore(p: AgsPlatform, lineItemUrl: string, score: Score): Promise<{ timestamp: string }> {
    const key = `${lineItemUrl}|${score.userId}`;
    let floor = this.lastTimestamp.get(key) ?? 0;
    for (let attempt = 0; ; attempt++) {
      const ts = Math.max(Date.now(), floor + 1);
      const timestamp = new Date(ts).toISOString();
      try {
        await this.request(p, [AGS.lineitemReadonly, AGS.score], { method: 'POST', url: scoresUrl(lineItemUrl), headers: { 'Content-Type': SCORE, Accept: 'application/json' }, data: JSON.stringify({ ...score, timestamp }) });
        this.lastTimestamp.set(key, ts);
        return { timestamp };
      } catch (err) {
        if (err instanceof AgsError && err.status === 404) this.forgetLineItem(lineItemUrl);
        const canvasTs = err instanceof AgsError ? timestampConflict(err) : undefined;
        if (canvasTs === undefined || attempt >= this.options.retries) throw err;
        floor = Math.max(ts, canvasTs);
      }
    }
  }

  private async request(p: AgsPlatform, scopes: string[], req: { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; data?: string }): Promise<{ text: string; link?: string }> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(p, scopes);
      let status: number;
      let text: string;
      let link: string | undefined;
      try {
        const res = await this.http.request({ ...req, timeout: this.options.timeoutMs, headers: { ...req.headers, Authorization: `Bearer ${token}` } });
        status = res.status;
        text = typeof res.data === 'string' ? res.data : String(res.data ?? '');
        link = res.headers.link as string | undefined;
      } catch (err) {
        // No answer at all (timeout, refused, reset) is always worth another try.
        const code = (err as { code?: string }).code ?? '';
        const e = new AgsError(`Canvas did not answer (${code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? `no answer within ${this.options.timeoutMs} ms` : code || (err as Error).message}).`, null, true);
        if (attempt >= this.options.retries) throw e;
        await this.pause(attempt);
        continue;
      }
      if (status >= 200 && status < 300) return { text, link };
      if (status === 401 && !refreshed) {
        // The token was revoked or expired early: forget it and ask for a new one, once.
        this.forget(p, scopes);
        refreshed = true;
        attempt--;
        continue;
      }
      const transient = status >= 500 || status === 429 || (status === 403 && /rate limit/i.test(text));
      const error = new AgsError(`Canvas answered ${status}: ${messageOf(text)}`, status, transient);
      if (!transient || attempt >= this.options.retries) throw error;
      await this.pause(attempt);
    }
  }

  private async pause(attempt: number): Promise<void> {
    // Full jitter: up to base × 2^attempt.
    await sleep(Math.random() * this.options.backoffMs * 2 ** attempt);
  }

  private forget(p: AgsPlatform, scopes: string[]): void {
    this.tokens.delete(tokenKey(p, scopes));
  }

  /** A client-credentials access token for these scopes (cached until a minute before it expires). */
  async token(p: AgsPlatform, scopes: string[]): Promise<string> {
    const key = tokenKey(p, scopes);
    const hit = this.tokens.get(key);
    if (hit && hit.expiresAt > Date.now() + 60_000) return hit.token;
    const now = Math.floor(Date.now() / 1000);
    const assertion = signJwt({ alg: 'RS256', typ: 'JWT', kid: p.kid }, { iss: p.clientId, sub: p.clientId, aud: p.audience, iat: now, exp: now + 300, jti: crypto.randomUUID() }, p.privateKeyPem);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: scopes.join(' '),
    });
    let res;
    try {
      res = await this.http.post(p.tokenEndpoint, form.toString(), { timeout: this.options.timeoutMs, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' } });
    } catch (err) {
      throw new AgsError(`Canvas's token endpoint did not answer (${(err as { code?: string }).code ?? (err as Error).message}).`, null, true);
    }
    if (res.status !== 200) throw new AgsError(`Canvas refused microcred's grade token (${res.status}: ${messageOf(String(res.data))}). Check that the developer key has the AGS scopes.`, res.status, res.status >= 500);
    const body = parseJson<{ access_token?: string; expires_in?: number }>(String(res.data), 'token');
    if (!body.access_token) throw new AgsError('Canvas sent no access token.', res.status, true);
    this.tokens.set(key, { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 });
    return body.access_token;
  }
}

function tokenKey(p: AgsPlatform, scopes: string[]): string {
  return `${p.issuer}|${p.clientId}|${[...scopes].sort().join(' ')}`;
}

function b64url(v: Buffer | string): string {
  return Buffer.from(v).toString('base64url');
}

function signJwt(header: object, payload: object, pem: string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = crypto.sign('RSA-SHA256', Buffer.from(input), crypto.createPrivateKey(pem));
  return `${input}.${b64url(sig)}`;
}

function withQuery(url: string, q: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return u.toString();
}

/** `…/line_items/7` → `…/line_items/7/scores`, keeping a query string where it belongs. */
export function scoresUrl(lineItemUrl: string): string {
  const u = new URL(lineItemUrl);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/scores`;
  return u.toString();
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AgsError(`Canvas sent ${what} that are not JSON.`, null, true);
  }
}

function messageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { errors?: { message?: string } | { message?: string }[]; error?: string; error_description?: string };
    const e = Array.isArray(j.errors) ? j.errors[0]?.message : j.errors?.message;
    return (e ?? j.error_description ?? j.error ?? text).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

/**
 * Canvas refuses a score whose timestamp is before the result's last update: 400 "Provided timestamp of … before
 * last updated timestamp of …" (422/412 from proxies or other platforms). Answers Canvas's timestamp (ms) when the
 * error is that one, 0 when it is but names no time, undefined otherwise.
 */
export function timestampConflict(err: AgsError): number | undefined {
  if (err.status === null || ![400, 409, 412, 422].includes(err.status) || !/timestamp/i.test(err.message)) return undefined;
  const m = /last updated timestamp of ([0-9T:.+\-Z ]+)/i.exec(err.message);
  const t = m ? Date.parse(m[1]!.trim()) : NaN;
  return Number.isNaN(t) ? 0 : t;
}
