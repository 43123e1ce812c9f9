/**
 * Throttle awareness (canvas-lti.md §3.8). Canvas charges each request an up-front cost (50) while it runs and
 * refuses new ones once a token's bucket reaches the high-water mark (600), so ~12 cheap requests in flight
 * can trip it. This limiter caps in-flight requests per token and adapts to `X-Rate-Limit-Remaining`:
 * start at 4, shrink fast when the remaining allowance is low (to 1 on a throttle), grow back by one after a
 * run of comfortable answers, never above `max`. When the remaining allowance cannot cover another up-front
 * charge it pauses for as long as Canvas's default outflow (10 units/s) needs to make room.
 */
export interface LimiterOptions {
  initial?: number;
  min?: number;
  max?: number;
  /** Below this remaining allowance, shrink (default 200 = four up-front charges). */
  lowWater?: number;
  /** Above this, a response counts towards growing (default 400). */
  highWater?: number;
  /** Canvas's up-front cost per request (default 50). */
  upFrontCost?: number;
  /** Bucket outflow per second used to size pauses (Canvas default 10). */
  outflowPerSecond?: number;
  /** Upper bound of one pause (default 5 s). */
  maxPauseMs?: number;
}

export interface LimiterStats { limit: number; inFlight: number; queued: number; peakInFlight: number; shrinks: number; pauses: number }

export class ConcurrencyLimiter {
  private readonly o: Required<LimiterOptions>;
  private currentLimit: number;
  private active = 0;
  private goodRun = 0;
  private pauseUntil = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly stats = { peakInFlight: 0, shrinks: 0, pauses: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: LimiterOptions = {}) {
    this.o = { initial: 4, min: 1, max: 10, lowWater: 200, highWater: 400, upFrontCost: 50, outflowPerSecond: 10, maxPauseMs: 5000, ...opts };
    this.currentLimit = Math.min(this.o.max, Math.max(this.o.min, this.o.initial));
  }

  get limit(): number {
    return this.currentLimit;
  }

  snapshot(): LimiterStats {
    return { limit: this.currentLimit, inFlight: this.active, queued: this.waiting.length, ...this.stats };
  }

  /** Waits for a slot; call the returned function exactly once when the request is over. */
  async acquire(): Promise<() => void> {
    while (!this.canStart()) await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
    this.active += 1;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.wake();
    };
  }

  /** Feed every response's `X-Rate-Limit-Remaining` (undefined when absent). */
  observe(remaining: number | undefined): void {
    if (remaining === undefined || !Number.isFinite(remaining)) return;
    if (remaining < this.o.upFrontCost) {
      // Another request now would be refused: wait for the bucket to leak enough for one up-front charge.
      const ms = Math.min(this.o.maxPauseMs, Math.ceil(((this.o.upFrontCost - remaining) / this.o.outflowPerSecond) * 1000));
      this.pauseUntil = Math.max(this.pauseUntil, Date.now() + ms);
      this.stats.pauses += 1;
    }
    if (remaining < this.o.lowWater) {
      // The allowance left covers the requests still in flight plus floor(remaining / up-front) new ones.
      const others = Math.max(0, this.active - 1);
      const target = Math.max(this.o.min, others + Math.floor(remaining / this.o.upFrontCost));
      if (target < this.currentLimit) {
        this.currentLimit = target;
        this.stats.shrinks += 1;
      }
      this.goodRun = 0;
    } else if (remaining >= this.o.highWater) {
      this.goodRun += 1;
      // Additive increase: one more slot after `limit` comfortable answers in a row.
      if (this.goodRun >= this.currentLimit * 2 && this.currentLimit < this.o.max) {
        this.currentLimit += 1;
        this.goodRun = 0;
      }
    }
    this.wake();
  }

  /** Canvas throttled us anyway: one request at a time, after a pause. */
  throttled(): void {
    this.currentLimit = this.o.min;
    this.goodRun = 0;
    this.stats.shrinks += 1;
    // Canvas admits a request while the bucket is below the mark, so a short leak is enough to get back in.
    this.pauseUntil = Math.max(this.pauseUntil, Date.now() + Math.min(this.o.maxPauseMs, 1000));
  }

  private canStart(): boolean {
    return this.active < this.currentLimit && Date.now() >= this.pauseUntil;
  }

  private wake(): void {
    let free = this.currentLimit - this.active;
    if (Date.now() < this.pauseUntil) free = 0;
    while (free > 0 && this.waiting.length) {
      this.waiting.shift()?.();
      free -= 1;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || !this.waiting.length) return;
    const wait = this.pauseUntil - Date.now();
    if (wait <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, wait);
    this.timer.unref();
  }
}

/** No limit at all (benchmarks, and tests that prove the throttle retry works without the limiter). */
export class UnlimitedLimiter extends ConcurrencyLimiter {
  constructor() {
    super({ initial: Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, min: Number.MAX_SAFE_INTEGER });
  }
  override observe(): void {}
  override throttled(): void {}
}

/** Full-jitter exponential backoff (AWS architecture blog): a random delay in [0, min(cap, base·2^attempt)]. */
export function fullJitter(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
