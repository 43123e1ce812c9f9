import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { canvasAuthorizationErrors } from '../../src/canvas/routes';
import { CanvasAuthorizationRequired } from '../../src/canvas/errors';
import type { CanvasAccess } from '../../src/canvas/access';
import type { SessionContext } from '../../src/lti/sessions';

/** A page route that needs Canvas and has no usable token shows "Connect microcred to Canvas", not an error. */
describe('CanvasAuthorizationRequired on a page', () => {
  const base = '/s/' + 'a'.repeat(43);
  const ctx = { base, token: 'a'.repeat(43), tenant: { id: 't1', canvasBaseUrl: 'https://canvas.example' }, user: { id: 'u1' }, roles: ['designer'], csrfToken: 'csrf' } as unknown as SessionContext;
  const access = {
    store: {
      settings: async () => ({ clientId: '170000000000001', hasClientSecret: true, serviceToken: { set: false, canvasUser: null, setAt: null } }),
      userToken: async () => undefined,
    },
  } as unknown as CanvasAccess;

  function app(err: Error, acc: CanvasAccess = access): express.Express {
    const a = express();
    a.set('view engine', 'ejs');
    a.set('views', path.resolve(__dirname, '../../views'));
    Object.assign(a.locals, { nav: [], flash: [], url: (p: string) => p, csrfToken: '', session: undefined });
    a.use((_req, res, next) => {
      res.locals.ctx = ctx;
      res.locals.url = (p: string) => base + p;
      res.locals.csrfToken = 'csrf';
      next();
    });
    a.get(`${base}/designer/modules`, () => {
      throw err;
    });
    a.use(canvasAuthorizationErrors({ access: acc }));
    a.use((e: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(599).send(`fallthrough ${e.message}`);
    });
    return a;
  }

  it('renders the connect page with a new-tab link and a way back to the page', async () => {
    const res = await request(app(new CanvasAuthorizationRequired('revoked'))).get(`${base}/designer/modules`).set('Accept', 'text/html').expect(401);
    expect(res.text).toContain('<h1 class="page-header__title">Connect microcred to Canvas</h1>');
    expect(res.text).toContain('Canvas no longer accepts microcred’s access to your account');
    expect(res.text).toContain(`href="${base}/canvas/connect/start" target="_blank" rel="noopener"`);
    expect(res.text).toContain(`href="${base}/designer/modules">Continue`);
  });

  it('says who to ask when the district has no API key', async () => {
    const noKey = { store: { ...access.store, settings: async () => ({ clientId: null, hasClientSecret: false, serviceToken: { set: false, canvasUser: null, setAt: null } }) } } as unknown as CanvasAccess;
    const res = await request(app(new CanvasAuthorizationRequired('not_configured'), noKey)).get(`${base}/designer/modules`).expect(401);
    expect(res.text).toContain('Ask your district administrator to set up Canvas API access');
  });

  it('passes every other error on', async () => {
    const res = await request(app(new Error('boom'))).get(`${base}/designer/modules`).expect(599);
    expect(res.text).toBe('fallthrough boom');
  });
});
