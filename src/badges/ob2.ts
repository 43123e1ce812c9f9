import { OB2_CONTEXT } from './contexts';
import type { IdentityObject, ProfileJson } from './credential';

/**
 * Open Badges 2.0 hosted verification, for older backpacks: Issuer, BadgeClass and Assertion documents, derived
 * from the OB 3.0 credential (no second source of truth). The recipient reuses the credential's salted hash, so
 * the email itself is never stored. A revoked assertion answers 410 Gone (routes.ts).
 */

type Json = Record<string, unknown>;

export interface Ob2Urls {
  issuer: string;
  badge: string;
  assertion: string;
}

export function ob2Issuer(profile: ProfileJson, id: string): Json {
  return {
    '@context': OB2_CONTEXT,
    type: 'Issuer',
    id,
    name: profile.name,
    url: profile.url ?? id,
    // OB 2.0 requires an email; until an admin sets the issuer profile there is none to give.
    ...(profile.email ? { email: profile.email } : {}),
    ...(profile.description ? { description: profile.description } : {}),
    ...(profile.image ? { image: profile.image.id } : {}),
  };
}

interface AchievementLike {
  id: string;
  name: string;
  description: string;
  criteria: { id?: string; narrative?: string };
  image?: { id: string };
  tag?: string[];
  alignment?: { targetName: string; targetUrl: string; targetCode?: string; targetFramework?: string }[];
}

export function ob2BadgeClass(a: AchievementLike, urls: Pick<Ob2Urls, 'issuer' | 'badge'>): Json {
  return {
    '@context': OB2_CONTEXT,
    type: 'BadgeClass',
    id: urls.badge,
    name: a.name,
    description: a.description,
    ...(a.image ? { image: a.image.id } : {}),
    criteria: { ...(a.criteria.id ? { id: a.criteria.id } : {}), ...(a.criteria.narrative ? { narrative: a.criteria.narrative } : {}) },
    issuer: urls.issuer,
    ...(a.tag?.length ? { tags: a.tag } : {}),
    ...(a.alignment?.length ? { alignment: a.alignment.map((x) => ({ targetName: x.targetName, targetUrl: x.targetUrl, ...(x.targetCode ? { targetCode: x.targetCode } : {}), ...(x.targetFramework ? { targetFramework: x.targetFramework } : {}) })) } : {}),
  };
}

/** The hosted Assertion for a signed OB 3.0 credential. */
export function ob2Assertion(credential: Json, urls: Ob2Urls, revoked?: { reason: string | null }): Json {
  const subject = credential.credentialSubject as { identifier?: IdentityObject[]; narrative?: string };
  const id = (subject.identifier ?? []).find((i) => i.hashed) ?? subject.identifier?.[0];
  const recipient = id
    ? { type: id.identityType === 'emailAddress' ? 'email' : 'url', hashed: id.hashed, identity: id.identityHash, ...(id.salt ? { salt: id.salt } : {}) }
    : { type: 'url', hashed: false, identity: String(credential.id) };
  const evidence = (credential.evidence as { id?: string; narrative?: string; name?: string }[] | undefined) ?? [];
  return {
    '@context': OB2_CONTEXT,
    type: 'Assertion',
    id: urls.assertion,
    recipient,
    badge: urls.badge,
    verification: { type: 'hosted' },
    issuedOn: credential.validFrom,
    ...(credential.validUntil ? { expires: credential.validUntil } : {}),
    ...(evidence.length ? { evidence: evidence.map((e) => ({ ...(e.id ? { id: e.id } : {}), ...(e.narrative ? { narrative: e.narrative } : {}), ...(e.name ? { name: e.name } : {}) })) } : {}),
    ...(subject.narrative ? { narrative: subject.narrative } : {}),
    ...(revoked ? { revoked: true, ...(revoked.reason ? { revocationReason: revoked.reason } : {}) } : {}),
  };
}
