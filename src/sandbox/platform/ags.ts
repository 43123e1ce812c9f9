import express, { type Request, type Response } from 'express';
import { AGS_SCOPES, type SandboxContext } from '../context';
import { SandboxError, paginate, str } from '../http';
import { nowIso, type Assignment, type Course, type LineItem, type Tool } from '../store';
import { lineItemUrl } from './claims';

/** LTI Assignment and Grade Services 2.0 as Canvas implements it (canvas-lti.md §2.6, §4.4, §4.5). */

const LINEITEM = 'application/vnd.ims.lis.v2.lineitem+json';
const CONTAINER = 'application/vnd.ims.lis.v2.lineitemcontainer+json';
const SCORE = 'application/vnd.ims.lis.v1.score+json';
const RESULTS = 'application/vnd.ims.lis.v2.resultcontainer+json';
const ACTIVITY = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
const GRADING = ['NotReady', 'Failed', 'Pending', 'PendingManual', 'FullyGraded'];
const SUBMISSION_EXT = 'https://canvas.instructure.com/lti/submission';
const SUBMISSION_TYPE_EXT = 'https://canvas.instructure.com/lti/submission_type';

const ltiError = (status: number, type: string, message: string): SandboxError => new SandboxError(status, { errors: { type, message } });

export function lineItemJson(ctx: SandboxContext, li: LineItem): Record<string, unknown> {
  const out: Record<string, unknown> = { id: lineItemUrl(ctx, li), scoreMaximum: li.scoreMaximum, label: li.label };
  if (li.resourceId !== null) out.resourceId = li.resourceId;
  if (li.tag !== null) out.tag = li.tag;
  if (li.resourceLinkId !== null) out.resourceLinkId = li.resourceLinkId;
  if (li.startDateTime) out.startDateTime = li.startDateTime;
  if (li.endDateTime) out.endDateTime = li.endDateTime;
  if (li.submissionType) out[SUBMISSION_TYPE_EXT] = li.submissionType;
  return out;
}

function optionalIso(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw ltiError(400, 'bad_request', `${name} must be an ISO 8601 date-time`);
  return v;
}

export function agsRoutes(ctx: SandboxContext, guard: (scopes: string[]) => express.RequestHandler): express.Router {
  const r = express.Router();
  const d = ctx.data;
  const read = guard([AGS_SCOPES.lineitem, AGS_SCOPES.lineitemReadonly]);
  const write = guard([AGS_SCOPES.lineitem]);

  const courseOf = (req: Request): Course => {
    const c = d.course(str(req.params.course_id) ?? '');
    if (!c) throw ltiError(404, 'not_found', 'Course not found');
    return c;
  };
  const lineItemOf = (req: Request, res: Response): LineItem => {
    const c = courseOf(req);
    const tool = res.locals.tool as Tool;
    const li = d.lineItems.find((l) => String(l.id) === req.params.id && l.courseId === c.id && l.clientId === tool.clientId && d.assignment(l.assignmentId));
    if (!li) throw ltiError(404, 'not_found', 'The specified line item does not exist');
    return li;
  };

  r.get('/api/lti/courses/:course_id/line_items', read, (req, res) => {
    const c = courseOf(req);
    const tool = res.locals.tool as Tool;
    const q = req.query as Record<string, unknown>;
    let items = d.lineItems.filter((l) => l.courseId === c.id && l.clientId === tool.clientId && d.assignment(l.assignmentId));
    if (str(q.tag) !== undefined) items = items.filter((l) => l.tag === str(q.tag));
    if (str(q.resource_id) !== undefined) items = items.filter((l) => l.resourceId === str(q.resource_id));
    if (str(q.resource_link_id) !== undefined) items = items.filter((l) => l.resourceLinkId === str(q.resource_link_id));
    const page = paginate(req, res, ctx.cfg.baseUrl, items, { sizeParam: 'limit', defaultSize: 50, maxSize: 100 });
    res.type(CONTAINER).send(JSON.stringify(page.map((l) => lineItemJson(ctx, l))));
  });

  r.post('/api/lti/courses/:course_id/line_items', write, (req, res) => {
    const c = courseOf(req);
    const tool = res.locals.tool as Tool;
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.scoreMaximum !== 'number' || !Number.isFinite(b.scoreMaximum) || b.scoreMaximum < 0) throw ltiError(400, 'bad_request', 'scoreMaximum is required and must be a non-negative number');
    if (typeof b.label !== 'string' || b.label.trim() === '') throw ltiError(400, 'bad_request', 'label is required');
    const start = optionalIso(b.startDateTime, 'startDateTime');
    const end = optionalIso(b.endDateTime, 'endDateTime');
    const ext = b[SUBMISSION_TYPE_EXT] as { type?: unknown; external_tool_url?: unknown } | undefined;
    if (ext !== undefined && (typeof ext !== 'object' || !['none', 'external_tool'].includes(String(ext.type)))) throw ltiError(400, 'bad_request', `${SUBMISSION_TYPE_EXT}.type must be none or external_tool`);
    let assignment: Assignment | undefined;
    let primary = false;
    const rlid = str(b.resourceLinkId);
    if (rlid !== undefined) {
      const rl = d.resourceLinks.find((x) => x.id === rlid && x.courseId === c.id && x.toolId === tool.id);
      if (!rl) throw ltiError(412, 'precondition_failed', 'The specified LTI link ID is not valid');
      assignment = rl.assignmentId !== null ? d.assignment(rl.assignmentId) : undefined;
    }
    if (!assignment) {
      // Without an assignment to attach to, Canvas creates a gradebook column: an assignment named by the label.
      primary = true;
      const extTool = ext?.type === 'external_tool';
      assignment = {
        id: d.nextId('assignment'), courseId: c.id, name: b.label, description: '', pointsPossible: b.scoreMaximum, gradingType: 'points',
        submissionTypes: extTool ? ['external_tool'] : ['none'], published: true, dueAt: end, unlockAt: start, lockAt: null, position: d.courseAssignments(c.id).length + 1,
        rubricId: null, rubricAssociationId: null,
        externalTool: extTool ? { url: str(ext?.external_tool_url) ?? tool.targetLinkUri, toolId: tool.id, newTab: false, resourceLinkId: rlid ?? `${tool.id}-${Date.now()}` } : null,
        allowedAttempts: -1, createdAt: nowIso(), updatedAt: nowIso(), deleted: false,
      };
      d.assignments.push(assignment);
    }
    const li: LineItem = {
      id: d.nextId('lineItem'), courseId: c.id, clientId: tool.clientId, assignmentId: assignment.id, primary, label: b.label, scoreMaximum: b.scoreMaximum,
      resourceId: str(b.resourceId) ?? null, tag: str(b.tag) ?? null, resourceLinkId: rlid ?? null, startDateTime: start, endDateTime: end,
      submissionType: ext ? { type: String(ext.type), ...(str(ext.external_tool_url) ? { external_tool_url: str(ext.external_tool_url) } : {}) } : null, createdAt: nowIso(),
    };
    d.lineItems.push(li);
    res.status(200).type(LINEITEM).send(JSON.stringify(lineItemJson(ctx, li)));
  });

  r.get('/api/lti/courses/:course_id/line_items/:id', read, (req, res) => {
    res.type(LINEITEM).send(JSON.stringify(lineItemJson(ctx, lineItemOf(req, res))));
  });

  r.put('/api/lti/courses/:course_id/line_items/:id', write, (req, res) => {
    const li = lineItemOf(req, res);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (b.scoreMaximum !== undefined && (typeof b.scoreMaximum !== 'number' || b.scoreMaximum < 0)) throw ltiError(400, 'bad_request', 'scoreMaximum must be a non-negative number');
    if (b.label !== undefined && (typeof b.label !== 'string' || b.label.trim() === '')) throw ltiError(400, 'bad_request', 'label must be a non-empty string');
    if (typeof b.label === 'string') li.label = b.label;
    if (typeof b.scoreMaximum === 'number') li.scoreMaximum = b.scoreMaximum;
    if (b.resourceId !== undefined) li.resourceId = str(b.resourceId) ?? null;
    if (b.tag !== undefined) li.tag = str(b.tag) ?? null;
    if (b.startDateTime !== undefined) li.startDateTime = optionalIso(b.startDateTime, 'startDateTime');
    if (b.endDateTime !== undefined) li.endDateTime = optionalIso(b.endDateTime, 'endDateTime');
    const a = d.assignment(li.assignmentId);
    if (li.primary && a) {
      // Canvas maps label→name, scoreMaximum→points_possible, start→unlock_at, end→due_at on the assignment.
      a.name = li.label;
      a.pointsPossible = li.scoreMaximum;
      a.unlockAt = li.startDateTime;
      a.dueAt = li.endDateTime;
      a.updatedAt = nowIso();
    }
    res.type(LINEITEM).send(JSON.stringify(lineItemJson(ctx, li)));
  });

  r.delete('/api/lti/courses/:course_id/line_items/:id', write, (req, res) => {
    const li = lineItemOf(req, res);
    // Deleting an assignment's primary line item deletes the assignment itself.
    if (li.primary) d.deleteAssignment(li.assignmentId);
    else d.lineItems = d.lineItems.filter((l) => l !== li);
    res.status(204).end();
  });

  r.post('/api/lti/courses/:course_id/line_items/:id/scores', guard([AGS_SCOPES.score]), (req, res) => {
    const li = lineItemOf(req, res);
    if (!req.is(SCORE)) throw ltiError(415, 'unsupported_media_type', `Content-Type must be ${SCORE}`);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const c = courseOf(req);
    const a = d.assignment(li.assignmentId) as Assignment;
    const userRef = str(b.userId);
    if (!userRef) throw ltiError(400, 'bad_request', 'userId is required');
    const user = d.users.find((u) => u.ltiId === userRef) ?? (/^\d+$/.test(userRef) ? d.user(userRef) : undefined);
    if (!user || !d.isStudent(c.id, user.id)) throw ltiError(422, 'unprocessable_entity', 'User not found in course or is not a student');
    const activity = str(b.activityProgress);
    const grading = str(b.gradingProgress);
    if (!activity || !ACTIVITY.includes(activity)) throw ltiError(400, 'bad_request', `activityProgress must be one of ${ACTIVITY.join(', ')}`);
    if (!grading || !GRADING.includes(grading)) throw ltiError(400, 'bad_request', `gradingProgress must be one of ${GRADING.join(', ')}`);
    const timestamp = str(b.timestamp);
    if (!timestamp || Number.isNaN(Date.parse(timestamp))) throw ltiError(400, 'bad_request', 'timestamp is required and must be ISO 8601');
    const prior = d.results.find((x) => x.lineItemId === li.id && x.userId === user.id);
    if (prior && Date.parse(timestamp) < Date.parse(prior.timestamp)) {
      throw ltiError(400, 'bad_request', `Provided timestamp of ${timestamp} before last updated timestamp of ${prior.timestamp}`);
    }
    const given = b.scoreGiven;
    const max = b.scoreMaximum;
    if (given !== undefined && given !== null) {
      if (typeof given !== 'number' || !Number.isFinite(given) || given < 0) throw ltiError(400, 'bad_request', 'scoreGiven must be a number >= 0');
      if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) throw ltiError(400, 'bad_request', 'scoreMaximum is required when scoreGiven is present');
      if (max === 0 && li.scoreMaximum !== 0) throw ltiError(400, 'bad_request', 'scoreMaximum must be greater than 0');
    }
    if (b.comment !== undefined && b.comment !== null && typeof b.comment !== 'string') throw ltiError(400, 'bad_request', 'comment must be a string');
    const ext = (typeof b[SUBMISSION_EXT] === 'object' && b[SUBMISSION_EXT] !== null ? b[SUBMISSION_EXT] : {}) as Record<string, unknown>;
    const submissionType = str(ext.submission_type) ?? 'external_tool';
    const newSubmission = typeof ext.new_submission === 'boolean' ? ext.new_submission : submissionType !== 'none';
    const sub = d.ensureSubmission(a.id, user.id);
    if (newSubmission) {
      if (a.allowedAttempts > 0 && sub.attempt >= a.allowedAttempts) throw ltiError(422, 'unprocessable_entity', 'The maximum number of allowed attempts has been reached for this submission');
      const submittedAt = str(ext.submitted_at) ?? str((b.submission as Record<string, unknown> | undefined)?.submittedAt) ?? nowIso();
      const kind = submissionType === 'external_tool' ? 'basic_lti_launch' : submissionType;
      const data = str(ext.submission_data);
      d.submit(a.id, user.id, {
        submissionType: kind, submittedAt,
        body: kind === 'online_text_entry' ? data : undefined,
        url: kind === 'online_url' || kind === 'basic_lti_launch' ? (data ?? a.externalTool?.url ?? lineItemUrl(ctx, li)) : undefined,
      });
    }
    if (grading === 'FullyGraded' || grading === 'PendingManual') {
      if (typeof given === 'number' && typeof max === 'number') {
        const scaled = max === 0 ? 0 : (given * li.scoreMaximum) / max;
        if (!(ext.preserve_score === true && sub.score !== null) && !(ext.prioritize_non_tool_grade === true && sub.graderId !== null && sub.graderId > 0)) d.grade(sub, scaled, null);
        if (grading === 'PendingManual') sub.workflowState = 'pending_review';
      } else if (sub.score !== null && ext.preserve_score !== true) {
        d.grade(sub, null, null);
      }
    }
    if (typeof b.comment === 'string' && b.comment.trim()) d.addComment(sub, null, b.comment);
    const result = prior ?? { id: sub.id, lineItemId: li.id, userId: user.id, resultScore: null, resultMaximum: null, comment: null, activityProgress: activity, gradingProgress: grading, timestamp, updatedAt: nowIso() };
    Object.assign(result, {
      resultScore: typeof given === 'number' ? given : result.resultScore, resultMaximum: typeof max === 'number' ? max : result.resultMaximum,
      comment: typeof b.comment === 'string' ? b.comment : result.comment, activityProgress: activity, gradingProgress: grading, timestamp, updatedAt: nowIso(),
    });
    if (!prior) d.results.push(result);
    res.type('application/json').json({ resultUrl: `${lineItemUrl(ctx, li)}/results/${sub.id}` });
  });

  const resultJson = (li: LineItem, subId: number): Record<string, unknown> | undefined => {
    const s = d.submissions.find((x) => x.id === subId);
    if (!s) return undefined;
    const stored = d.results.find((x) => x.lineItemId === li.id && x.userId === s.userId);
    if (s.score === null && !stored) return undefined;
    const u = d.user(s.userId);
    const out: Record<string, unknown> = { id: `${lineItemUrl(ctx, li)}/results/${s.id}`, scoreOf: lineItemUrl(ctx, li), userId: u?.ltiId };
    // The result reports the submission's current score on the line item's scale.
    if (s.score !== null) {
      out.resultScore = s.score;
      out.resultMaximum = li.scoreMaximum;
    }
    if (stored?.comment) out.comment = stored.comment;
    return out;
  };

  const results = guard([AGS_SCOPES.resultReadonly]);
  r.get('/api/lti/courses/:course_id/line_items/:id/results', results, (req, res) => {
    const li = lineItemOf(req, res);
    const userFilter = str((req.query as Record<string, unknown>).user_id);
    const subs = d.submissions.filter((s) => s.assignmentId === li.assignmentId && d.isStudent(li.courseId, s.userId));
    const filtered = userFilter ? subs.filter((s) => d.user(s.userId)?.ltiId === userFilter || String(s.userId) === userFilter) : subs;
    const all = filtered.map((s) => resultJson(li, s.id)).filter((x): x is Record<string, unknown> => x !== undefined);
    const page = paginate(req, res, ctx.cfg.baseUrl, all, { sizeParam: 'limit', defaultSize: 50, maxSize: 100 });
    res.type(RESULTS).send(JSON.stringify(page));
  });
  r.get('/api/lti/courses/:course_id/line_items/:id/results/:result_id', results, (req, res) => {
    const li = lineItemOf(req, res);
    const out = resultJson(li, Number(req.params.result_id));
    if (!out) throw ltiError(404, 'not_found', 'The specified result does not exist');
    res.type('application/vnd.ims.lis.v2.result+json').send(JSON.stringify(out));
  });
  return r;
}
