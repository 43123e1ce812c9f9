import http from 'node:http';
import https from 'node:https';

/**
 * Fails any outgoing request made by issuing or verifying code: `globalThis.fetch`, `http(s).request` and
 * `http(s).get` throw and are recorded. `allow` lets a test route chosen URLs (e.g. its own loopback app).
 */
export interface NetworkGuard {
  attempts: string[];
  /** The real fetch, for the test's own calls to its loopback server. */
  realFetch: typeof fetch;
  allow(fn: (url: string, init?: RequestInit) => Promise<Response> | undefined): void;
  restore(): void;
}

export function blockNetwork(): NetworkGuard {
  const attempts: string[] = [];
  const realFetch = globalThis.fetch;
  const saved = [http, https].map((m) => ({ m, request: m.request, get: m.get }));
  let router: ((url: string, init?: RequestInit) => Promise<Response> | undefined) | undefined;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const routed = router?.(url, init);
    if (routed) return routed;
    attempts.push(url);
    throw new TypeError(`network blocked in tests: ${url}`);
  }) as typeof fetch;
  for (const { m } of saved) {
    const block = (...args: unknown[]): never => {
      const a = args[0];
      const url = typeof a === 'string' ? a : a instanceof URL ? a.href : JSON.stringify((a as { host?: string })?.host ?? a);
      attempts.push(`node:http ${url}`);
      throw new Error(`network blocked in tests: ${url}`);
    };
    m.request = block as typeof m.request;
    m.get = block as typeof m.get;
  }
  return {
    attempts,
    realFetch,
    allow(fn) {
      router = fn;
    },
    restore() {
      globalThis.fetch = realFetch;
      for (const s of saved) {
        s.m.request = s.request;
        s.m.get = s.get;
      }
    },
  };
}
