import type { Request } from 'express';
import { z } from 'zod';
import type { SessionContext } from '../lti/sessions';
import { defineRoutes, type SessionRoute } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { InvalidInputError, NotFoundError } from '../web/errors';
import { longDate } from '../portfolio/cycles';
import { toCsv } from './csv';
import { parseDateRange } from './dateRange';
import { REPORT_NAMES, ReportService, scopeOf } from './service';
import type { Orm } from '../db/database';

/** The reports page, its JSON, and one CSV per report. The period comes from `from`/`to` (YYYY-MM-DD). */

const RangeQuery = z.object({
  from: z.string().optional().meta({ description: 'First day, YYYY-MM-DD (default: the first day of the current renewal cycle)' }),
  to: z.string().optional().meta({ description: 'Last day, YYYY-MM-DD, included (default: today)' }),
});

export function reportRoutes(deps: { orm: Orm }): SessionRoute[] {
  const reports = new ReportService(deps.orm);
  const read = async (ctx: SessionContext, req: Request) => {
    const scope = scopeOf(ctx);
    const range = parseDateRange(req.query as Record<string, unknown>, await reports.defaultRange(ctx.tenant.id));
    return { scope, range };
  };
  describeApi([
    { method: 'get', path: '/api/reports', tag: 'reports', summary: 'Every report over a period: CEUs per educator, awards per credential and per school, time to award (median, 90th percentile), not-yet rate per criterion', description: 'Admins and recognizers: the district. Course designers: their course. A bad date is a 400 naming the field.', query: RangeQuery },
    { method: 'get', path: '/reports/:report.csv', tag: 'reports', summary: `One report as CSV (report: ${REPORT_NAMES.join(', ')}); text cells starting with = + - @ get a leading apostrophe`, query: RangeQuery, response: { description: 'CSV (RFC 4180, UTF-8 with a byte order mark)', contentType: 'text/csv' } },
  ]);
  return defineRoutes([
    {
      method: 'get', path: '/reports', action: 'reports.view',
      handler: async (ctx, req, res) => {
        const page = { title: 'Reports', longDate, stylesheets: ['/assets/css/portfolio.css'] };
        let read1: Awaited<ReturnType<typeof read>>;
        try {
          read1 = await read(ctx, req);
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          // The page again with what was typed and what is wrong, as a 400 (a report needs valid dates).
          const q = req.query as Record<string, unknown>;
          res.status(400).render('reports/index', { ...page, errors: err.fields, input: { from: typeof q.from === 'string' ? q.from : '', to: typeof q.to === 'string' ? q.to : '' }, report: null });
          return;
        }
        const { scope, range } = read1;
        const report = await reports.all(scope, range, ctx.course?.title ?? null);
        const qs = new URLSearchParams({ from: range.from, to: range.to }).toString();
        res.render('reports/index', { ...page, errors: undefined, input: range, report, qs });
      },
    },
    {
      method: 'get', path: '/api/reports', action: 'reports.view', kind: 'api',
      handler: async (ctx, req, res) => {
        const { scope, range } = await read(ctx, req);
        res.json(await reports.all(scope, range, ctx.course?.title ?? null));
      },
    },
    {
      method: 'get', path: '/reports/:report.csv', action: 'reports.view', kind: 'api',
      handler: async (ctx, req, res) => {
        const name = String((req.params as Record<string, string>).report ?? '');
        if (!(REPORT_NAMES as readonly string[]).includes(name)) throw new NotFoundError('report');
        const { scope, range } = await read(ctx, req);
        const { header, rows } = await reports.csv(name, scope, range);
        res.attachment(`microcred-${name}-${range.from}-to-${range.to}.csv`);
        res.type('text/csv; charset=utf-8').send(toCsv(header, rows));
      },
    },
  ]);
}
