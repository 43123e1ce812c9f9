import type { Api } from '../../catalog/support';

/** Small typed helpers over the review API. */
export interface QueueItem { id: string; status: string; round: number; attempt: number; resubmission: boolean; earner: { id: string | null; name: string; hidden: boolean }; claimedBy: { id: string; name: string } | null; ageLabel: string }
export interface Queue { counts: { pending: number; in_review: number; mine: number; decided: number }; items: QueueItem[] }
export interface Evaluation { passed: boolean; complete: boolean; total: number; maxTotal: number; summary: string; suggested: string | null }
export interface ErrorBody { error: { code: string; message: string; fields?: Record<string, string> } }

export async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}

export const queue = async (a: Api, query = '') => json<Queue>(await a.api(`/api/review/queue${query ? `?${query}` : ''}`));
export const claim = (a: Api, id: string) => a.api(`/api/review/items/${id}/claim`, { method: 'POST' });
export const draft = (a: Api, id: string, body: unknown) => a.api(`/api/review/items/${id}/draft`, { method: 'PUT', json: body });
export const decideApi = (a: Api, id: string, body: unknown) => a.api(`/api/review/items/${id}/decision`, { method: 'POST', json: body });

/** Claim and decide in one go; returns the outcome. */
export async function review(a: Api, id: string, body: { scores: Record<string, string>; decision: 'award' | 'not_yet'; feedback?: string; comments?: Record<string, string>; overrideComment?: string }): Promise<string> {
  const c = await claim(a, id);
  if (c.status !== 200) throw new Error(`claim ${id}: ${c.status} ${await c.text()}`);
  const d = await decideApi(a, id, body);
  if (d.status !== 200) throw new Error(`decide ${id}: ${d.status} ${await d.text()}`);
  return (await json<{ outcome: string }>(d)).outcome;
}

export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
