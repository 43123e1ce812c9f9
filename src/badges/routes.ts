import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Badges } from './service';
import type { IssuedCredentialRow } from './schema';
import { OB3_CONTEXT, VC2_CONTEXT } from './contexts';
import { bakePng, bakeSvg, extractPng, extractSvg } from './baking';
import { ob2Assertion, ob2BadgeClass, ob2Issuer } from './ob2';
import { parseMultipart } from './multipart';
import type { VerificationResult } from './verify';
import type { IdentityObject } from './credential';
import { NotFoundError } from '../web/errors';

/**
 * Public routes (no session: anyone with a link, verifiers, backpacks): the issuer Profile and DID document, status
 * lists, achievements and badge art, each credential as a page and as JSON, baked images, OB 2.0 hosted documents,
 * and the verifier page. Nothing here changes state; POST /verify only reads what was sent.
 */

export const VERIFY_LIMIT_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json';

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => h(req, res).catch(next);
const param = (req: Request, name: string) => String(req.params[name] ?? '');

function sendJson(res: Response, body: unknown, contentType = JSON_TYPE): void {
  // Public documents change only on revocation (status lists, assertions): short caching keeps verifiers fresh.
  res.set('Cache-Control', 'public, max-age=60');
  res.set('Access-Control-Allow-Origin', '*');
  res.type(contentType).send(JSON.stringify(body, null, 2));
}

function sendImage(res: Response, img: { contentType: string; bytes: Buffer }, filename?: string): void {
  res.set('Cache-Control', 'public, max-age=300');
  res.set('Access-Control-Allow-Origin', '*');
  if (img.contentType === 'image/svg+xml') res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
  if (filename) res.attachment(filename);
  res.type(img.contentType).send(img.bytes);
}

export type CredentialState = 'valid' | 'revoked' | 'expired';

export function stateOf(row: IssuedCredentialRow, now = new Date()): CredentialState {
  if (row.revokedAt) return 'revoked';
  if (row.validUntil && row.validUntil.getTime() <= now.getTime()) return 'expired';
  return 'valid';
}

export function badgeRoutes(badges: Badges): Router {
  const r = express.Router();
  const ob2Urls = (row: IssuedCredentialRow) => ({
    issuer: `${badges.publicUrl}/ob2/issuers/${row.tenantId}`,
    badge: row.versionId ? `${badges.publicUrl}/ob2/badges/${row.versionId}` : `${badges.publicUrl}/ob2/badges/stacks/${row.stackId}`,
    assertion: `${badges.publicUrl}/ob2/assertions/${row.id}`,
  });
  const requireTenant = async (req: Request) => {
    const key = param(req, 'tenantKey');
    if (!(await badges.tenantExists(key))) throw new NotFoundError('issuer');
    return key;
  };
  const issued = async (req: Request) => {
    const row = await badges.findIssued(param(req, 'id'));
    if (!row) throw new NotFoundError('credential');
    return row;
  };

  // ---- issuer --------------------------------------------------------------------------------------------------
  r.get(
    '/issuers/:tenantKey/did.json',
    wrap(async (req, res) => sendJson(res, await badges.didDocument(await requireTenant(req)), 'application/did+json')),
  );
  r.get(
    '/issuers/:tenantKey/image',
    wrap(async (req, res) => {
      const img = await badges.issuerImage(await requireTenant(req));
      if (!img) throw new NotFoundError('image');
      sendImage(res, img);
    }),
  );
  r.get(
    '/issuers/:tenantKey',
    wrap(async (req, res) => sendJson(res, { '@context': [VC2_CONTEXT, OB3_CONTEXT], ...(await badges.issuerProfile(await requireTenant(req))) })),
  );

  // ---- status lists ------------------------------------------------------------------------------------------------
  r.get(
    '/status/:tenantKey/:listNumber',
    wrap(async (req, res) => {
      const list = await badges.statusListCredential(param(req, 'tenantKey'), Number(param(req, 'listNumber')));
      if (!list) throw new NotFoundError('status list');
      sendJson(res, list);
    }),
  );

  // ---- achievements ----------------------------------------------------------------------------------------------
  r.get(
    '/achievements/stacks/:stackId/image',
    wrap(async (req, res) => {
      const img = await badges.stackImage(param(req, 'stackId'));
      if (!img) throw new NotFoundError('badge');
      sendImage(res, img);
    }),
  );
  r.get(
    '/achievements/stacks/:stackId',
    wrap(async (req, res) => {
      const found = await badges.stackAchievement(param(req, 'stackId'));
      if (!found) throw new NotFoundError('achievement');
      sendJson(res, { '@context': [VC2_CONTEXT, OB3_CONTEXT], ...found.achievement });
    }),
  );
  r.get(
    '/achievements/:versionId/image',
    wrap(async (req, res) => {
      const img = await badges.versionImage(param(req, 'versionId'));
      if (!img) throw new NotFoundError('badge');
      sendImage(res, img);
    }),
  );
  r.get(
    '/achievements/:versionId',
    wrap(async (req, res) => {
      const found = await badges.versionAchievement(param(req, 'versionId'));
      if (!found) throw new NotFoundError('achievement');
      sendJson(res, { '@context': [VC2_CONTEXT, OB3_CONTEXT], ...found.achievement });
    }),
  );

  // ---- credentials -----------------------------------------------------------------------------------------------
  r.get(
    '/credentials/:id.json',
    wrap(async (req, res) => sendJson(res, (await issued(req)).credential)),
  );
  r.get(
    '/credentials/:id/badge.:ext',
    wrap(async (req, res) => {
      const row = await issued(req);
      const img = row.versionId ? await badges.versionImage(row.versionId) : await badges.stackImage(row.stackId!);
      if (!img) throw new NotFoundError('badge');
      const ext = param(req, 'ext');
      const json = JSON.stringify(row.credential);
      // The bake follows the badge art: a PNG design bakes as PNG, an SVG design as SVG.
      if (ext === 'png' && img.contentType === 'image/png') return sendImage(res, { contentType: 'image/png', bytes: bakePng(img.bytes, json, ob2Urls(row).assertion) }, `badge-${row.id}.png`);
      if (ext === 'svg' && img.contentType === 'image/svg+xml') return sendImage(res, { contentType: 'image/svg+xml', bytes: Buffer.from(bakeSvg(img.bytes.toString('utf8'), json), 'utf8') }, `badge-${row.id}.svg`);
      throw new NotFoundError(`${ext.toUpperCase()} badge (this badge's art is ${img.contentType === 'image/png' ? 'a PNG' : 'an SVG'})`);
    }),
  );
  r.get(
    '/credentials/:id',
    wrap(async (req, res) => {
      const row = await issued(req);
      if (req.accepts(['html', 'application/ld+json', 'json']) !== 'html') return sendJson(res, row.credential);
      const img = row.versionId ? await badges.versionImage(row.versionId) : await badges.stackImage(row.stackId!);
      const bakedUrl = img ? `${badges.credentialUrl(row.id)}/badge.${img.contentType === 'image/png' ? 'png' : 'svg'}` : null;
      res.set('Cache-Control', 'no-store');
      res.render('badges/credential', { title: String(row.credential.name ?? 'Credential'), ...presentCredential(badges, row), bakedUrl });
    }),
  );

  // ---- Open Badges 2.0 hosted verification ----------------------------------------------------------------------------
  r.get(
    '/ob2/issuers/:tenantKey',
    wrap(async (req, res) => {
      const key = await requireTenant(req);
      sendJson(res, ob2Issuer(await badges.issuerProfile(key), `${badges.publicUrl}/ob2/issuers/${key}`));
    }),
  );
  r.get(
    '/ob2/badges/stacks/:stackId',
    wrap(async (req, res) => {
      const found = await badges.stackAchievement(param(req, 'stackId'));
      if (!found) throw new NotFoundError('badge');
      sendJson(res, ob2BadgeClass(found.achievement, { issuer: `${badges.publicUrl}/ob2/issuers/${found.stack.tenantId}`, badge: `${badges.publicUrl}/ob2/badges/stacks/${found.stack.id}` }));
    }),
  );
  r.get(
    '/ob2/badges/:versionId',
    wrap(async (req, res) => {
      const found = await badges.versionAchievement(param(req, 'versionId'));
      if (!found) throw new NotFoundError('badge');
      sendJson(res, ob2BadgeClass(found.achievement, { issuer: `${badges.publicUrl}/ob2/issuers/${found.version.tenantId}`, badge: `${badges.publicUrl}/ob2/badges/${found.version.id}` }));
    }),
  );
  r.get(
    '/ob2/assertions/:id',
    wrap(async (req, res) => {
      const row = await issued(req);
      if (row.revokedAt) {
        // OB 2.0 hosted verification: a revoked assertion is 410 Gone (with revoked: true for verifiers that read the body).
        res.status(410);
        return sendJson(res, ob2Assertion(row.credential, ob2Urls(row), { reason: row.revocationReason }));
      }
      sendJson(res, ob2Assertion(row.credential, ob2Urls(row)));
    }),
  );

  // ---- the verifier page ------------------------------------------------------------------------------------------
  r.get('/verify', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.render('badges/verify', { title: 'Verify a credential', pasted: '', outcome: undefined, problem: undefined });
  });
  const body = express.raw({ type: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json', 'application/ld+json', 'application/vc+ld+json'], limit: VERIFY_LIMIT_BYTES + 64 * 1024 });
  r.post('/verify', (req, res, next) =>
    body(req, res, (err?: unknown) => {
      const tooLarge = (err as { type?: string } | undefined)?.type === 'entity.too.large';
      if (err && !tooLarge) return next(err);
      verifyPage(badges, req, res, tooLarge).catch(next);
    }),
  );
  return r;
}

interface Submitted {
  text?: string;
  problem?: string;
  /** 413 for too large, else 400 */
  status?: number;
}

/** What was pasted or uploaded: JSON text, or a baked PNG/SVG whose credential we extract. */
function readSubmission(req: Request): Submitted {
  const type = req.get('content-type') ?? '';
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (type.startsWith('multipart/form-data')) {
    const parts = parseMultipart(raw, type);
    const file = parts.find((p) => p.name === 'file' && p.data.length > 0);
    if (file) {
      if (file.data.length > VERIFY_LIMIT_BYTES) return { problem: 'The file is larger than 1 MB.', status: 413 };
      return fromFile(file.data);
    }
    const text = parts.find((p) => p.name === 'credential')?.data.toString('utf8') ?? '';
    return { text };
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { text: new URLSearchParams(raw.toString('utf8')).get('credential') ?? '' };
  }
  return { text: raw.toString('utf8') };
}

function fromFile(data: Buffer): Submitted {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    try {
      const baked = extractPng(data);
      if (baked.credential) return { text: baked.credential };
      return { problem: baked.ob2 ? 'This PNG carries an Open Badges 2.0 assertion, not an Open Badges 3.0 credential.' : 'This PNG has no credential baked into it.' };
    } catch {
      return { problem: 'This PNG file could not be read.' };
    }
  }
  const text = data.toString('utf8');
  if (/<svg[\s>]/.test(text.slice(0, 4096))) {
    const baked = extractSvg(text);
    return baked ? { text: baked } : { problem: 'This SVG has no credential baked into it.' };
  }
  return { text };
}

async function verifyPage(badges: Badges, req: Request, res: Response, tooLarge: boolean): Promise<void> {
  const wants = req.accepts(['html', 'json']);
  const sub: Submitted = tooLarge ? { problem: 'What you sent is larger than 1 MB.', status: 413 } : readSubmission(req);
  let outcome: VerificationResult | undefined;
  let problem = sub.problem;
  if (!problem) {
    const text = (sub.text ?? '').trim();
    if (!text) problem = 'Paste a credential or choose a file first.';
    else {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        problem = 'This is not JSON. Paste the credential’s JSON (it starts with “{”), or upload the .json file or a baked badge image.';
      }
      if (!problem) outcome = await badges.verifyCredential(json);
    }
  }
  res.set('Cache-Control', 'no-store');
  if (wants === 'json') {
    res.status(problem ? (sub.status ?? 400) : 200).json(problem ? { error: { code: sub.status === 413 ? 'payload_too_large' : 'invalid_input', message: problem } } : outcome);
    return;
  }
  res.status(problem ? (sub.status ?? 400) : 200);
  res.render('badges/verify', { title: 'Verify a credential', pasted: tooLarge ? '' : (sub.text ?? '').slice(0, VERIFY_LIMIT_BYTES), outcome, problem });
}

/** What the public credential page shows: never the earner's name unless they opted in. */
export function presentCredential(badges: Badges, row: IssuedCredentialRow) {
  const c = row.credential as {
    name?: string;
    issuer: { name?: string; url?: string; id: string };
    validFrom: string;
    validUntil?: string;
    evidence?: { id?: string; name?: string; narrative?: string }[];
    credentialSubject: {
      identifier?: IdentityObject[];
      achievement: { name: string; description: string; criteria: { narrative?: string }; image?: { id: string }; alignment?: { targetName: string; targetUrl: string; targetCode?: string }[]; creditsAvailable?: number; achievementType?: string };
      creditsEarned?: number;
      result?: { resultDescription: string; achievedLevel?: string }[];
      source?: { name?: string };
    };
  };
  const s = c.credentialSubject;
  const a = s.achievement;
  const rds = (a as { resultDescription?: { id: string; name: string; rubricCriterionLevel: { id: string; name: string }[] }[] }).resultDescription ?? [];
  const results = (s.result ?? []).map((res) => {
    const rd = rds.find((d) => d.id === res.resultDescription);
    return { criterion: rd?.name ?? res.resultDescription, level: rd?.rubricCriterionLevel.find((l) => l.id === res.achievedLevel)?.name ?? '' };
  });
  const name = row.showName ? s.identifier?.find((i) => i.identityType === 'name' && !i.hashed)?.identityHash : undefined;
  return {
    id: row.id,
    state: stateOf(row),
    revokedAt: row.revokedAt,
    revocationReason: row.revocationReason,
    issuer: c.issuer,
    earnerName: name ?? null,
    achievement: a,
    results,
    creditsEarned: s.creditsEarned ?? null,
    source: s.source?.name ?? null,
    evidence: (c.evidence ?? []).map((e) => ({ name: e.name ?? 'Evidence', narrative: e.narrative ?? '', hash: e.id?.startsWith('urn:sha256:') ? e.id.slice('urn:sha256:'.length) : null })),
    validFrom: c.validFrom,
    validUntil: c.validUntil ?? null,
    jsonUrl: `${badges.credentialUrl(row.id)}.json`,
    ob2Url: `${badges.publicUrl}/ob2/assertions/${row.id}`,
    badgeUrl: row.versionId ? `${badges.achievementUrl(row.versionId)}/image` : `${badges.stackAchievementUrl(row.stackId!)}/image`,
  };
}
