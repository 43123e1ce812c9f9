import crypto from 'node:crypto';
import { EVIDENCE_KINDS, type CredentialDefinition } from './model';

/**
 * The micro-credential form as the person typed it: every value a string, so a failed save shows exactly what
 * was entered ("-2", "abc"). The rubric builder's buttons (`add-level:2`, `criterion-up:1`, …) change this state
 * on the server and re-render the form; nothing is saved until "Save draft", which turns the state into the
 * command's body (`toDefinitionBody`) and lets the command validate it.
 *
 * Field names are the command's own error paths (`rubric.criteria.0.levels.1.name`), and so are the inputs'
 * ids: an `InvalidInputError.fields` key names the input it belongs to (`placeErrors`).
 */

export interface LevelForm { id: string; name: string; points: string; descriptor: string }
export interface CriterionForm { id: string; title: string; description: string; requiredLevelId: string; levels: LevelForm[] }
export interface PromptForm { prompt: string; kinds: string[] }
export interface AlignmentForm { framework: string; code: string; name: string; url: string }

export interface CredentialForm {
  name: string;
  competency: string;
  description: string;
  keyMethod: string;
  criteriaNarrative: string;
  hours: string;
  tags: string;
  achievementType: string;
  expiry: 'none' | 'months';
  expiryMonths: string;
  passingKind: 'every_criterion' | 'total';
  threshold: string;
  imageKind: 'generated' | 'upload';
  imageLevel: string;
  imageId: string;
  prompts: PromptForm[];
  alignments: AlignmentForm[];
  criteria: CriterionForm[];
}

/** Generous caps on what a posted form may hold (the command enforces the real limits). */
const MAX_ROWS = 30;
const MAX_LEVELS = 12;

export function emptyForm(): CredentialForm {
  return {
    name: '', competency: '', description: '', keyMethod: '', criteriaNarrative: '', hours: '', tags: '', achievementType: 'MicroCredential',
    expiry: 'none', expiryMonths: '', passingKind: 'every_criterion', threshold: '', imageKind: 'generated', imageLevel: '', imageId: '',
    prompts: [{ prompt: '', kinds: ['text', 'file'] }], alignments: [], criteria: [],
  };
}

export function formFromDefinition(d: CredentialDefinition): CredentialForm {
  return {
    name: d.name, competency: d.competency, description: d.description, keyMethod: d.keyMethod, criteriaNarrative: d.criteriaNarrative,
    hours: String(d.hours), tags: d.tags.join(', '), achievementType: d.achievementType,
    expiry: d.expiryMonths === null ? 'none' : 'months', expiryMonths: d.expiryMonths === null ? '' : String(d.expiryMonths),
    passingKind: d.passingRule.kind, threshold: d.passingRule.kind === 'total' ? String(d.passingRule.threshold) : '',
    imageKind: d.image.kind, imageLevel: d.image.kind === 'generated' ? (d.image.level ?? '') : '', imageId: d.image.kind === 'upload' ? d.image.imageId : '',
    prompts: d.evidencePrompts.map((p) => ({ prompt: p.prompt, kinds: [...p.kinds] })),
    alignments: d.alignments.map((a) => ({ framework: a.framework, code: a.code ?? '', name: a.name, url: a.url })),
    criteria: d.rubric.criteria.map((c) => ({
      id: c.id, title: c.title, description: c.description, requiredLevelId: c.requiredLevelId ?? '',
      levels: c.levels.map((l) => ({ id: l.id, name: l.name, points: String(l.points), descriptor: l.descriptor })),
    })),
  };
}

type Body = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** The row indices a flat form posted under `prefix.N.…`, in order (gaps close up). */
function indices(body: Body, prefix: string, cap: number): number[] {
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d{1,3})\\.`);
  const found = new Set<number>();
  for (const k of Object.keys(body)) {
    const m = re.exec(k);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b).slice(0, cap);
}

/** Reads a posted form (flat `a.0.b` names, as `express.urlencoded({ extended: false })` leaves them). */
export function formFromBody(body: Body): CredentialForm {
  const f = emptyForm();
  const g = (k: string) => str(body[k]);
  f.name = g('name');
  f.competency = g('competency');
  f.description = g('description');
  f.keyMethod = g('keyMethod');
  f.criteriaNarrative = g('criteriaNarrative');
  f.hours = g('hours');
  f.tags = g('tags');
  f.achievementType = g('achievementType') || 'MicroCredential';
  f.expiry = g('expiry') === 'months' ? 'months' : 'none';
  f.expiryMonths = g('expiryMonths');
  f.passingKind = g('passingRule.kind') === 'total' ? 'total' : 'every_criterion';
  f.threshold = g('passingRule.threshold');
  f.imageKind = g('image.kind') === 'upload' && g('image.imageId') ? 'upload' : 'generated';
  f.imageLevel = g('image.level');
  f.imageId = g('image.imageId');
  f.prompts = indices(body, 'evidencePrompts', MAX_ROWS).map((i) => ({
    prompt: g(`evidencePrompts.${i}.prompt`),
    kinds: list(body[`evidencePrompts.${i}.kinds`]).filter((k) => (EVIDENCE_KINDS as readonly string[]).includes(k)),
  }));
  f.alignments = indices(body, 'alignments', MAX_ROWS).map((i) => ({ framework: g(`alignments.${i}.framework`), code: g(`alignments.${i}.code`), name: g(`alignments.${i}.name`), url: g(`alignments.${i}.url`) }));
  f.criteria = indices(body, 'rubric.criteria', MAX_ROWS).map((i) => {
    const at = `rubric.criteria.${i}`;
    return {
      id: safeId(g(`${at}.id`)) || newId('c'),
      title: g(`${at}.title`),
      description: g(`${at}.description`),
      requiredLevelId: g(`${at}.requiredLevelId`),
      levels: indices(body, `${at}.levels`, MAX_LEVELS).map((j) => ({
        id: safeId(g(`${at}.levels.${j}.id`)) || newId('l'),
        name: g(`${at}.levels.${j}.name`),
        points: g(`${at}.levels.${j}.points`),
        descriptor: g(`${at}.levels.${j}.descriptor`),
      })),
    };
  });
  return f;
}

const safeId = (s: string): string => (/^[A-Za-z0-9_.-]{1,64}$/.test(s) ? s : '');
const newId = (prefix: string): string => `${prefix}-${crypto.randomBytes(4).toString('hex')}`;

/** A typed number, or undefined for blank or not-a-number (the schema then says "must be a number"). */
const num = (s: string): number | undefined => {
  const n = s.trim() === '' ? Number.NaN : Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
};

/** The body the catalog commands parse (`CredentialDefinitionSchema`); they say what is wrong with it. */
export function toDefinitionBody(f: CredentialForm): Record<string, unknown> {
  return {
    name: f.name,
    competency: f.competency,
    description: f.description,
    keyMethod: f.keyMethod,
    criteriaNarrative: f.criteriaNarrative,
    evidencePrompts: f.prompts.map((p) => ({ prompt: p.prompt, kinds: p.kinds })),
    rubric: {
      criteria: f.criteria.map((c) => ({
        id: c.id, title: c.title, description: c.description, requiredLevelId: c.requiredLevelId || undefined,
        levels: c.levels.map((l) => ({ id: l.id, name: l.name, points: num(l.points), descriptor: l.descriptor })),
      })),
    },
    passingRule: f.passingKind === 'total' ? { kind: 'total', threshold: num(f.threshold) } : { kind: 'every_criterion' },
    hours: num(f.hours),
    alignments: f.alignments.map((a) => ({ framework: a.framework, code: a.code.trim() || undefined, name: a.name, url: a.url.trim() })),
    tags: [...new Set(f.tags.split(',').map((t) => t.trim()).filter(Boolean))],
    achievementType: f.achievementType.trim() || 'MicroCredential',
    // Blank months with “expires” chosen reads as 0, which the schema answers with “at least 1 month (or none)”.
    expiryMonths: f.expiry === 'months' ? (num(f.expiryMonths) ?? 0) : null,
    image: f.imageKind === 'upload' && f.imageId ? { kind: 'upload', imageId: f.imageId } : { kind: 'generated', level: f.imageLevel.trim() || undefined },
  };
}

// ---- the builder's buttons ------------------------------------------------------------------------------

export interface ActionResult {
  form: CredentialForm;
  /** The id of the control to focus after the change (the new row, or the moved row's button). */
  focus?: string;
  /** What changed, for the aria-live region. */
  announce?: string;
}

const criterionName = (c: CriterionForm | undefined, i: number) => (c?.title.trim() ? `criterion ${i + 1} (“${c.title.trim()}”)` : `criterion ${i + 1}`);
const levelName = (l: LevelForm | undefined, j: number) => (l?.name.trim() ? `level “${l.name.trim()}”` : `level ${j + 1}`);

function move<T>(arr: T[], from: number, to: number): boolean {
  if (from < 0 || from >= arr.length || to < 0 || to >= arr.length) return false;
  const [x] = arr.splice(from, 1);
  arr.splice(to, 0, x!);
  return true;
}

/**
 * Applies one builder button to the form. Unknown or out-of-range actions change nothing (a stale page cannot
 * break the form). Pure apart from new ids.
 */
export function applyAction(input: CredentialForm, action: string): ActionResult {
  const form: CredentialForm = structuredClone(input);
  const [verb = '', arg = ''] = action.split(':');
  const [a, b] = arg.split('.').map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : -1));
  const i = a ?? -1;
  const j = b ?? -1;
  const cs = form.criteria;
  switch (verb) {
    case 'add-criterion': {
      if (cs.length >= MAX_ROWS) return { form, announce: 'The rubric has as many criteria as it can hold.' };
      cs.push({ id: newId('c'), title: '', description: '', requiredLevelId: '', levels: [{ id: newId('l'), name: 'Meets', points: '1', descriptor: '' }, { id: newId('l'), name: 'Not yet', points: '0', descriptor: '' }] });
      return { form, focus: `rubric.criteria.${cs.length - 1}.title`, announce: `Criterion ${cs.length} added, with levels Meets and Not yet. Give it a title.` };
    }
    case 'remove-criterion': {
      const c = cs[i];
      if (!c) return { form };
      cs.splice(i, 1);
      const focus = cs.length === 0 ? 'rubric.criteria' : `rubric.criteria.${Math.min(i, cs.length - 1)}.title`;
      return { form, focus, announce: `Removed ${criterionName(c, i)}. The rubric has ${cs.length} ${cs.length === 1 ? 'criterion' : 'criteria'}.` };
    }
    case 'criterion-up':
    case 'criterion-down': {
      const to = verb === 'criterion-up' ? i - 1 : i + 1;
      const c = cs[i];
      if (!move(cs, i, to)) return { form };
      const same = verb === 'criterion-up' ? 'up' : 'down';
      const canSame = same === 'up' ? to > 0 : to < cs.length - 1;
      return { form, focus: `criterion-${canSame ? same : same === 'up' ? 'down' : 'up'}-${to}`, announce: `Moved “${c!.title.trim() || 'untitled criterion'}” ${same} to position ${to + 1} of ${cs.length}.` };
    }
    case 'add-level': {
      const c = cs[i];
      if (!c) return { form };
      if (c.levels.length >= MAX_LEVELS) return { form, announce: 'This criterion has as many levels as it can hold.' };
      c.levels.push({ id: newId('l'), name: '', points: '0', descriptor: '' });
      return { form, focus: `rubric.criteria.${i}.levels.${c.levels.length - 1}.name`, announce: `Level ${c.levels.length} added to ${criterionName(c, i)}. Name it.` };
    }
    case 'remove-level': {
      const c = cs[i];
      const l = c?.levels[j];
      if (!c || !l) return { form };
      c.levels.splice(j, 1);
      if (c.requiredLevelId === l.id) c.requiredLevelId = '';
      const focus = c.levels.length === 0 ? `rubric.criteria.${i}.levels` : `rubric.criteria.${i}.levels.${Math.min(j, c.levels.length - 1)}.name`;
      return { form, focus, announce: `Removed ${levelName(l, j)} from ${criterionName(c, i)}.` };
    }
    case 'level-up':
    case 'level-down': {
      const c = cs[i];
      const to = verb === 'level-up' ? j - 1 : j + 1;
      const l = c?.levels[j];
      if (!c || !move(c.levels, j, to)) return { form };
      const same = verb === 'level-up' ? 'up' : 'down';
      const canSame = same === 'up' ? to > 0 : to < c.levels.length - 1;
      return { form, focus: `level-${canSame ? same : same === 'up' ? 'down' : 'up'}-${i}-${to}`, announce: `Moved ${levelName(l, j)} ${same} to position ${to + 1} of ${c.levels.length} in ${criterionName(c, i)}.` };
    }
    case 'add-prompt': {
      if (form.prompts.length >= MAX_ROWS) return { form };
      form.prompts.push({ prompt: '', kinds: ['text', 'file'] });
      return { form, focus: `evidencePrompts.${form.prompts.length - 1}.prompt`, announce: `Evidence prompt ${form.prompts.length} added.` };
    }
    case 'remove-prompt': {
      if (!form.prompts[i]) return { form };
      form.prompts.splice(i, 1);
      return { form, focus: form.prompts.length ? `evidencePrompts.${Math.min(i, form.prompts.length - 1)}.prompt` : 'evidencePrompts', announce: `Evidence prompt ${i + 1} removed.` };
    }
    case 'add-alignment': {
      if (form.alignments.length >= MAX_ROWS) return { form };
      form.alignments.push({ framework: '', code: '', name: '', url: '' });
      return { form, focus: `alignments.${form.alignments.length - 1}.framework`, announce: `Alignment ${form.alignments.length} added.` };
    }
    case 'remove-alignment': {
      if (!form.alignments[i]) return { form };
      form.alignments.splice(i, 1);
      return { form, focus: form.alignments.length ? `alignments.${Math.min(i, form.alignments.length - 1)}.framework` : 'alignments', announce: `Alignment ${i + 1} removed.` };
    }
    default:
      return { form };
  }
}

/** Every id an error can be shown on in the rendered form. */
export function formIds(f: CredentialForm): Set<string> {
  const ids = new Set(['name', 'competency', 'description', 'keyMethod', 'criteriaNarrative', 'hours', 'tags', 'achievementType', 'expiryMonths', 'passingRule.kind', 'passingRule.threshold', 'image', 'image.level', 'evidencePrompts', 'alignments', 'rubric.criteria']);
  f.prompts.forEach((_, i) => ['prompt', 'kinds'].forEach((k) => ids.add(`evidencePrompts.${i}.${k}`)));
  f.alignments.forEach((_, i) => ['framework', 'code', 'name', 'url'].forEach((k) => ids.add(`alignments.${i}.${k}`)));
  f.criteria.forEach((c, i) => {
    ['title', 'description', 'requiredLevelId', 'levels'].forEach((k) => ids.add(`rubric.criteria.${i}.${k}`));
    c.levels.forEach((_, j) => ['name', 'points', 'descriptor'].forEach((k) => ids.add(`rubric.criteria.${i}.levels.${j}.${k}`)));
  });
  return ids;
}

/**
 * Puts each of a command's field errors on an input that exists: the exact path when there is one, else the
 * nearest enclosing one (`rubric.criteria.0.levels.1.id` → `rubric.criteria.0.levels.1.name`'s row falls back
 * to `rubric.criteria.0.levels`), else `fallback`. The first message per input wins.
 */
export function placeErrors(fields: Record<string, string>, ids: Set<string>, fallback = 'name', aliases: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    let target: string | undefined;
    const parts = (aliases[key] ?? key).split('.');
    for (let n = parts.length; n > 0 && !target; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (ids.has(candidate)) target = candidate;
      else if (aliases[candidate] && ids.has(aliases[candidate])) target = aliases[candidate];
    }
    target ??= fallback;
    out[target] ??= message;
  }
  return out;
}
