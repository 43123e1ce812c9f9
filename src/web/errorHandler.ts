import type { Express, NextFunction, Request, Response } from 'express';
import { logger } from '../log';
import { AppError, InvalidInputError, NotFoundError, PayloadTooLargeError } from './errors';

interface ErrorView {
  status: number;
  title: string;
  message: string;
  hint?: string;
  code: string;
  fields?: Record<string, string>;
}

/** Maps any error to what a person should see. Unknown errors are logged with the request id and shown as 500. */
export function toErrorView(err: unknown, log = logger): ErrorView {
  const e = normalise(err);
  if (e instanceof AppError) {
    return { status: e.status, title: e.options.title ?? 'Something went wrong', message: e.message, hint: e.options.hint, code: e.code, fields: e instanceof InvalidInputError ? e.fields : undefined };
  }
  log.error({ err: e }, 'unhandled error');
  return { status: 500, title: 'Something went wrong on our side', message: 'microcred could not finish this request. Nothing you entered was lost.', hint: 'Try again in a moment.', code: 'internal' };
}

/** body-parser and friends throw errors with a status; give them our types and words. */
function normalise(err: unknown): unknown {
  const e = err as { type?: string; status?: number; statusCode?: number } | undefined;
  if (e?.type === 'entity.too.large') return new PayloadTooLargeError('What you sent is larger than microcred accepts.');
  if (e?.type === 'entity.parse.failed') return new InvalidInputError('What you sent could not be read (malformed body).');
  if (e?.type === 'parameters.too.many') return new InvalidInputError('Too many form fields.');
  if (e?.status === 404 || e?.statusCode === 404) return new NotFoundError();
  return err;
}

export function wantsJson(req: Request): boolean {
  return req.path.includes('/api/') || req.path.endsWith('.json') || (!!req.get('accept')?.includes('application/json') && !req.get('accept')?.includes('text/html'));
}

/** Renders an error with the host app's views, also from inside ltijs's Express 4 app. */
export function sendError(app: Express, req: Request, res: Response, err: unknown): void {
  const log = (res.locals.log as typeof logger | undefined) ?? logger;
  const view = toErrorView(err, log);
  if (view.status < 500) log.info({ status: view.status, code: view.code }, view.message);
  if (res.headersSent) return;
  res.status(view.status);
  res.set('Cache-Control', 'no-store');
  if (wantsJson(req)) {
    res.json({ error: { code: view.code, message: view.message, hint: view.hint, fields: view.fields } });
    return;
  }
  const locals = { ...res.locals, ...view, title: view.title, session: undefined, nav: [], flash: [], url: (p: string) => p, csrfToken: '', requestId: res.locals.requestId };
  app.render('error', locals, (renderErr, html) => {
    if (renderErr) {
      log.error({ err: renderErr }, 'error page failed to render');
      res.type('text/plain').send(`${view.title}\n\n${view.message}`);
      return;
    }
    res.type('html').send(html);
  });
}

export function errorHandler(app: Express) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(app, req, res, err);
}

export function notFound() {
  return (_req: Request, _res: Response, next: NextFunction) => next(new NotFoundError());
}
