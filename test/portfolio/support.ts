import { startWorld, allAt, type World } from '../review/support/world';
import { review } from '../review/support/api';
import { ceus } from '../../src/catalog/rules';
import type { Api } from '../catalog/support';

/**
 * The portfolio and reports tests' world: the review world (Tech Leader scenario, Tech Leader I published, more
 * reviewers) plus `award`, which makes an award the way the award command will: an `awards` row, a credential
 * signed by the real badges engine (`app.badges.issueOpenBadge`) and a `ceu_ledger` entry. Until the award
 * command lands (src/awards/, another branch), this helper stands in for it; swap its body for the command then.
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
  const badges = w.stack.tool.app.badges;
  const day = (d: Date) => d.toISOString().slice(0, 10);

  const award = async (canvasUserId: string | number, o: AwardOptions = {}): Promise<Awarded> => {
    const earnerId = await w.userId(canvasUserId);
    const [person] = await w.q<{ name: string | null; email: string | null }>('SELECT name, email FROM users WHERE id = $1', [earnerId]);
    const awardedAt = o.awardedAt ?? new Date();
    let hours = 0;
    let title: string;
    if (o.stackId) {
      const [s] = await w.q<{ name: string }>('SELECT name FROM stacks WHERE id = $1', [o.stackId]);
      title = s!.name;
    } else {
      const cred = o.credential ?? w.credential;
      const [v] = await w.q<{ name: string; hours: string }>('SELECT name, hours FROM micro_credential_versions WHERE id = $1', [cred.versionId]);
      title = v!.name;
      hours = Number(v!.hours);
    }
    const cred = o.credential ?? w.credential;
    const [row] = await w.q<{ id: string }>(
      `INSERT INTO awards (tenant_id, earner_id, course_id, credential_id, version_id, stack_id, source, review_item_id, hours, awarded_at, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [w.tenantId, earnerId, o.courseId ?? w.course101, o.stackId ? null : cred.id, o.stackId ? null : cred.versionId, o.stackId ?? null, o.source ?? (o.stackId ? 'stack' : 'review'), o.reviewItemId ?? null, hours, awardedAt, o.source === 'bulk' ? 'Summer institute' : null],
    );
    const awardId = row!.id;
    const issued = await badges.issueOpenBadge({
      tenantId: w.tenantId,
      earner: { userId: earnerId, email: person!.email, name: person!.name, showName: o.showName ?? false },
      achievement: o.stackId ? { stackId: o.stackId } : { versionId: cred.versionId },
      awardId,
      awardedAt,
    });
    await w.q('UPDATE awards SET issued_credential_id = $1 WHERE id = $2', [issued.id, awardId]);
    if (hours > 0) {
      await w.q('INSERT INTO ceu_ledger (tenant_id, earner_id, award_id, kind, title, hours, ceus, earned_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [w.tenantId, earnerId, awardId, 'earned', title, hours, ceus(hours), day(awardedAt)]);
    }
    return { awardId, credentialId: issued.id, hours };
  };

  const world: PortfolioWorld = {
    ...w,
    award,
    async revokeAward(a, reason) {
      await badges.revoke(a.credentialId, reason, { tenantId: w.tenantId });
      await w.q('UPDATE awards SET revoked_at = now(), revocation_reason = $2 WHERE id = $1', [a.awardId, reason]);
      const [l] = await w.q<{ earner_id: string; title: string; hours: string; ceus: string }>("SELECT earner_id, title, hours, ceus FROM ceu_ledger WHERE award_id = $1 AND kind = 'earned'", [a.awardId]);
      if (l) await w.q("INSERT INTO ceu_ledger (tenant_id, earner_id, award_id, kind, title, hours, ceus, earned_on) VALUES ($1, $2, $3, 'reversed', $4, $5, $6, current_date)", [w.tenantId, l.earner_id, a.awardId, l.title, -Number(l.hours), -Number(l.ceus)]);
    },
    async reviewAndAward(canvasUserId, o = {}) {
      const item = await w.submit(canvasUserId, { credential: o.credential, submittedAt: o.submittedAt });
      await review(await w.as(4), item.id, { scores: allAt('meets'), decision: 'award' });
      return award(canvasUserId, { credential: o.credential, reviewItemId: item.id, awardedAt: o.awardedAt });
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
