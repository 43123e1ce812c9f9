import { startWorld, allAt, type World } from '../review/support/world';
import { review } from '../review/support/api';
import type { Api } from '../catalog/support';

/**
 * The portfolio and reports tests' world: the review world (Tech Leader scenario, Tech Leader I published, more
 * reviewers) plus `award`, the award command (`app.awards.award`: award, signed credential, CEU ledger), review
 * decisions that award through the review's hook, and revocation through `app.awards.revoke`.
 */

export interface AwardOptions {
  credential?: { id: string; versionId: string };
  stackId?: string;
  awardedAt?: Date;
  /** The review item that decided it (time-to-award counts from the first submission). */
  reviewItemId?: string;
  source?: 'review' | 'automatic' | 'stack' | 'bulk';
  showName?: boolean;
  courseId?: string;
}

export interface Awarded {
  awardId: string;
  credentialId: string;
  hours: number;
}

export interface PortfolioWorld extends World {
  award(canvasUserId: string | number, o?: AwardOptions): Promise<Awarded>;
  /** Revokes the credential and reverses its ledger entry (negative hours), as revocation will. */
  revokeAward(a: Awarded, reason: string): Promise<void>;
  /** Submit evidence, have reviewer 4 award it after `scores`, then make the award: the whole story. */
  reviewAndAward(canvasUserId: string | number, o?: { credential?: { id: string; versionId: string }; submittedAt?: Date; awardedAt?: Date }): Promise<Awarded>;
  notYet(canvasUserId: string | number, scores: Record<string, string>, o?: { credential?: { id: string; versionId: string }; submittedAt?: Date }): Promise<void>;
}

export async function startPortfolioWorld(): Promise<PortfolioWorld> {
  const w = await startWorld();

  const awards = w.stack.tool.app.awards;
  const outcome = async (awardId: string): Promise<Awarded> => {
    const [a] = await w.q<{ id: string; issued_credential_id: string; hours: string }>('SELECT id, issued_credential_id, hours FROM awards WHERE id = $1', [awardId]);
    return { awardId: a!.id, credentialId: a!.issued_credential_id, hours: Number(a!.hours) };
  };
  // The award command itself (src/awards), as the review, automatic mode, stacks and bulk awards call it.
  const award = async (canvasUserId: string | number, o: AwardOptions = {}): Promise<Awarded> => {
    const earnerId = await w.userId(canvasUserId);
    const cred = o.credential ?? w.credential;
    const source = o.source ?? (o.stackId ? 'stack' : 'review');
    const r = await awards.award({
      tenantId: w.tenantId,
      earnerId,
      achievement: o.stackId ? { stackId: o.stackId } : { versionId: cred.versionId },
      courseId: o.courseId ?? w.course101,
      source,
      reviewItemId: o.reviewItemId ?? null,
      reason: source === 'bulk' ? 'Summer institute' : null,
      awardedAt: o.awardedAt,
    });
    if (o.showName) await w.q('UPDATE issued_credentials SET show_name = true WHERE id = $1', [r.award.issuedCredentialId]);
    return outcome(r.award.id);
  };

  const world: PortfolioWorld = {
    ...w,
    award,
    async revokeAward(a, reason) {
      await awards.revoke(w.tenantId, a.awardId, reason);
    },
    async reviewAndAward(canvasUserId, o = {}) {
      const item = await w.submit(canvasUserId, { credential: o.credential, submittedAt: o.submittedAt });
      await review(await w.as(4), item.id, { scores: allAt('meets'), decision: 'award' });
      // The review's decision made the award (in its transaction); an earlier award date is set for the ledger tests.
      const [a] = await w.q<{ id: string }>('SELECT id FROM awards WHERE review_item_id = $1', [item.id]);
      if (o.awardedAt) {
        await w.q('UPDATE awards SET awarded_at = $2 WHERE id = $1', [a!.id, o.awardedAt]);
        await w.q("UPDATE ceu_ledger SET earned_on = $2 WHERE award_id = $1 AND kind = 'earned'", [a!.id, o.awardedAt.toISOString().slice(0, 10)]);
      }
      return outcome(a!.id);
    },
    async notYet(canvasUserId, scores, o = {}) {
      const item = await w.submit(canvasUserId, { credential: o.credential, submittedAt: o.submittedAt });
      await review(await w.as(4), item.id, { scores, decision: 'not_yet', feedback: 'Add student work samples.' });
    },
  };
  return world;
}

export async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}

/** Posts an HTML form (urlencoded, with the session's CSRF token) without following the redirect. */
export function postForm(a: Api, path: string, fields: Record<string, string>, opts: { csrf?: boolean } = {}): Promise<Response> {
  const body = new URLSearchParams({ ...(opts.csrf === false ? {} : { _csrf: a.csrf }), ...fields });
  return fetch(a.base + path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' }, body, redirect: 'manual' });
}

export async function page(a: Api, path: string): Promise<{ status: number; html: string }> {
  const res = await fetch(a.base + path, { headers: { Accept: 'text/html' } });
  return { status: res.status, html: await res.text() };
}

export { allAt };
