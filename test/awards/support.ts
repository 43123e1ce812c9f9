import { dccVerify } from '../badges/dcc';
import { bundledContexts, CLR2_CONTEXT } from '../../src/badges/contexts';
import { parseForm } from '../support/browser';
import { sandboxCourseReader, techLeaderI } from '../catalog/support';
import { json, waitFor } from '../review/support/api';
import { startWorld, type World } from '../review/support/world';

/**
 * The awards' test world: the review world (Tech Leader scenario, in-memory evidence), a district service token
 * acting as the Canvas admin (so jobs may grade, message and enrol), and helpers for a credential whose rubric
 * is the evidence assignment's Canvas rubric, its graded assignment made by Deep Linking, and verification.
 */
export interface AwardsWorld extends World {
  /** A published credential attached to course 101 (modules, evidence assignment 2005) with the Canvas rubric. */
  attachedCredential(name: string, moduleIds?: string[]): Promise<{ id: string; versionId: string }>;
  /** The designer places the credential as a graded assignment (Deep Linking): its AGS line item. */
  gradedAssignment(credentialId: string): Promise<{ assignmentId: number; lineItemId: number }>;
  /** Our verifier and the DCC verifier (another code lineage) both accept the credential. */
  expectVerifies(credential: object): Promise<void>;
  /** Every credential issued for this world's district verifies with both verifiers; answers how many. */
  expectAllVerify(): Promise<number>;
  passbacks(awardId: string): Promise<{ id: string; kind: string; state: string; attempts: number; last_error: string | null; payload: Record<string, unknown> | null }[]>;
  waitForPassbacks(awardId: string, done?: (states: string[]) => boolean, ms?: number): Promise<{ kind: string; state: string; attempts: number; last_error: string | null; payload: Record<string, unknown> | null }[]>;
}

/** The Canvas rubric's levels for a pass (10 of 10 points) and for a “not yet”. */
export const PASS = { _10: 'name_2', _11: 'name_5', _12: 'name_7', _13: 'name_9' };
export const NOT_YET = { _10: 'name_4', _11: 'name_5', _12: 'name_7', _13: 'name_9' };

export async function startAwardsWorld(): Promise<AwardsWorld> {
  const w = await startWorld();
  w.stack.tool.app.catalog.setCourseReader(sandboxCourseReader(w.stack));
  const token = w.stack.sandbox.issueUserToken({ userId: 1 }).accessToken;
  await w.stack.tool.app.canvas.store.setServiceToken(w.tenantId, token, { setBy: await w.userId(1), canvasUser: '1' });
  const app = w.stack.tool.app;

  const passbacks = (awardId: string) => w.q<{ id: string; kind: string; state: string; attempts: number; last_error: string | null; payload: Record<string, unknown> | null }>('SELECT id, kind, state, attempts, last_error, payload FROM award_passbacks WHERE award_id = $1 ORDER BY kind', [awardId]);
  return Object.assign(w, {
    async attachedCredential(name: string, moduleIds = ['1006']) {
      const created = await json<{ id: string }>(await w.designer.api('/api/catalog/credentials', { method: 'POST', json: techLeaderI({ name }) }));
      const attached = await w.designer.api(`/api/catalog/credentials/${created.id}/attachment`, { method: 'PUT', json: { moduleIds, assignmentId: '2005', importRubric: true } });
      if (attached.status !== 200) throw new Error(`attach: ${attached.status} ${await attached.text()}`);
      const published = await json<{ current: { id: string } }>(await w.designer.api(`/api/catalog/credentials/${created.id}/publish`, { method: 'POST' }));
      return { id: created.id, versionId: published.current.id };
    },
    async gradedAssignment(credentialId: string) {
      const { page, browser } = await w.stack.launch('2', { placement: 'module_index_menu_modal', messageType: 'LtiDeepLinkingRequest' });
      const form = parseForm(page.body)!;
      const before = w.stack.sandbox.data.assignments.length;
      const done = await browser.post(new URL(form.action, page.url).toString(), { _csrf: form.fields._csrf!, choice: `graded:${credentialId}` });
      if (done.status !== 200) throw new Error(`deep linking: ${done.status}`);
      const assignment = w.stack.sandbox.data.assignments.slice(before)[0]!;
      const lineItem = w.stack.sandbox.data.lineItems.find((l) => l.assignmentId === assignment.id && l.resourceId === credentialId)!;
      return { assignmentId: assignment.id, lineItemId: lineItem.id };
    },
    async expectVerifies(credential: object) {
      const ours = await app.badges.verifyCredential(credential);
      if (!ours.verified) throw new Error(`our verifier refused it: ${JSON.stringify(ours.checks)}`);
      const dcc = await dccVerifyOver(w, credential);
      expect(dcc.fatal).toEqual([]);
      expect(dcc.log).toMatchObject({ valid_signature: true, revocation_status: true, expiration: true });
    },
    async expectAllVerify() {
      // Every credential issued, except those revoked on purpose (a test checks they verify as revoked).
      const rows = await w.q<{ credential: object }>('SELECT credential FROM issued_credentials WHERE tenant_id = $1 AND revoked_at IS NULL', [w.tenantId]);
      for (const r of rows) await this.expectVerifies(r.credential);
      return rows.length;
    },
    passbacks,
    async waitForPassbacks(awardId: string, done = (s: string[]) => s.length > 0 && s.every((x) => x === 'sent' || x === 'skipped' || x === 'failed'), ms = 30_000) {
      return waitFor(async () => {
        const rows = await passbacks(awardId);
        return done(rows.map((r) => r.state)) ? rows : undefined;
      }, ms);
    },
  });
}

/**
 * The DCC verifier resolves did:web and status lists over https: while it runs, its fetches of our host go to
 * the test server over http (everything else it asks for is refused, so nothing leaves the machine).
 */
async function dccVerifyOver(w: World, credential: object) {
  const tool = new URL(w.stack.tool.url);
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url === CLR2_CONTEXT) return Response.json(bundledContexts().get(CLR2_CONTEXT));
    if (url.startsWith('https://purl.imsglobal.org/spec/ob/v3p0/schema/')) return new Response('offline', { status: 404 });
    const u = new URL(url);
    if (u.host === tool.host) return realFetch(`${tool.origin}${u.pathname}${u.search}`, init);
    throw new TypeError(`network blocked while verifying: ${url}`);
  }) as typeof fetch;
  try {
    return await dccVerify(credential);
  } finally {
    globalThis.fetch = realFetch;
  }
}
