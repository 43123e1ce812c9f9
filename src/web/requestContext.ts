import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { logger, redactUrl } from '../log';

/** A request id on every request (honouring a proxy's X-Request-Id), a child logger, and one access log line. */
export function requestContext() {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    const id = incoming && /^[A-Za-z0-9._-]{8,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    res.locals.log = logger.child({ requestId: id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const session = res.locals.ctx as { tenant?: { id: string }; user?: { id: string } } | undefined;
      const line = { method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10, tenant: session?.tenant?.id, user: session?.user?.id };
      if (res.statusCode >= 500) res.locals.log.error(line, 'request');
      else res.locals.log.info(line, 'request');
    });
    next();
  };
}
