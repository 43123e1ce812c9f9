import { availableMembers, ceus, editPlan, evaluate, findCycle, isStackEarned, maxPoints, slugify, validateRubric, validateStack } from '../../src/catalog/rules';
import { checkImage, generatedBadgeSvg, readPng, sanitizeSvg } from '../../src/catalog/images';
import { AchievementInputSchema, fromAchievement, toAchievement } from '../../src/catalog/ob3';
import { CredentialDefinitionSchema, type Rubric } from '../../src/catalog/model';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { InvalidInputError } from '../../src/web/errors';
import { png, techLeaderI } from './support';

const rubric: Rubric = {
  criteria: [
    { id: 'lesson', title: 'Lesson', description: '', requiredLevelId: 'meets', levels: [{ id: 'exceeds', name: 'Exceeds', points: 3, descriptor: '' }, { id: 'meets', name: 'Meets', points: 2, descriptor: '' }, { id: 'not-yet', name: 'Not yet', points: 0, descriptor: '' }] },
    { id: 'ferpa', title: 'FERPA', description: '', requiredLevelId: 'yes', levels: [{ id: 'yes', name: 'Meets', points: 2, descriptor: '' }, { id: 'no', name: 'Not yet', points: 0, descriptor: '' }] },
  ],
};

describe('rubric rules', () => {
  it('accepts a rubric whose criteria each have a passing level', () => {
    expect(validateRubric(rubric, { kind: 'every_criterion' })).toEqual({});
    expect(maxPoints(rubric)).toBe(5);
  });

  it('refuses a rubric without criteria, without a passing level, or with repeated ids', () => {
    expect(validateRubric({ criteria: [] }, { kind: 'every_criterion' })).toEqual({ 'rubric.criteria': 'Add at least one criterion to the rubric.' });
    const noPassing = { criteria: [{ ...rubric.criteria[0]!, requiredLevelId: undefined }] };
    expect(validateRubric(noPassing, { kind: 'every_criterion' })['rubric.criteria.0.requiredLevelId']).toMatch(/passing level/);
    const unknownPassing = { criteria: [{ ...rubric.criteria[0]!, requiredLevelId: 'great' }] };
    expect(validateRubric(unknownPassing, { kind: 'every_criterion' })['rubric.criteria.0.requiredLevelId']).toMatch(/not one of its levels/);
    const twice = { criteria: [rubric.criteria[0]!, rubric.criteria[0]!] };
    expect(validateRubric(twice, { kind: 'every_criterion' })['rubric.criteria.1.id']).toMatch(/share the id/);
  });

  it('needs a total threshold within the rubric’s points', () => {
    expect(validateRubric(rubric, { kind: 'total', threshold: 4 })).toEqual({});
    expect(validateRubric(rubric, { kind: 'total', threshold: 6 })['passingRule.threshold']).toMatch(/at most the rubric’s 5 points/);
    expect(validateRubric(rubric, { kind: 'total', threshold: 0 })['passingRule.threshold']).toBeDefined();
  });

  it('passes when every criterion reaches its required level', () => {
    const r = evaluate(rubric, { kind: 'every_criterion' }, { lesson: 'meets', ferpa: 'yes' });
    expect(r).toEqual({
      passed: true, complete: true, total: 4, maxTotal: 5,
      perCriterion: [{ criterionId: 'lesson', levelId: 'meets', points: 2, met: true }, { criterionId: 'ferpa', levelId: 'yes', points: 2, met: true }],
    });
    expect(evaluate(rubric, { kind: 'every_criterion' }, { lesson: 'exceeds', ferpa: 'no' }).passed).toBe(false);
  });

  it('passes on a total only when the total reaches the threshold, and never when a criterion is unscored', () => {
    expect(evaluate(rubric, { kind: 'total', threshold: 3 }, { lesson: 'exceeds', ferpa: 'no' })).toMatchObject({ passed: true, total: 3 });
    expect(evaluate(rubric, { kind: 'total', threshold: 4 }, { lesson: 'exceeds', ferpa: 'no' }).passed).toBe(false);
    expect(evaluate(rubric, { kind: 'total', threshold: 3 }, { lesson: 'exceeds' })).toMatchObject({ passed: false, complete: false, total: 3 });
  });

  it('refuses scores for criteria or levels the rubric does not have', () => {
    expect(() => evaluate(rubric, { kind: 'every_criterion' }, { lesson: 'meets', nope: 'x' })).toThrow(InvalidInputError);
    expect(() => evaluate(rubric, { kind: 'every_criterion' }, { lesson: 'superb' })).toThrow(/not a level of “Lesson”/);
  });
});

describe('hours and CEUs', () => {
  it.each([[0, 0], [6, 0.6], [15, 1.5], [6.5, 0.7], [12.24, 1.2], [100, 10]])('%d hours are %d CEUs', (hours, expected) => {
    expect(ceus(hours)).toBe(expected);
  });
});

describe('versions', () => {
  it('edits drafts in place, gives published credentials a new version, refuses retired ones', () => {
    expect(editPlan('draft', false)).toBe('edit_current');
    expect(editPlan('published', false)).toBe('new_version');
    expect(editPlan('published', true)).toBe('edit_pending_draft');
    expect(editPlan('retired', false)).toBe('refuse');
  });
});

describe('stack rules', () => {
  const ordered = { kind: 'ordered' as const, requiredCount: null, members: [{ credentialId: 'i', prerequisiteIds: [] }, { credentialId: 'ii', prerequisiteIds: [] }, { credentialId: 'iii', prerequisiteIds: [] }] };
  const nOfM = { kind: 'n_of_m' as const, requiredCount: 2, members: [{ credentialId: 'a', prerequisiteIds: [] }, { credentialId: 'b', prerequisiteIds: ['a'] }, { credentialId: 'c', prerequisiteIds: [] }] };

  it('earns an ordered stack with every member, an N-of-M stack with any N', () => {
    expect(isStackEarned(ordered, ['i', 'ii'])).toBe(false);
    expect(isStackEarned(ordered, ['iii', 'i', 'ii', 'other'])).toBe(true);
    expect(isStackEarned(nOfM, ['a'])).toBe(false);
    expect(isStackEarned(nOfM, ['a', 'c'])).toBe(true);
    expect(isStackEarned({ ...nOfM, members: [] }, [])).toBe(false);
  });

  it('opens members in order: each ordered member after the one before, N-of-M members after their prerequisites', () => {
    expect(availableMembers(ordered, [])).toEqual(['i']);
    expect(availableMembers(ordered, ['i'])).toEqual(['ii']);
    expect(availableMembers(nOfM, [])).toEqual(['a', 'c']);
    expect(availableMembers(nOfM, ['a'])).toEqual(['b', 'c']);
  });

  it('refuses an empty stack, a stack that contains itself and an N outside 1..M', () => {
    expect(validateStack({ ...ordered, members: [] })).toEqual({ members: 'Add at least one micro-credential to the stack.' });
    const selfish = { ...nOfM, members: [{ credentialId: 'a', prerequisiteIds: ['a'] }, { credentialId: 'b', prerequisiteIds: [] }] };
    expect(validateStack(selfish, { a: 'Tech Leader I' })['members.0.prerequisiteIds']).toBe('A stack cannot contain itself: “Tech Leader I” cannot be its own prerequisite.');
    const cycle = { ...nOfM, members: [{ credentialId: 'a', prerequisiteIds: ['c'] }, { credentialId: 'b', prerequisiteIds: ['a'] }, { credentialId: 'c', prerequisiteIds: ['b'] }] };
    expect(findCycle(cycle)).toEqual(['a', 'c', 'b', 'a']);
    expect(validateStack(cycle, { a: 'I', b: 'II', c: 'III' })['members.0.prerequisiteIds']).toBe('A stack cannot contain itself: “I” requires “III” requires “II” requires “I”.');
    // An ordered stack whose first member requires the last one loops back on itself, too.
    expect(Object.values(validateStack({ ...ordered, members: [{ credentialId: 'i', prerequisiteIds: ['iii'] }, ...ordered.members.slice(1)] }))[0]).toMatch(/cannot contain itself/);
    expect(validateStack({ ...nOfM, requiredCount: 4 }).requiredCount).toMatch(/1 to 3/);
    expect(validateStack({ ...nOfM, members: [nOfM.members[0]!, nOfM.members[0]!] })['members.1.credentialId']).toMatch(/twice/);
    expect(validateStack({ ...nOfM, members: [{ credentialId: 'a', prerequisiteIds: ['z'] }] })['members.0.prerequisiteIds']).toMatch(/not a member/);
  });

  it('makes keys from names', () => {
    expect(slugify('Tech Leader I')).toBe('tech-leader-i');
    expect(slugify('  Éducation numérique & FERPA!  ')).toBe('education-numerique-ferpa');
    expect(slugify('***')).toBe('micro-credential');
  });
});

describe('badge images', () => {
  it('reads a real PNG and refuses text renamed to .png, a bad checksum and a truncated file', () => {
    expect(readPng(png(3, 2))).toEqual({ width: 3, height: 2 });
    expect(() => checkImage('image/png', Buffer.from('hello, I am a text file named badge.png'))).toThrow(/not a PNG/);
    const bad = png();
    bad[bad.length - 20] = bad[bad.length - 20]! ^ 0xff;
    expect(() => readPng(bad)).toThrow(InvalidInputError);
    expect(() => readPng(png().subarray(0, 40))).toThrow(InvalidInputError);
    expect(() => checkImage('image/png', Buffer.alloc(1024 * 1024 + 1))).toThrow(/too large/);
  });

  it('keeps a clean SVG and removes scripts, event handlers, external references and foreign objects', () => {
    const dirty = `<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 80" onload="alert(1)">
  <!-- a comment --><script>alert('x')</script>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
  <a href="javascript:alert(2)"><circle r="4"/></a>
  <rect width="10" height="10" fill="url(#g)" onclick="steal()" style="fill:url(https://evil.example/x)"/>
  <use xlink:href="https://evil.example/sprite.svg#icon"/><use href="#g"/>
  <foreignObject><iframe src="https://evil.example"/></foreignObject>
  <image href="https://evil.example/track.png"/>
  <text x="5" y="5">Tech &amp; Leader &lt;I&gt;</text>
</svg>`;
    const out = sanitizeSvg(Buffer.from(dirty));
    expect(out.svg).not.toMatch(/script|onload|onclick|javascript|evil|foreignObject|iframe|<image|<a /i);
    expect(out.svg).toContain('<rect width="10" height="10" fill="url(#g)"/>');
    expect(out.svg).toContain('<use href="#g"/>');
    expect(out.svg).toContain('Tech &amp; Leader &lt;I&gt;');
    expect(out.removed).toEqual(expect.arrayContaining(['element <script>', 'attribute onload (script)', 'attribute onclick (script)', 'element <foreignObject>', 'element <image>', 'element <a>', 'attribute style', 'attribute xlink:href']));
    expect(out).toMatchObject({ width: 100, height: 80 });
    // Sanitizing what we wrote changes nothing: the same image keeps the same hash.
    expect(sanitizeSvg(Buffer.from(out.svg)).svg).toBe(out.svg);
  });

  it('refuses files that are not SVG: other XML, entity definitions, broken markup, binary', () => {
    expect(() => sanitizeSvg(Buffer.from('<html><body>hi</body></html>'))).toThrow(/root element is not <svg>/);
    expect(() => sanitizeSvg(Buffer.from('<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>'))).toThrow(/entities/);
    expect(() => sanitizeSvg(Buffer.from('<svg><g></svg>'))).toThrow(InvalidInputError);
    expect(() => sanitizeSvg(Buffer.from('just some text'))).toThrow(InvalidInputError);
    expect(() => sanitizeSvg(png())).toThrow(InvalidInputError);
  });

  it('draws a generated badge with the name and level escaped', () => {
    const svg = generatedBadgeSvg({ name: 'Tech <Leader> & "I"', level: 'Level I', color: '#0374B5' });
    expect(svg).toContain('Tech &lt;Leader&gt; &amp;');
    expect(svg).toContain('Level I');
    expect(svg).not.toContain('<Leader>');
    // What we draw passes our own sanitizer unchanged.
    expect(sanitizeSvg(Buffer.from(svg)).removed).toEqual([]);
  });
});

describe('Open Badges 3.0 Achievement', () => {
  it('maps a definition to an Achievement and back without losing anything', () => {
    const def = techLeaderI();
    const a = toAchievement(def, { id: 'https://microcred.example/achievements/v1', key: 'tech-leader-i', version: 1, imageDataUri: 'data:image/svg+xml;base64,PHN2Zy8+' });
    expect(a).toMatchObject({
      type: ['Achievement'], name: 'Tech Leader I', achievementType: 'MicroCredential', creditsAvailable: 1.5, criteria: { narrative: def.criteriaNarrative },
      image: { id: 'data:image/svg+xml;base64,PHN2Zy8+', type: 'Image' },
    });
    expect(a.alignment![0]).toEqual({ type: ['Alignment'], targetName: def.alignments[0]!.name, targetUrl: 'https://iste.org/standards/educators', targetCode: 'ISTE 2.3.a', targetFramework: 'ISTE Standards for Educators' });
    expect(a.resultDescription![0]).toMatchObject({ type: ['ResultDescription'], resultType: 'RubricCriterionLevel', name: 'Digital citizenship lesson', requiredLevel: 'https://microcred.example/achievements/v1/criteria/digital-citizenship/levels/meets' });
    expect(a.resultDescription![0]!.rubricCriterionLevel[0]).toMatchObject({ type: ['RubricCriterionLevel'], name: 'Exceeds', points: '3' });
    const back = CredentialDefinitionSchema.parse(fromAchievement(AchievementInputSchema.parse(JSON.parse(JSON.stringify(a))), null));
    expect(back).toEqual(def);
  });

  it('imports an Achievement from elsewhere (no extension) with sensible defaults', () => {
    const foreign = {
      id: 'https://other.example/a/1', type: 'Achievement', name: 'Data Literacy', description: 'Uses student data to plan instruction.', criteria: { narrative: 'Submit a data-driven plan.' },
      creditsAvailable: 0.5,
      resultDescription: [{ id: 'https://other.example/rd/1', name: 'Plan', resultType: 'RubricCriterionLevel', rubricCriterionLevel: [{ id: 'https://other.example/l/a', name: 'Strong', points: '2' }, { id: 'https://other.example/l/b', name: 'Weak', points: '0' }] }],
    };
    const def = CredentialDefinitionSchema.parse(fromAchievement(AchievementInputSchema.parse(foreign), null));
    expect(def).toMatchObject({ name: 'Data Literacy', competency: 'Uses student data to plan instruction.', hours: 5, passingRule: { kind: 'every_criterion' }, image: { kind: 'generated' } });
    expect(def.rubric.criteria[0]).toMatchObject({ id: '1', title: 'Plan', requiredLevelId: 'a' });
  });
});

describe('starter catalog', () => {
  it('holds Tech Leader I, II and III with valid rubrics, real alignments and the 6 face-to-face hours', () => {
    const cat = loadStarterCatalog();
    expect(cat.credentials.map((c) => c.definition.name)).toEqual(['Tech Leader I', 'Tech Leader II', 'Tech Leader III']);
    for (const c of cat.credentials) {
      expect(c.definition.rubric.criteria.length).toBeGreaterThanOrEqual(3);
      expect(c.definition.rubric.criteria.every((k) => k.levels.map((l) => l.name).join() === 'Exceeds,Meets,Approaching,Not yet')).toBe(true);
      expect(c.definition.alignments.some((a) => /^ISTE 2\.\d\.[a-g]$/.test(a.code ?? ''))).toBe(true);
      expect(c.definition.alignments.some((a) => a.framework === 'North Carolina Professional Teaching Standards')).toBe(true);
      expect(c.definition.evidencePrompts.length).toBeGreaterThan(0);
    }
    expect(cat.credentials[0]!.definition.keyMethod).toMatch(/Six hours of face-to-face training/);
    expect(cat.credentials[0]!.definition.criteriaNarrative).toMatch(/FERPA and CIPA/);
    expect(cat.stacks[0]).toMatchObject({ kind: 'ordered', members: ['tech-leader-i', 'tech-leader-ii', 'tech-leader-iii'] });
  });
});
