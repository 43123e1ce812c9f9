import crypto from 'node:crypto';
import { OB3_CONTEXT, VC2_CONTEXT } from './contexts';
import { isoSeconds } from './signing';
import type { AchievementJson } from '../catalog/ob3';

/**
 * The unsigned `OpenBadgeCredential` (OB 3.0 on VC 2.0), built from plain inputs so its shape is readable in one
 * place. Every property here is defined by the VC 2.0 or OB 3.0.3 context: signing runs JSON-LD safe mode and
 * refuses anything else (e.g. the catalog's `microcred` extension, which `publicAchievement` drops).
 */

export interface ProfileJson {
  id: string;
  type: ['Profile'];
  name: string;
  url?: string;
  email?: string;
  description?: string;
  image?: { id: string; type: 'Image'; caption?: string };
}

export interface IdentityObject {
  type: 'IdentityObject';
  identityType: 'emailAddress' | 'name' | 'systemId';
  hashed: boolean;
  identityHash: string;
  salt?: string;
}

export interface EarnerInput {
  /** microcred's user id (users.id). */
  userId: string;
  email?: string | null;
  name?: string | null;
  /** The earner opted in to being named: the name goes into the credential and the public page. */
  showName: boolean;
}

export interface EvidenceInput {
  /** SHA-256 (hex) of the evidence snapshot the reviewer scored; it becomes the evidence id `urn:sha256:<hex>`. */
  sha256: string;
  name?: string;
  narrative?: string;
  description?: string;
  genre?: string;
}

export interface ResultInput {
  criterionId: string;
  levelId: string;
}

/** OB's hashed identifier: `sha256$` + hex(sha256(value + salt)). */
export function identityHash(value: string, salt: string): string {
  return 'sha256$' + crypto.createHash('sha256').update(value + salt, 'utf8').digest('hex');
}

/**
 * Who the credential is about, without an account id anyone could correlate: the email hashed with a salt (OB's
 * conformance recipient form), or a hashed system id when Canvas shared no email; plus the name, only if the earner
 * opted in.
 */
export function subjectIdentifiers(earner: EarnerInput, systemIdBase: string, salt = crypto.randomBytes(16).toString('hex')): IdentityObject[] {
  const out: IdentityObject[] = [];
  if (earner.email) out.push({ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: identityHash(earner.email.trim().toLowerCase(), salt), salt });
  else out.push({ type: 'IdentityObject', identityType: 'systemId', hashed: true, identityHash: identityHash(`${systemIdBase}/${earner.userId}`, salt), salt });
  if (earner.showName && earner.name) out.push({ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: earner.name });
  return out;
}

/** The catalog's Achievement without what OB has no term for (our export extension). */
export function publicAchievement(a: AchievementJson): Omit<AchievementJson, 'microcred'> {
  const { microcred: _ext, ...rest } = a;
  return rest;
}

export interface BuildOpenBadge {
  id: string;
  issuer: ProfileJson;
  achievement: Omit<AchievementJson, 'microcred'>;
  identifiers: IdentityObject[];
  validFrom: Date;
  validUntil: Date | null;
  results: ResultInput[];
  creditsEarned?: number;
  evidence: EvidenceInput[];
  source: ProfileJson;
  narrative?: string;
  credentialStatus: { id: string; type: 'BitstringStatusListEntry'; statusPurpose: 'revocation'; statusListIndex: string; statusListCredential: string };
}

export class UnknownRubricLevelError extends Error {}

export function buildOpenBadge(o: BuildOpenBadge): Record<string, unknown> {
  const results = o.results.map((r) => {
    const rd = o.achievement.resultDescription?.find((d) => d.id === `${o.achievement.id}/criteria/${r.criterionId}`);
    const level = rd?.rubricCriterionLevel.find((l) => l.id === `${rd.id}/levels/${r.levelId}`);
    if (!rd || !level) throw new UnknownRubricLevelError(`criterion ${r.criterionId} level ${r.levelId} is not in the rubric of ${o.achievement.id}`);
    return { type: ['Result'], resultDescription: rd.id, achievedLevel: level.id };
  });
  return {
    '@context': [VC2_CONTEXT, OB3_CONTEXT],
    id: o.id,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: o.achievement.name,
    description: o.achievement.description,
    issuer: o.issuer,
    validFrom: isoSeconds(o.validFrom),
    ...(o.validUntil ? { validUntil: isoSeconds(o.validUntil) } : {}),
    awardedDate: isoSeconds(o.validFrom),
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: o.identifiers,
      achievement: o.achievement,
      ...(results.length ? { result: results } : {}),
      ...(o.creditsEarned !== undefined ? { creditsEarned: o.creditsEarned } : {}),
      ...(o.narrative ? { narrative: o.narrative } : {}),
      source: o.source,
    },
    ...(o.evidence.length
      ? {
          evidence: o.evidence.map((e) => ({
            id: `urn:sha256:${e.sha256.toLowerCase()}`,
            type: ['Evidence'],
            ...(e.name ? { name: e.name } : {}),
            ...(e.narrative ? { narrative: e.narrative } : {}),
            ...(e.description ? { description: e.description } : {}),
            ...(e.genre ? { genre: e.genre } : {}),
          })),
        }
      : {}),
    credentialStatus: o.credentialStatus,
  };
}
