import type { LtiMember } from '../lti/ltijsTypes';
import { localId } from './engine';

const CANVAS_USER_ID = 'https://www.instructure.com/canvas_user_id';
const CUSTOM = 'https://purl.imsglobal.org/spec/lti/claim/custom';

/**
 * NRPS members (asked with `rlid`, so each carries the launch `message` Canvas would send) → sub ↔ Canvas user
 * id. The Canvas id comes from the message's `canvas_user_id` claim, else its `$Canvas.user.id` custom field;
 * a member without either is skipped. Email is never used to match people.
 */
export function identitiesFromNrps(members: LtiMember[]): { canvasUserId: string; ltiSub: string; name: string | null }[] {
  const out: { canvasUserId: string; ltiSub: string; name: string | null }[] = [];
  for (const m of members) {
    if (!m.user_id || m.status === 'Deleted') continue;
    const msg = (m.message ?? [])[0] ?? {};
    const custom = (msg[CUSTOM] ?? {}) as Record<string, unknown>;
    const raw = msg[CANVAS_USER_ID] ?? custom.canvas_user_id;
    const id = typeof raw === 'number' || typeof raw === 'string' ? localId(raw) : undefined;
    if (!id) continue;
    out.push({ canvasUserId: id, ltiSub: m.user_id, name: typeof m.name === 'string' ? m.name : null });
  }
  return out;
}
