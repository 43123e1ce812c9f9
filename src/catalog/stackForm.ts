import { isUuid } from './repository';
import type { StackView } from './commands/stacks';

/**
 * The stack editor's form state, like `credentialForm.ts`: members are added from a list, ordered and removed
 * with buttons that re-render the form (no JavaScript needed); "Save" hands the state to the stack commands.
 */

export interface StackMemberForm { credentialId: string; prerequisiteIds: string[] }
export interface StackForm {
  name: string;
  description: string;
  kind: 'ordered' | 'n_of_m';
  requiredCount: string;
  imageKind: 'generated' | 'upload';
  imageLevel: string;
  imageId: string;
  members: StackMemberForm[];
}

type Body = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

export function emptyStackForm(): StackForm {
  return { name: '', description: '', kind: 'ordered', requiredCount: '', imageKind: 'generated', imageLevel: '', imageId: '', members: [] };
}

export function stackFormFromView(v: StackView): StackForm {
  return {
    name: v.name, description: v.description, kind: v.kind, requiredCount: v.requiredCount === null ? '' : String(v.requiredCount),
    imageKind: v.image.kind, imageLevel: v.image.kind === 'generated' ? (v.image.level ?? '') : '', imageId: v.image.kind === 'upload' ? v.image.imageId : '',
    members: v.members.map((m) => ({ credentialId: m.credentialId, prerequisiteIds: [...m.prerequisiteIds] })),
  };
}

export function stackFormFromBody(body: Body): StackForm {
  const g = (k: string) => str(body[k]);
  const idx = new Set<number>();
  for (const k of Object.keys(body)) {
    const m = /^members\.(\d{1,3})\./.exec(k);
    if (m) idx.add(Number(m[1]));
  }
  return {
    name: g('name'),
    description: g('description'),
    kind: g('kind') === 'n_of_m' ? 'n_of_m' : 'ordered',
    requiredCount: g('requiredCount'),
    imageKind: g('image.kind') === 'upload' && g('image.imageId') ? 'upload' : 'generated',
    imageLevel: g('image.level'),
    imageId: g('image.imageId'),
    members: [...idx]
      .sort((a, b) => a - b)
      .slice(0, 50)
      .map((i) => ({ credentialId: g(`members.${i}.credentialId`), prerequisiteIds: list(body[`members.${i}.prerequisiteIds`]).filter((p) => isUuid(p)) }))
      .filter((m) => isUuid(m.credentialId)),
  };
}

export function toStackBody(f: StackForm): Record<string, unknown> {
  const n = Number(f.requiredCount.trim());
  return {
    name: f.name,
    description: f.description,
    kind: f.kind,
    requiredCount: f.kind === 'n_of_m' ? (f.requiredCount.trim() !== '' && Number.isInteger(n) && n >= 1 ? n : 0) : null,
    members: f.members.map((m) => ({ credentialId: m.credentialId, prerequisiteIds: m.prerequisiteIds })),
    image: f.imageKind === 'upload' && f.imageId ? { kind: 'upload', imageId: f.imageId } : { kind: 'generated', level: f.imageLevel.trim() || undefined },
  };
}

export function stackIds(f: StackForm): Set<string> {
  const ids = new Set(['name', 'description', 'kind', 'requiredCount', 'image.level', 'members']);
  f.members.forEach((m, i) => {
    ids.add(`members.${i}.credentialId`);
    // The prerequisite checkboxes exist only when there are other members to choose.
    if (f.members.length > 1) ids.add(`members.${i}.prerequisiteIds`);
  });
  return ids;
}

export function applyStackAction(input: StackForm, action: string, addMember: string): { form: StackForm; focus?: string; announce?: string; errors?: Record<string, string> } {
  const form: StackForm = structuredClone(input);
  const [verb = '', arg = ''] = action.split(':');
  const i = /^\d{1,3}$/.test(arg) ? Number(arg) : -1;
  const ms = form.members;
  switch (verb) {
    case 'add-member': {
      if (!isUuid(addMember)) return { form, focus: 'members', errors: { members: 'Choose a micro-credential to add.' } };
      if (ms.some((m) => m.credentialId === addMember)) return { form, focus: 'members', errors: { members: 'That micro-credential is already in the stack.' } };
      ms.push({ credentialId: addMember, prerequisiteIds: [] });
      return { form, focus: 'members', announce: `Added as member ${ms.length} of the stack.` };
    }
    case 'remove-member': {
      const m = ms[i];
      if (!m) return { form };
      ms.splice(i, 1);
      for (const other of ms) other.prerequisiteIds = other.prerequisiteIds.filter((p) => p !== m.credentialId);
      return { form, focus: 'members', announce: `Member ${i + 1} removed. The stack has ${ms.length}.` };
    }
    case 'member-up':
    case 'member-down': {
      const to = verb === 'member-up' ? i - 1 : i + 1;
      if (i < 0 || i >= ms.length || to < 0 || to >= ms.length) return { form };
      const [m] = ms.splice(i, 1);
      ms.splice(to, 0, m!);
      const same = verb === 'member-up' ? 'up' : 'down';
      const canSame = same === 'up' ? to > 0 : to < ms.length - 1;
      return { form, focus: `member-${canSame ? same : same === 'up' ? 'down' : 'up'}-${to}`, announce: `Moved ${same} to position ${to + 1} of ${ms.length}.` };
    }
    default:
      return { form };
  }
}
