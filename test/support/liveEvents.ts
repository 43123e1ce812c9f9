/**
 * Canvas Live Events for tests: the sandbox emits events in-process (without Canvas's envelope or signature);
 * this signs them as Canvas's HTTPS delivery does (RS256 JWT, kid from a JWKS we serve) and posts them.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';

export const SHARD = 10_000_000_000_000n;
/** A Canvas global id (shard 2107): what metadata and most bodies carry. */
export const globalId = (local: number | string): string => String(2107n * SHARD + BigInt(local));

export interface EventSigner {
  jwksUrl: string;
  kid: string;
  sign(payload: object, o?: { kid?: string; key?: crypto.KeyObject }): string;
  close(): Promise<void>;
}

export async function startEventSigner(): Promise<EventSigner> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${crypto.randomBytes(4).toString('hex')}`;
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    kid,
    sign: (payload, o = {}) => jwt.sign(payload, o.key ?? privateKey, { algorithm: 'RS256', keyid: o.kid ?? kid }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The sandbox's event as Canvas would deliver it: `{metadata, body}` with global ids. */
export function canvasEnvelope(name: string, payload: Record<string, unknown>, o: { courseId: number | string; rootAccountId?: number; eventId?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = { ...payload };
  if (name !== 'course_progress') {
    for (const k of ['user_id', 'student_id', 'assignment_id', 'submission_id', 'grader_id']) {
      if (typeof body[k] === 'number') body[k] = globalId(body[k] as number);
    }
  }
  const userId = name === 'course_progress' ? (payload.user as { id: number }).id : ((payload.user_id ?? payload.student_id) as number);
  return {
    metadata: {
      event_name: name, event_time: new Date().toISOString(), ...(o.eventId ? { event_id: o.eventId } : {}), producer: 'canvas', root_account_id: globalId(o.rootAccountId ?? 1),
      context_type: 'Course', context_id: globalId(o.courseId), user_id: globalId(userId), request_id: crypto.randomUUID(),
    },
    body,
  };
}

export async function postEvent(url: string, jwtText: string, form: 'jwt' | 'json' = 'jwt'): Promise<Response> {
  return form === 'jwt'
    ? fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/jwt' }, body: jwtText })
    : fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jwt: jwtText }) });
}
