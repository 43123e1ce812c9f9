import type { SessionContext } from '../lti/sessions';
import { can } from '../policies';
import type { CredentialDefinition } from './model';
import { ceus, maxPoints } from './rules';
import type { CredentialAttachmentRow, IssuerProfileRow, MicroCredentialRow, MicroCredentialVersionRow, StackMemberRow, StackRow } from './schema';

/** Rows → the JSON the API answers (and the pages render). */

export function definitionOf(v: MicroCredentialVersionRow): CredentialDefinition {
  return {
    name: v.name,
    competency: v.competency,
    description: v.description,
    keyMethod: v.keyMethod,
    criteriaNarrative: v.criteriaNarrative,
    evidencePrompts: v.evidencePrompts,
    rubric: v.rubric,
    passingRule: v.passingRule,
    hours: Number(v.hours),
    alignments: v.alignments,
    tags: v.tags,
    achievementType: v.achievementType,
    expiryMonths: v.expiryMonths,
    image: v.image,
  };
}

export function presentVersion(v: MicroCredentialVersionRow) {
  const definition = definitionOf(v);
  return { id: v.id, version: v.version, publishedAt: v.publishedAt?.toISOString() ?? null, createdAt: v.createdAt.toISOString(), definition, ceus: ceus(definition.hours), maxPoints: maxPoints(definition.rubric) };
}

export function presentCredential(ctx: SessionContext, c: MicroCredentialRow, current: MicroCredentialVersionRow, extra: { courseTitle?: string; pendingDraft?: MicroCredentialVersionRow; versions?: MicroCredentialVersionRow[] } = {}) {
  const canChange = can(ctx, 'credential.change', c);
  return {
    id: c.id,
    key: c.key,
    state: c.state,
    course: { id: c.courseId, title: extra.courseTitle ?? null },
    copiedFromId: c.copiedFromId,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    publishedAt: c.publishedAt?.toISOString() ?? null,
    retiredAt: c.retiredAt?.toISOString() ?? null,
    current: presentVersion(current),
    // An unpublished edit of a published credential: only those who may change it see it.
    pendingDraft: canChange && extra.pendingDraft ? presentVersion(extra.pendingDraft) : null,
    versions: extra.versions?.filter((v) => canChange || v.publishedAt).map((v) => ({ id: v.id, version: v.version, publishedAt: v.publishedAt?.toISOString() ?? null })),
    imageUrl: `${ctx.base}/api/catalog/credentials/${c.id}/image`,
    canChange,
  };
}

export function presentAttachment(a: CredentialAttachmentRow) {
  return { credentialId: a.credentialId, courseId: a.courseId, canvasCourseId: a.canvasCourseId, moduleIds: a.moduleIds, assignmentId: a.assignmentId, rubricImported: a.rubricImported, updatedAt: a.updatedAt.toISOString() };
}

export function presentStack(ctx: SessionContext, s: StackRow, members: StackMemberRow[], names: Map<string, { name: string; state: string }>) {
  return {
    id: s.id,
    key: s.key,
    name: s.name,
    description: s.description,
    kind: s.kind,
    requiredCount: s.requiredCount,
    state: s.state,
    courseId: s.courseId,
    image: s.image,
    publishedAt: s.publishedAt?.toISOString() ?? null,
    members: members.map((m) => ({ credentialId: m.credentialId, name: names.get(m.credentialId)?.name ?? null, state: names.get(m.credentialId)?.state ?? null, position: m.position, prerequisiteIds: m.prerequisiteIds })),
    canChange: can(ctx, 'stack.change', s),
  };
}

export function presentIssuer(p: IssuerProfileRow, ctx: SessionContext) {
  return { configured: true, name: p.name, url: p.url, email: p.email, description: p.description ?? '', imageId: p.imageId, imageUrl: p.imageId ? `${ctx.base}/api/catalog/images/${p.imageId}` : null, updatedAt: p.updatedAt.toISOString() };
}
