import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { defineRoutes, type SessionRoute, jsonRoute, routeParam } from '../web/routeTable';
import { describeApi } from '../web/openapi';
import { InvalidInputError } from '../web/errors';
import { AttachInputSchema, CredentialDefinitionSchema, ImageUploadSchema, IssuerProfileSchema, ListQuerySchema, StackInputSchema } from './model';
import type { CatalogDeps } from './commands/common';
import * as credentials from './commands/credentials';
import { attachCredential, getAttachment } from './commands/attach';
import * as stacks from './commands/stacks';
import { credentialBadge, getBadgeImage, stackBadge, uploadBadgeImage } from './commands/images';
import { getIssuerProfile, setIssuerProfile } from './commands/issuer';
import { exportAchievements, importAchievements } from './commands/transfer';
import { installStarterCatalog } from './commands/starter';

/**
 * The catalog's JSON API (docs/catalog.md): routes → policy (the route's action, then the command's per-item
 * check) → command → repository. Under /api/ so errors answer as JSON.
 */

const json = jsonRoute;
const param = routeParam;

async function sendImage(res: Response, img: { contentType: string; bytes: Buffer }): Promise<void> {
  res.type(img.contentType);
  res.set('X-Content-Type-Options', 'nosniff');
  // An SVG opened on its own is a document: even sanitized, let it run nothing and load nothing.
  if (img.contentType === 'image/svg+xml') res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  res.send(img.bytes);
}

const UPLOAD_LIMIT = '1.4mb';
const IMPORT_LIMIT = '8mb';

/**
 * Body parsers for the two routes whose bodies outgrow the session router's 1 MB: an image upload (1 MB of
 * image is 1.37 MB of base64) and an import (Achievements carry their images inline). Mounted before the session
 * router, which then finds the body already read. Too large an upload is the person's mistake about a field,
 * so it gets a 400 on `image`, not a bare 413.
 */
export function catalogBodyParsers(): { path: string; handler: RequestHandler }[] {
  const upload = express.json({ limit: UPLOAD_LIMIT });
  return [
    {
      path: '/s/:token/api/catalog/images',
      handler: (req: Request, res: Response, next: NextFunction) =>
        upload(req, res, (err?: unknown) => {
          if ((err as { type?: string } | undefined)?.type === 'entity.too.large') next(new InvalidInputError('The image is too large.', { image: 'Badge images can be at most 1 MB.' }));
          else next(err);
        }),
    },
    { path: '/s/:token/api/catalog/import', handler: express.json({ limit: IMPORT_LIMIT }) },
  ];
}

const IdsQuery = z.object({ ids: z.string().optional().meta({ description: 'Comma-separated micro-credential ids; all published ones you can see when omitted.' }) });

export function catalogRoutes(deps: CatalogDeps): SessionRoute[] {
  const c = '/api/catalog/credentials';
  const s = '/api/catalog/stacks';
  const routes = defineRoutes([
    { method: 'get', path: c, action: 'catalog.browse', kind: 'api', handler: json((ctx, req) => credentials.listCredentials(deps, ctx, req.query)) },
    { method: 'post', path: c, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => credentials.createCredential(deps, ctx, req.body), 201) },
    { method: 'get', path: `${c}/:id`, action: 'catalog.browse', kind: 'api', handler: json((ctx, req) => credentials.getCredential(deps, ctx, param(req, 'id'))) },
    { method: 'put', path: `${c}/:id`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => credentials.updateCredential(deps, ctx, param(req, 'id'), req.body)) },
    {
      method: 'get', path: `${c}/:id/versions/:version`, action: 'catalog.browse', kind: 'api',
      handler: json((ctx, req) => {
        const n = Number(param(req, 'version'));
        if (!Number.isInteger(n) || n < 1) throw new InvalidInputError('A version is a whole number from 1.', { version: 'A version is a whole number from 1.' });
        return credentials.getCredentialVersion(deps, ctx, param(req, 'id'), n);
      }),
    },
    { method: 'post', path: `${c}/:id/publish`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => credentials.publishCredential(deps, ctx, param(req, 'id'))) },
    { method: 'post', path: `${c}/:id/retire`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => credentials.retireCredential(deps, ctx, param(req, 'id'))) },
    { method: 'post', path: `${c}/:id/copy`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => credentials.copyCredentialToCourse(deps, ctx, param(req, 'id')), 201) },
    { method: 'get', path: `${c}/:id/attachment`, action: 'catalog.browse', kind: 'api', handler: json((ctx, req) => getAttachment(deps, ctx, param(req, 'id'))) },
    { method: 'put', path: `${c}/:id/attachment`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => attachCredential(deps, ctx, param(req, 'id'), req.body)) },
    { method: 'get', path: `${c}/:id/image`, action: 'catalog.browse', kind: 'api', handler: async (ctx, req, res) => sendImage(res, await credentialBadge(deps, ctx, param(req, 'id'), { draft: req.query.draft === '1' })) },

    { method: 'get', path: s, action: 'catalog.browse', kind: 'api', handler: json((ctx) => stacks.listStacks(deps, ctx)) },
    { method: 'post', path: s, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => stacks.createStack(deps, ctx, req.body), 201) },
    { method: 'get', path: `${s}/:id`, action: 'catalog.browse', kind: 'api', handler: json((ctx, req) => stacks.getStack(deps, ctx, param(req, 'id'))) },
    { method: 'put', path: `${s}/:id`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => stacks.updateStack(deps, ctx, param(req, 'id'), req.body)) },
    { method: 'post', path: `${s}/:id/publish`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => stacks.publishStack(deps, ctx, param(req, 'id'))) },
    { method: 'post', path: `${s}/:id/retire`, action: 'catalog.design', kind: 'api', handler: json((ctx, req) => stacks.retireStack(deps, ctx, param(req, 'id'))) },
    { method: 'get', path: `${s}/:id/image`, action: 'catalog.browse', kind: 'api', handler: async (ctx, req, res) => sendImage(res, await stackBadge(deps, ctx, param(req, 'id'))) },

    { method: 'get', path: '/api/catalog/issuer', action: 'catalog.browse', kind: 'api', handler: json((ctx) => getIssuerProfile(deps, ctx)) },
    { method: 'put', path: '/api/catalog/issuer', action: 'catalog.administer', kind: 'api', handler: json((ctx, req) => setIssuerProfile(deps, ctx, req.body)) },
    { method: 'post', path: '/api/catalog/images', action: 'catalog.design', kind: 'api', handler: json((ctx, req) => uploadBadgeImage(deps, ctx, req.body), 201) },
    { method: 'get', path: '/api/catalog/images/:id', action: 'catalog.browse', kind: 'api', handler: async (ctx, req, res) => sendImage(res, await getBadgeImage(deps, ctx, param(req, 'id'))) },

    {
      method: 'get', path: '/api/catalog/export', action: 'catalog.browse', kind: 'api',
      handler: json((ctx, req) => {
        const ids = typeof req.query.ids === 'string' && req.query.ids ? req.query.ids.split(',').map((x) => x.trim()) : undefined;
        return exportAchievements(deps, ctx, ids);
      }),
    },
    { method: 'post', path: '/api/catalog/import', action: 'catalog.design', kind: 'api', handler: json(async (ctx, req) => ({ credentials: await importAchievements(deps, ctx, req.body) }), 201) },
    { method: 'post', path: '/api/catalog/starter', action: 'catalog.design', kind: 'api', handler: json((ctx) => installStarterCatalog(deps, ctx), 201) },
  ]);

  const tag = 'catalog';
  describeApi([
    { method: 'get', path: c, tag, summary: 'Browse and search the district’s shared catalog', description: 'Earners and reviewers see published micro-credentials; designers also see retired ones and their course’s drafts; admins see all.', query: ListQuerySchema, response: { description: 'Micro-credential summaries' } },
    { method: 'post', path: c, tag, summary: 'Create a micro-credential (a draft of this course)', body: CredentialDefinitionSchema, response: { status: 201, description: 'The new micro-credential' } },
    { method: 'get', path: `${c}/:id`, tag, summary: 'A micro-credential: its current version, its versions and (for its designers) the pending draft' },
    { method: 'put', path: `${c}/:id`, tag, summary: 'Edit a micro-credential', description: 'A draft changes in place; a published one gets a new draft version that becomes current when published.', body: CredentialDefinitionSchema },
    { method: 'get', path: `${c}/:id/versions/:version`, tag, summary: 'One version by number (earned badges point at versions)' },
    { method: 'post', path: `${c}/:id/publish`, tag, summary: 'Publish the draft (the first version or a pending edit)' },
    { method: 'post', path: `${c}/:id/retire`, tag, summary: 'Retire: no new earners; badges already earned stay valid' },
    { method: 'post', path: `${c}/:id/copy`, tag, summary: 'Copy into this course as a new draft', response: { status: 201, description: 'The copy' } },
    { method: 'get', path: `${c}/:id/attachment`, tag, summary: 'The Canvas modules and evidence assignment in this course' },
    { method: 'put', path: `${c}/:id/attachment`, tag, summary: 'Attach to Canvas modules and an evidence assignment of this course (checked with Canvas)', body: AttachInputSchema },
    { method: 'get', path: `${c}/:id/image`, tag, summary: 'The badge image (uploaded PNG/SVG, or the generated design)', query: z.object({ draft: z.enum(['1']).optional() }), response: { description: 'The image', contentType: 'image/*' } },
    { method: 'get', path: s, tag, summary: 'Stacks this person can see' },
    { method: 'post', path: s, tag, summary: 'Create a stack (ordered, or N of M) of micro-credentials', body: StackInputSchema, response: { status: 201, description: 'The new stack' } },
    { method: 'get', path: `${s}/:id`, tag, summary: 'A stack with its members' },
    { method: 'put', path: `${s}/:id`, tag, summary: 'Edit a stack', body: StackInputSchema },
    { method: 'post', path: `${s}/:id/publish`, tag, summary: 'Publish a stack (every member must be published)' },
    { method: 'post', path: `${s}/:id/retire`, tag, summary: 'Retire a stack' },
    { method: 'get', path: `${s}/:id/image`, tag, summary: 'The stack’s badge image', response: { description: 'The image', contentType: 'image/*' } },
    { method: 'get', path: '/api/catalog/issuer', tag, summary: 'The district’s issuer profile (the tenant’s name until an admin sets it)' },
    { method: 'put', path: '/api/catalog/issuer', tag, summary: 'Set the issuer profile (admins)', body: IssuerProfileSchema },
    { method: 'post', path: '/api/catalog/images', tag, summary: 'Upload a badge image as base64 JSON (PNG or SVG, at most 1 MB; SVGs are sanitized)', body: ImageUploadSchema, response: { status: 201, description: 'The stored image: id, sha256, size, and what sanitizing removed' } },
    { method: 'get', path: '/api/catalog/images/:id', tag, summary: 'An uploaded image', response: { description: 'The image', contentType: 'image/*' } },
    { method: 'get', path: '/api/catalog/export', tag, summary: 'Export micro-credentials as Open Badges 3.0 Achievements', query: IdsQuery },
    { method: 'post', path: '/api/catalog/import', tag, summary: 'Import Open Badges 3.0 Achievements as drafts of this course', body: z.object({ achievements: z.array(z.record(z.string(), z.unknown())).min(1).max(100) }), response: { status: 201, description: 'The new drafts' } },
    { method: 'post', path: '/api/catalog/starter', tag, summary: 'Install the starter catalog (Tech Leader I/II/III) as drafts of this course', response: { status: 201, description: 'What was created and what the district already had' } },
  ]);
  return routes;
}
