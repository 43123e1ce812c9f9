import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { checkDecision, cohensKappa, criterionPairs, exactAgreement, isBorderline, needsSecondReview, nextRound, scoreAgreement, unitHash, type Pair } from '../../src/review/rules';
import { contentDisposition, fileHeaders, htmlToText, safeHttpUrl, viewerKind } from '../../src/review/evidence';
import { feedbackComment, mapRubricAssessment } from '../../src/review/passback';
import { formToInput } from '../../src/review/model';
import { evaluate } from '../../src/catalog/rules';
import { rubricFromCanvas } from '../../src/catalog/commands/attach';

const pairs = (spec: [string, string, number][]): Pair[] => spec.flatMap(([a, b, n]) => Array.from({ length: n }, () => [a, b] as const));
const tl1 = loadStarterCatalog().credentials[0]!.definition;
const all = (level: string, over: Record<string, string> = {}) => ({ ...Object.fromEntries(tl1.rubric.criteria.map((c) => [c.id, level])), ...over });

describe('agreement', () => {
  it('computes Cohen’s kappa for the textbook example (50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no) as 0.4', () => {
    // p_o = (20 + 15) / 50 = 0.7; A says yes 25/50, B 30/50; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5) / (1 − 0.5) = 0.4
    const p = pairs([['yes', 'yes', 20], ['yes', 'no', 5], ['no', 'yes', 10], ['no', 'no', 15]]);
    expect(exactAgreement(p)).toBeCloseTo(0.7, 10);
    expect(cohensKappa(p)).toBeCloseTo(0.4, 10);
  });

  it('handles three rubric levels (a worked example: κ = 0.6)', () => {
    // 20 pairs. Diagonal: 6 + 5 + 4 = 15 → p_o = 0.75. A's margins 8/7/5, B's 7/8/5:
    // p_e = (8·7 + 7·8 + 5·5) / 400 = 137/400 = 0.3425 → κ = (0.75 − 0.3425) / 0.6575 = 0.6198
    const p = pairs([['meets', 'meets', 6], ['meets', 'approaching', 2], ['approaching', 'meets', 1], ['approaching', 'approaching', 5], ['approaching', 'not-yet', 1], ['not-yet', 'not-yet', 4], ['not-yet', 'approaching', 1]]);
    expect(p).toHaveLength(20);
    expect(exactAgreement(p)).toBeCloseTo(0.75, 10);
    expect(cohensKappa(p)).toBeCloseTo((0.75 - 137 / 400) / (1 - 137 / 400), 10);
  });

  it('is 1 for perfect agreement, 0 for chance, negative for systematic disagreement, null with nothing to compare', () => {
    expect(cohensKappa(pairs([['a', 'a', 3], ['b', 'b', 2]]))).toBe(1);
    expect(cohensKappa(pairs([['a', 'a', 1], ['a', 'b', 1], ['b', 'a', 1], ['b', 'b', 1]]))).toBeCloseTo(0, 10);
    expect(cohensKappa(pairs([['a', 'b', 2], ['b', 'a', 2]]))).toBeCloseTo(-1, 10);
    expect(cohensKappa([])).toBeNull();
    expect(exactAgreement([])).toBeNull();
    // Both always said the same single label: chance agreement is total; agreeing is still perfect.
    expect(cohensKappa(pairs([['a', 'a', 4]]))).toBe(1);
  });

  it('compares scores criterion by criterion', () => {
    expect(scoreAgreement(all('meets', { 'ferpa-cipa': 'exceeds' }), all('meets'))).toBe(0.75);
    expect(criterionPairs({ a: 'x', b: 'y' }, { a: 'x', c: 'z' })).toEqual([{ criterionId: 'a', pair: ['x', 'x'] }]);
  });
});

describe('second reviews', () => {
  it('calls a result borderline when one criterion one level away would change it', () => {
    expect(isBorderline(tl1.rubric, tl1.passingRule, all('meets'))).toBe(true); // one “meets” down to “approaching” fails
    expect(isBorderline(tl1.rubric, tl1.passingRule, all('exceeds'))).toBe(false);
    expect(isBorderline(tl1.rubric, tl1.passingRule, all('exceeds', { 'ferpa-cipa': 'approaching' }))).toBe(true); // one up passes
    expect(isBorderline(tl1.rubric, tl1.passingRule, all('not-yet'))).toBe(false);
    expect(isBorderline(tl1.rubric, tl1.passingRule, { 'ferpa-cipa': 'meets' })).toBe(false); // incomplete
    expect(isBorderline(tl1.rubric, { kind: 'total', threshold: 8 }, all('meets'))).toBe(true);
    expect(isBorderline(tl1.rubric, { kind: 'total', threshold: 8 }, all('exceeds'))).toBe(false);
  });

  it('asks for a second review for all, a stable random share, or borderline results', () => {
    expect(needsSecondReview({ mode: 'none', share: 1 }, 'x', true)).toBeNull();
    expect(needsSecondReview({ mode: 'all', share: 0 }, 'x', false)).toBe('all');
    expect(needsSecondReview({ mode: 'borderline', share: 0 }, 'x', true)).toBe('borderline');
    expect(needsSecondReview({ mode: 'borderline', share: 1 }, 'x', false)).toBeNull();
    const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const picked = ids.filter((id) => needsSecondReview({ mode: 'random', share: 0.25 }, id, false) === 'random').length;
    expect(picked / ids.length).toBeGreaterThan(0.2);
    expect(picked / ids.length).toBeLessThan(0.3);
    expect(unitHash('same')).toBe(unitHash('same'));
  });

  it('goes to a third reviewer only when the first two disagree', () => {
    expect(nextRound(1, ['award'], null)).toEqual({ done: true });
    expect(nextRound(1, ['award'], 'all')).toEqual({ done: false, round: 2 });
    expect(nextRound(2, ['award', 'award'], 'all')).toEqual({ done: true });
    expect(nextRound(2, ['award', 'not_yet'], 'all')).toEqual({ done: false, round: 3 });
    expect(nextRound(3, ['award', 'not_yet', 'not_yet'], 'all')).toEqual({ done: true });
  });

  it('needs a comment to decide against the computed result', () => {
    const passing = evaluate(tl1.rubric, tl1.passingRule, all('meets'));
    const failing = evaluate(tl1.rubric, tl1.passingRule, all('meets', { 'ferpa-cipa': 'approaching' }));
    expect(checkDecision(passing, 'award', undefined)).toEqual({ override: false });
    expect(checkDecision(failing, 'award', '  ').problem).toMatch(/Say why you award it anyway/);
    expect(checkDecision(failing, 'award', 'The FERPA part was covered in the live session.')).toEqual({ override: true });
    expect(checkDecision(passing, 'not_yet', undefined).problem).toMatch(/why it is “not yet” anyway/);
  });
});

describe('evidence safety', () => {
  it('turns Canvas HTML into plain text without keeping any markup', () => {
    const html = '<p>Hello <b>class</b></p><script>alert(1)</script><p>Line&nbsp;two &lt;script&gt;x&lt;/script&gt;</p><ul><li>one</li><li>two</li></ul><img src=x onerror=alert(2)>';
    const text = htmlToText(html);
    expect(text).toBe('Hello class\n\nLine two <script>x</script>\n\n• one\n• two');
    expect(text).not.toContain('alert(1)');
    expect(text).not.toContain('onerror');
  });

  it('serves only viewer-safe types inline; everything else downloads as octet-stream, with nosniff and a sandbox', () => {
    expect(viewerKind('application/pdf')).toBe('pdf');
    expect(viewerKind('IMAGE/PNG; charset=x')).toBe('image');
    expect(viewerKind('image/svg+xml')).toBe('download');
    expect(viewerKind('text/html')).toBe('download');
    const svg = fileHeaders({ contentType: 'image/svg+xml', filename: 'x.svg', size: 10 }, false);
    expect(svg).toMatchObject({ 'Content-Type': 'application/octet-stream', 'X-Content-Type-Options': 'nosniff' });
    expect(svg['Content-Disposition']).toMatch(/^attachment;/);
    expect(svg['Content-Security-Policy']).toContain('sandbox');
    expect(fileHeaders({ contentType: 'application/pdf', filename: 'a.pdf', size: 1 }, false)['Content-Disposition']).toMatch(/^inline;/);
    expect(fileHeaders({ contentType: 'application/pdf', filename: 'a.pdf', size: 1 }, true)['Content-Disposition']).toMatch(/^attachment;/);
  });

  it('quotes file names safely in Content-Disposition', () => {
    expect(contentDisposition('attachment', 'a"b\\c;.pdf')).toBe(`attachment; filename="a_b_c_.pdf"; filename*=UTF-8''a%22b%5Cc%3B.pdf`);
    expect(contentDisposition('inline', 'résumé (1).pdf')).toBe(`inline; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`);
  });

  it('links only web addresses', () => {
    expect(safeHttpUrl('https://example.org/x')).toBe('https://example.org/x');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('data:text/html,<b>')).toBeNull();
  });
});

describe('passback to Canvas', () => {
  const canvasRubric = [
    { id: '_10', description: 'Digital citizenship lesson', points: 4, ratings: [{ id: 'name_2', description: 'Exemplary', points: 4 }, { id: 'name_3', description: 'Proficient', points: 3 }, { id: 'name_4', description: 'Not yet', points: 0 }] },
    { id: '_11', description: 'FERPA and CIPA in practice', points: 2, ratings: [{ id: 'name_5', description: 'Meets', points: 2 }, { id: 'name_6', description: 'Not yet', points: 0 }] },
  ];

  it('maps an imported rubric by id', () => {
    const rubric = rubricFromCanvas(canvasRubric);
    expect(mapRubricAssessment(rubric, canvasRubric, { _10: 'name_4', _11: 'name_5' }, { _10: 'Add student reflections.' })).toEqual({
      _10: { points: 0, ratingId: 'name_4', comments: 'Add student reflections.' },
      _11: { points: 2, ratingId: 'name_5' },
    });
  });

  it('maps a rubric written in microcred by criterion title and level name', () => {
    const mapped = mapRubricAssessment(tl1.rubric, canvasRubric, all('meets', { 'digital-citizenship': 'not-yet' }), {});
    expect(mapped).toEqual({ _10: { points: 0, ratingId: 'name_4' }, _11: { points: 2, ratingId: 'name_5' } });
  });

  it('writes a comment with each criterion', () => {
    const text = feedbackComment('Tech Leader I', 2, { decision: 'not_yet', decidedAt: null, feedback: 'Close!', criteria: [{ id: 'a', title: 'Lesson', level: 'Approaching', points: 1, met: false, comment: 'Add exit tickets.' }] });
    expect(text).toBe('Not yet: Tech Leader I (attempt 2)\n\nClose!\n\n• Lesson: Approaching (below the passing level) — Add exit tickets.\n\nRevise your evidence and submit the assignment again: your next attempt goes back to review.');
  });
});

describe('the form without JavaScript', () => {
  it('reads score-* and comment-* fields', () => {
    expect(formToInput({ _csrf: 'x', 'score-a': 'meets', 'score-b': '', 'comment-a': 'Good', feedback: 'Well done', decision: 'award', overrideComment: '' })).toEqual({ scores: { a: 'meets' }, comments: { a: 'Good' }, feedback: 'Well done', decision: 'award', overrideComment: '' });
    expect(formToInput({ decision: 'draft' })).toEqual({ scores: {}, comments: {}, feedback: '' });
  });
});
