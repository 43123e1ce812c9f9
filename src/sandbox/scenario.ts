import fs from 'node:fs';
import zlib from 'node:zlib';
import { z } from 'zod';
import { SandboxData, sha1, stableUuid, type EnrollmentType, nowIso } from './store';

/**
 * A scenario is the Canvas a sandbox starts from: accounts, people, courses with their sections, enrollments,
 * modules, items, assignments, rubrics, submissions and completions. Ids are Canvas-style integers and must be
 * unique per kind; references are checked so a typo fails loudly at load time instead of inside a test.
 */
const Id = z.number().int().positive();
const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

const RatingSchema = z.object({ id: z.string().min(1), description: z.string(), longDescription: z.string().default(''), points: z.number().min(0) });
const CriterionSchema = z.object({
  id: z.string().regex(/^_?\w+$/, 'criterion ids look like "_10"'), description: z.string(), longDescription: z.string().default(''),
  points: z.number().min(0), criterionUseRange: z.boolean().default(false), ratings: z.array(RatingSchema).min(1),
});
const FileSchema = z.object({
  filename: z.string().min(1), contentType: z.string().min(3),
  base64: z.string().optional(), text: z.string().optional(),
  /** Generate a small valid file in code instead of storing bytes in the JSON. */
  generate: z.enum(['pdf', 'png']).optional(),
}).refine((f) => [f.base64, f.text, f.generate].filter((x) => x !== undefined).length === 1, 'a file needs exactly one of base64, text or generate');

const ScenarioSchema = z.object({
  name: z.string().min(1),
  accounts: z.array(z.object({ id: Id, name: z.string().min(1) })).min(1),
  users: z.array(z.object({
    id: Id, name: z.string().min(1), sortableName: z.string().optional(), shortName: z.string().optional(), email: z.email(),
    loginId: z.string().min(1), sisUserId: z.string().optional(), ltiId: z.uuid().optional(),
    adminOf: z.array(Id).default([]), timeZone: z.string().default('America/New_York'),
  })),
  courses: z.array(z.object({
    id: Id, accountId: Id, name: z.string().min(1), courseCode: z.string().min(1), sisCourseId: z.string().optional(),
    startAt: Iso.optional(), endAt: Iso.optional(), workflowState: z.enum(['available', 'unpublished', 'completed']).default('available'),
    sections: z.array(z.object({ id: Id, name: z.string().min(1), sisSectionId: z.string().optional() })).default([]),
    enrollments: z.array(z.object({
      userId: Id, type: z.enum(['StudentEnrollment', 'TeacherEnrollment', 'TaEnrollment', 'DesignerEnrollment', 'ObserverEnrollment']),
      sectionId: Id.optional(), state: z.enum(['active', 'invited', 'inactive', 'completed']).default('active'),
    })).default([]),
    rubrics: z.array(z.object({
      id: Id, title: z.string().min(1), freeFormCriterionComments: z.boolean().default(true), hideScoreTotal: z.boolean().default(false),
      criteria: z.array(CriterionSchema).min(1),
    })).default([]),
    assignments: z.array(z.object({
      id: Id, name: z.string().min(1), description: z.string().default(''), pointsPossible: z.number().min(0),
      gradingType: z.enum(['points', 'pass_fail', 'percent', 'letter_grade', 'not_graded']).default('points'),
      submissionTypes: z.array(z.string()).min(1), published: z.boolean().default(true), dueAt: Iso.optional(), unlockAt: Iso.optional(),
      rubricId: Id.optional(), useRubricForGrading: z.boolean().default(true), allowedAttempts: z.number().int().default(-1),
    })).default([]),
    modules: z.array(z.object({
      id: Id, name: z.string().min(1), published: z.boolean().default(true), requireSequentialProgress: z.boolean().default(false),
      requirementType: z.enum(['all', 'one']).default('all'), prerequisiteModuleIds: z.array(Id).default([]), unlockAt: Iso.optional(),
      items: z.array(z.object({
        id: Id, title: z.string().min(1), type: z.enum(['Assignment', 'Page', 'ExternalTool', 'ExternalUrl', 'File', 'SubHeader', 'Discussion', 'Quiz']),
        contentId: Id.optional(), pageUrl: z.string().optional(), externalUrl: z.url().optional(), newTab: z.boolean().default(false),
        indent: z.number().int().min(0).default(0), published: z.boolean().default(true),
        completionRequirement: z.object({ type: z.enum(['must_view', 'must_submit', 'must_contribute', 'min_score', 'must_mark_done']), minScore: z.number().optional() }).optional(),
      })).default([]),
    })).default([]),
    submissions: z.array(z.object({
      assignmentId: Id, userId: Id, submittedAt: Iso, body: z.string().optional(), url: z.url().optional(), attachments: z.array(FileSchema).default([]),
      score: z.number().min(0).optional(), graderId: Id.optional(), gradedAt: Iso.optional(),
      rubricAssessment: z.record(z.string(), z.object({ points: z.number().min(0), rating_id: z.string().optional(), comments: z.string().default('') })).optional(),
      comments: z.array(z.object({ authorId: Id, comment: z.string().min(1) })).default([]),
    })).default([]),
    completions: z.array(z.object({ itemId: Id, userId: Id, completedAt: Iso.optional() })).default([]),
  })),
});

export type Scenario = z.input<typeof ScenarioSchema>;
export type ParsedScenario = z.output<typeof ScenarioSchema>;

/** Validates a scenario and its cross references; throws one Error listing every problem. */
export function parseScenario(input: unknown, source = 'scenario'): ParsedScenario {
  const r = ScenarioSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid ${source}:\n${lines.join('\n')}`);
  }
  const s = r.data;
  const problems: string[] = [];
  const dup = (kind: string, ids: number[]): void => {
    const seen = new Set<number>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`duplicate ${kind} id ${id}`);
      seen.add(id);
    }
  };
  dup('account', s.accounts.map((a) => a.id));
  dup('user', s.users.map((u) => u.id));
  dup('course', s.courses.map((c) => c.id));
  dup('section', s.courses.flatMap((c) => c.sections.map((x) => x.id)));
  dup('module', s.courses.flatMap((c) => c.modules.map((x) => x.id)));
  dup('module item', s.courses.flatMap((c) => c.modules.flatMap((m) => m.items.map((x) => x.id))));
  dup('assignment', s.courses.flatMap((c) => c.assignments.map((x) => x.id)));
  dup('rubric', s.courses.flatMap((c) => c.rubrics.map((x) => x.id)));
  const accountIds = new Set(s.accounts.map((a) => a.id));
  const userIds = new Set(s.users.map((u) => u.id));
  for (const u of s.users) for (const a of u.adminOf) if (!accountIds.has(a)) problems.push(`user ${u.id} is admin of unknown account ${a}`);
  for (const c of s.courses) {
    const at = `course ${c.id}`;
    if (!accountIds.has(c.accountId)) problems.push(`${at}: unknown account ${c.accountId}`);
    const sectionIds = new Set(c.sections.map((x) => x.id));
    const assignmentIds = new Set(c.assignments.map((x) => x.id));
    const rubricIds = new Set(c.rubrics.map((x) => x.id));
    const moduleIds = new Set(c.modules.map((x) => x.id));
    const itemIds = new Set(c.modules.flatMap((m) => m.items.map((i) => i.id)));
    for (const e of c.enrollments) {
      if (!userIds.has(e.userId)) problems.push(`${at}: enrollment of unknown user ${e.userId}`);
      if (e.sectionId !== undefined && !sectionIds.has(e.sectionId)) problems.push(`${at}: enrollment in unknown section ${e.sectionId}`);
    }
    for (const a of c.assignments) if (a.rubricId !== undefined && !rubricIds.has(a.rubricId)) problems.push(`${at}: assignment ${a.id} uses unknown rubric ${a.rubricId}`);
    for (const m of c.modules) {
      for (const p of m.prerequisiteModuleIds) if (!moduleIds.has(p)) problems.push(`${at}: module ${m.id} requires unknown module ${p}`);
      for (const i of m.items) {
        if (i.type === 'Assignment' && (i.contentId === undefined || !assignmentIds.has(i.contentId))) problems.push(`${at}: item ${i.id} points to unknown assignment ${i.contentId ?? '(none)'}`);
        if (i.type === 'ExternalUrl' && !i.externalUrl) problems.push(`${at}: item ${i.id} (ExternalUrl) needs externalUrl`);
        if (i.completionRequirement?.type === 'min_score' && i.completionRequirement.minScore === undefined) problems.push(`${at}: item ${i.id} min_score needs minScore`);
        if ((i.completionRequirement?.type === 'must_submit' || i.completionRequirement?.type === 'min_score') && i.type !== 'Assignment') problems.push(`${at}: item ${i.id} ${i.completionRequirement.type} only applies to assignments`);
      }
    }
    const students = new Set(c.enrollments.filter((e) => e.type === 'StudentEnrollment').map((e) => e.userId));
    for (const sub of c.submissions) {
      if (!assignmentIds.has(sub.assignmentId)) problems.push(`${at}: submission for unknown assignment ${sub.assignmentId}`);
      if (!students.has(sub.userId)) problems.push(`${at}: submission by ${sub.userId}, who is not a student of the course`);
      const asg = c.assignments.find((a) => a.id === sub.assignmentId);
      if (sub.rubricAssessment) {
        const rub = c.rubrics.find((r) => r.id === asg?.rubricId);
        if (!rub) problems.push(`${at}: submission of ${sub.userId} has a rubric assessment but assignment ${sub.assignmentId} has no rubric`);
        else for (const k of Object.keys(sub.rubricAssessment)) if (!rub.criteria.some((cr) => cr.id === k)) problems.push(`${at}: rubric assessment uses unknown criterion ${k}`);
      }
    }
    for (const comp of c.completions) {
      if (!itemIds.has(comp.itemId)) problems.push(`${at}: completion of unknown item ${comp.itemId}`);
      if (!userIds.has(comp.userId)) problems.push(`${at}: completion by unknown user ${comp.userId}`);
    }
  }
  if (problems.length) throw new Error(`Invalid ${source}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return s;
}

export function loadScenario(path: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read scenario ${path}: ${(e as Error).message}`, { cause: e });
  }
  parseScenario(json, `scenario ${path}`);
  return json as Scenario;
}

/** Fill a fresh SandboxData from a scenario. */
export function seed(data: SandboxData, input: Scenario): void {
  const s = parseScenario(input);
  const guid = (id: number): string => `${sha1(`${s.name}:account:${id}`).slice(0, 40)}:canvas-lms`;
  for (const a of s.accounts) data.accounts.push({ id: a.id, name: a.name, ltiGuid: guid(a.id) });
  for (const u of s.users) {
    const parts = u.name.split(' ');
    const last = parts.length > 1 ? parts[parts.length - 1] : '';
    data.users.push({
      id: u.id, name: u.name, sortableName: u.sortableName ?? (last ? `${last}, ${parts.slice(0, -1).join(' ')}` : u.name), shortName: u.shortName ?? u.name,
      email: u.email, loginId: u.loginId, sisUserId: u.sisUserId ?? null, ltiId: u.ltiId ?? stableUuid(`${s.name}:user:${u.id}`), lti11Id: sha1(`${s.name}:user11:${u.id}`),
      avatarUrl: `${data.baseUrl()}/images/messages/avatar-50.png`, adminOf: u.adminOf, createdAt: '2024-07-01T12:00:00Z', timeZone: u.timeZone,
    });
    data.bumpCounter('user', u.id);
  }
  for (const c of s.courses) {
    data.courses.push({
      id: c.id, accountId: c.accountId, name: c.name, courseCode: c.courseCode, sisCourseId: c.sisCourseId ?? null, ltiContextId: sha1(`${s.name}:course:${c.id}`),
      uuid: sha1(`${s.name}:course-uuid:${c.id}`).slice(0, 40), workflowState: c.workflowState, startAt: c.startAt ?? null, endAt: c.endAt ?? null, timeZone: 'America/New_York',
    });
    data.bumpCounter('course', c.id);
    for (const sec of c.sections) {
      data.sections.push({ id: sec.id, courseId: c.id, name: sec.name, sisSectionId: sec.sisSectionId ?? null });
      data.bumpCounter('section', sec.id);
    }
    for (const e of c.enrollments) data.enroll(c.id, e.userId, e.type as EnrollmentType, { state: e.state, sectionId: e.sectionId });
    for (const r of c.rubrics) {
      data.rubrics.push({
        id: r.id, courseId: c.id, title: r.title, freeFormCriterionComments: r.freeFormCriterionComments, hideScoreTotal: r.hideScoreTotal,
        pointsPossible: r.criteria.reduce((t, cr) => t + cr.points, 0),
        criteria: r.criteria.map((cr) => ({ ...cr, ratings: cr.ratings.map((x) => ({ ...x })) })),
      });
      data.bumpCounter('rubric', r.id);
    }
    c.assignments.forEach((a, idx) => {
      let assocId: number | null = null;
      if (a.rubricId !== undefined) {
        assocId = data.nextId('rubricAssociation');
        data.rubricAssociations.push({ id: assocId, rubricId: a.rubricId, assignmentId: a.id, useForGrading: a.useRubricForGrading, purpose: 'grading', hideScoreTotal: false, hidePoints: false });
      }
      data.assignments.push({
        id: a.id, courseId: c.id, name: a.name, description: a.description, pointsPossible: a.pointsPossible, gradingType: a.gradingType, submissionTypes: a.submissionTypes,
        published: a.published, dueAt: a.dueAt ?? null, unlockAt: a.unlockAt ?? null, lockAt: null, position: idx + 1, rubricId: a.rubricId ?? null,
        rubricAssociationId: assocId, externalTool: null, allowedAttempts: a.allowedAttempts, createdAt: '2024-07-01T12:00:00Z', updatedAt: '2024-07-01T12:00:00Z', deleted: false,
      });
      data.bumpCounter('assignment', a.id);
    });
    c.modules.forEach((m, idx) => {
      data.modules.push({
        id: m.id, courseId: c.id, name: m.name, position: idx + 1, published: m.published, requireSequentialProgress: m.requireSequentialProgress,
        requirementType: m.requirementType, prerequisiteModuleIds: m.prerequisiteModuleIds, unlockAt: m.unlockAt ?? null, deleted: false,
      });
      data.bumpCounter('module', m.id);
      m.items.forEach((i, pos) => {
        data.addModuleItem(m.id, {
          id: i.id, title: i.title, type: i.type, position: pos + 1, contentId: i.contentId ?? null, pageUrl: i.pageUrl ?? (i.type === 'Page' ? slug(i.title) : null),
          externalUrl: i.externalUrl ?? null, newTab: i.newTab, indent: i.indent, published: i.published, completionRequirement: i.completionRequirement ?? null,
        });
        data.bumpCounter('moduleItem', i.id);
      });
    });
    for (const sub of c.submissions) {
      const files = sub.attachments.map((f) => ({ filename: f.filename, contentType: f.contentType, bytes: fileBytes(f) }));
      const record = data.submit(sub.assignmentId, sub.userId, { body: sub.body, url: sub.url, attachments: files, submittedAt: sub.submittedAt });
      if (sub.score !== undefined) data.grade(record, sub.score, sub.graderId ?? null, undefined, sub.gradedAt ?? new Date(Date.parse(sub.submittedAt) + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      if (sub.rubricAssessment) {
        const asg = data.assignment(sub.assignmentId);
        if (asg?.rubricId && asg.rubricAssociationId) {
          const entries = Object.fromEntries(Object.entries(sub.rubricAssessment).map(([k, v]) => [k, { points: v.points, rating_id: v.rating_id ?? null, comments: v.comments }]));
          data.rubricAssessments.push({
            id: data.nextId('rubricAssessment'), rubricId: asg.rubricId, rubricAssociationId: asg.rubricAssociationId, submissionId: record.id, assessorId: sub.graderId ?? 0,
            score: Object.values(entries).reduce((t, e) => t + (e.points ?? 0), 0), data: entries, artifactAttempt: record.attempt, assessmentType: 'grading',
            createdAt: sub.submittedAt, updatedAt: sub.submittedAt,
          });
        }
      }
      for (const cm of sub.comments) data.addComment(record, cm.authorId, cm.comment);
    }
    for (const comp of c.completions) data.completeItem(comp.itemId, comp.userId, 'seeded', comp.completedAt ?? nowIso());
  }
}

const slug = (t: string): string => t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function fileBytes(f: { base64?: string; text?: string; generate?: 'pdf' | 'png'; filename: string }): Buffer {
  if (f.base64 !== undefined) return Buffer.from(f.base64, 'base64');
  if (f.text !== undefined) return Buffer.from(f.text, 'utf8');
  return f.generate === 'png' ? tinyPng() : tinyPdf(f.filename);
}

/** A one-page PDF with a line of text: small, valid, and readable by any viewer. */
export function tinyPdf(title: string): Buffer {
  const text = title.replace(/[()\\]/g, '');
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** An 8×8 PNG in Canvas blue. */
export function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, body: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(tb));
    return Buffer.concat([len, tb, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 8 }, () => [0x03, 0x74, 0xb5]).flat())]);
  const raw = Buffer.concat(Array.from({ length: 8 }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Small deterministic PRNG (mulberry32) so generated scenarios are identical for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Avery', 'Jordan', 'Keisha', 'Marcus', 'Priya', 'Diego', 'Hannah', 'Tyrone', 'Mei', 'Olivia', 'Samuel', 'Fatima', 'Grace', 'Luis', 'Naomi', 'Caleb'];
const LAST = ['Whitfield', 'Okafor', 'Ramirez', 'Nguyen', 'Patel', 'Brooks', 'Hughes', 'Lindqvist', 'Adeyemi', 'Carver', 'Delgado', 'Foster', 'Kim', 'Moreno', 'Sutton', 'Yates'];

/**
 * A big course for tests and benchmarks: `educators` learners, `modules` modules of three items each
 * (a must_view page, a must_mark_done page, a must_submit assignment with a rubric), random progress.
 */
export function generateScenario(o: { educators: number; modules: number; seed?: number }): Scenario {
  const rnd = prng(o.seed ?? 1);
  const users: NonNullable<Scenario['users']> = [
    { id: 1, name: 'Ada Admin', email: 'admin@district.example', loginId: 'admin@district.example', adminOf: [1] },
    { id: 2, name: 'Terry Teacher', email: 'teacher@district.example', loginId: 'teacher@district.example' },
    { id: 3, name: 'Rae Reviewer', email: 'ta@district.example', loginId: 'ta@district.example' },
    { id: 4, name: 'Dana Designer', email: 'designer@district.example', loginId: 'designer@district.example' },
  ];
  for (let i = 0; i < o.educators; i++) {
    const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i >= FIRST.length * LAST.length ? ` ${i}` : ''}`;
    users.push({ id: 100 + i, name, email: `educator${i}@district.example`, loginId: `educator${i}@district.example`, sisUserId: `E${10000 + i}` });
  }
  const educatorIds = users.slice(4).map((u) => u.id);
  const rubric = {
    id: 1, title: 'Evidence rubric', criteria: [
      { id: '_10', description: 'Evidence of practice', points: 5, ratings: [{ id: 'name_2', description: 'Meets', points: 5 }, { id: 'name_3', description: 'Not yet', points: 0 }] },
      { id: '_11', description: 'Reflection', points: 5, ratings: [{ id: 'name_4', description: 'Meets', points: 5 }, { id: 'name_5', description: 'Not yet', points: 0 }] },
    ],
  };
  const modules: NonNullable<NonNullable<Scenario['courses']>[number]['modules']> = [];
  const assignments: NonNullable<NonNullable<Scenario['courses']>[number]['assignments']> = [];
  const completions: { itemId: number; userId: number; completedAt: string }[] = [];
  const submissions: NonNullable<NonNullable<Scenario['courses']>[number]['submissions']> = [];
  const day = (n: number): string => new Date(Date.UTC(2024, 8, 1) + n * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (let m = 0; m < o.modules; m++) {
    const aid = 1000 + m;
    assignments.push({ id: aid, name: `Module ${m + 1} evidence`, pointsPossible: 10, submissionTypes: ['online_text_entry', 'online_url', 'online_upload'], rubricId: 1 });
    const base = 10000 + m * 10;
    modules.push({
      id: 100 + m, name: `Module ${m + 1}`,
      items: [
        { id: base + 1, title: `Module ${m + 1} overview`, type: 'Page', completionRequirement: { type: 'must_view' } },
        { id: base + 2, title: `Module ${m + 1} practice`, type: 'Page', completionRequirement: { type: 'must_mark_done' } },
        { id: base + 3, title: `Module ${m + 1} evidence`, type: 'Assignment', contentId: aid, completionRequirement: { type: 'must_submit' } },
      ],
    });
    for (const uid of educatorIds) {
      const r = rnd();
      if (r < 0.8) completions.push({ itemId: base + 1, userId: uid, completedAt: day(m * 24 + (uid % 24)) });
      if (r < 0.6) completions.push({ itemId: base + 2, userId: uid, completedAt: day(m * 24 + (uid % 24) + 1) });
      if (r < 0.4) submissions.push({ assignmentId: aid, userId: uid, submittedAt: day(m * 24 + (uid % 24) + 2), body: `<p>Evidence from educator ${uid} for module ${m + 1}</p>` });
    }
  }
  return {
    name: `generated-${o.educators}x${o.modules}-${o.seed ?? 1}`,
    accounts: [{ id: 1, name: 'Generated District' }],
    users,
    courses: [
      {
        id: 1, accountId: 1, name: 'Generated Course', courseCode: 'GEN-1', sections: [{ id: 1, name: 'Cohort 1' }],
        enrollments: [
          { userId: 2, type: 'TeacherEnrollment' }, { userId: 3, type: 'TaEnrollment' }, { userId: 4, type: 'DesignerEnrollment' },
          ...educatorIds.map((id) => ({ userId: id, type: 'StudentEnrollment' as const })),
        ],
        rubrics: [rubric], assignments, modules, submissions, completions,
      },
      { id: 2, accountId: 1, name: 'Generated Course II', courseCode: 'GEN-2', sections: [{ id: 2, name: 'Cohort 1' }], enrollments: [{ userId: 2, type: 'TeacherEnrollment' }] },
    ],
  };
}
