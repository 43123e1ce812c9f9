import type { NextFunction, Request, Response } from 'express';
import type { SandboxContext } from './context';

/**
 * Canvas's request throttle (doc/api/throttling.md, app/middleware/request_throttle.rb): a leaky bucket per
 * client. A request is refused when the bucket is at the high-water mark; otherwise it is charged
 * `upFrontCost` while in flight, and on completion the up-front charge is replaced by its real cost.
 */
export interface ThrottleOptions {
  /** Bucket "full" level (Canvas default 600). */
  hwm?: number;
  /** Units that leak out per second (Canvas default 10). */
  outflow?: number;
  /** Charged when a request starts and refunded when it ends (Canvas default 50). */
  upFrontCost?: number;
  /** The real cost of a request (Canvas: CPU + DB seconds); default 1, or a function of the request. */
  cost?: number | ((req: Request) => number);
}

interface Bucket { count: number; at: number }

export class Throttle {
  enabled = false;
  private o: Required<Omit<ThrottleOptions, 'cost'>> & { cost: ThrottleOptions['cost'] } = { hwm: 600, outflow: 10, upFrontCost: 50, cost: 1 };
  private buckets = new Map<string, Bucket>();

  set(on: boolean | ThrottleOptions): void {
    this.enabled = on !== false;
    if (typeof on === 'object') this.o = { ...this.o, ...on };
    this.buckets.clear();
  }

  private leak(key: string): Bucket {
    const now = Date.now();
    const b = this.buckets.get(key) ?? { count: 0, at: now };
    b.count = Math.max(0, b.count - ((now - b.at) / 1000) * this.o.outflow);
    b.at = now;
    this.buckets.set(key, b);
    return b;
  }

  /** The client identifier, in Canvas's order: LTI Advantage key, access token, then IP. */
  private clientKey(ctx: SandboxContext, req: Request): string {
    const t = ctx.tokenOf(req);
    if (t?.kind === 'lti') return `lti_advantage:${t.clientId}`;
    if (t) return `token:${t.token}`;
    return `ip:${req.ip ?? 'unknown'}`;
  }

  middleware(ctx: SandboxContext) {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.enabled || !req.path.startsWith('/api/')) return next();
      const key = this.clientKey(ctx, req);
      const bucket = this.leak(key);
      if (bucket.count >= this.o.hwm) {
        res.locals.throttled = true;
        res.status(403).set('X-Rate-Limit-Remaining', '0.0').type('text/plain').send('403 Forbidden (Rate Limit Exceeded)');
        return;
      }
      bucket.count += this.o.upFrontCost;
      const cost = typeof this.o.cost === 'function' ? this.o.cost(req) : (this.o.cost ?? 1);
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        const b = this.leak(key);
        b.count = Math.max(0, b.count - this.o.upFrontCost + cost);
      };
      // Headers must be set before they are written, so the bucket is settled when the response starts.
      const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => Response;
      (res as unknown as { writeHead: (...a: unknown[]) => Response }).writeHead = (...args: unknown[]): Response => {
        settle();
        const b = this.leak(key);
        if (!res.headersSent) {
          res.setHeader('X-Request-Cost', cost.toFixed(4));
          res.setHeader('X-Rate-Limit-Remaining', Math.max(0, this.o.hwm - b.count).toFixed(4));
        }
        return writeHead(...args);
      };
      res.on('close', settle);
      next();
    };
  }
}
