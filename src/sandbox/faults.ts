import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { sleep } from './http';

/**
 * Fault injection for any route: answer with a status/body, send malformed JSON, add delay, or hold the socket
 * open (a timeout). `times` limits how often a fault fires (default: until `clear()`).
 */
export interface Fault {
  method?: string; path: RegExp | string; status?: number; body?: string; times?: number; delayMs?: number; malformed?: boolean; timeout?: boolean;
}

export class Faults {
  private list: { f: Fault; left: number }[] = [];
  /** Sockets held open by `timeout` faults, released by `clear()` or when the server closes. */
  readonly held = new Set<Socket>();

  add(f: Fault): void {
    this.list.push({ f, left: f.times ?? Number.POSITIVE_INFINITY });
  }
  clear(): void {
    this.list = [];
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  private match(req: Request): Fault | undefined {
    const hit = this.list.find(({ f, left }) => left > 0 && (!f.method || f.method.toUpperCase() === req.method) && (typeof f.path === 'string' ? f.path === req.path : f.path.test(req.path)));
    if (!hit) return undefined;
    hit.left -= 1;
    return hit.f;
  }

  middleware() {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const f = this.match(req);
      if (!f) return next();
      res.locals.faulted = true;
      if (f.delayMs) await sleep(f.delayMs);
      if (f.timeout) {
        const sock = req.socket;
        this.held.add(sock);
        sock.once('close', () => this.held.delete(sock));
        return; // never answer
      }
      if (f.malformed) {
        res.status(f.status ?? 200).type('application/json').send(f.body ?? '{"id": 1, "name": "trunc');
        return;
      }
      if (f.status !== undefined) {
        const body = f.body ?? JSON.stringify({ errors: [{ message: `Injected fault ${f.status}` }] });
        res.status(f.status).type(body.trimStart().startsWith('{') || body.trimStart().startsWith('[') ? 'application/json' : 'text/plain').send(body);
        return;
      }
      next();
    };
  }
}
