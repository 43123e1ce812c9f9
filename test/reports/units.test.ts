import { csvCell, toCsv } from '../../src/reports/csv';
import { median, percentile } from '../../src/reports/stats';
import { parseDateRange, isCalendarDay } from '../../src/reports/dateRange';
import { cycleOf, groupByCycle, longDate } from '../../src/portfolio/cycles';
import { linkedInAddUrl } from '../../src/portfolio/linkedin';
import { InvalidInputError } from '../../src/web/errors';

describe('CSV', () => {
  it('quotes fields with commas, quotes and line breaks (RFC 4180), and leaves plain ones alone', () => {
    expect(csvCell('Northside Middle')).toBe('Northside Middle');
    expect(csvCell('Eastside, "Upper" Campus')).toBe('"Eastside, ""Upper"" Campus"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(' padded ')).toBe('" padded "');
    expect(csvCell(null)).toBe('');
    expect(csvCell(1.5)).toBe('1.5');
  });

  it('neutralises spreadsheet formulas: text starting with = + - @ (or tab, CR) gets a leading apostrophe; numbers stay numbers', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","click")')).toBe(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csvCell('+1 555 0100')).toBe("'+1 555 0100");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1:A9)')).toBe("'@SUM(A1:A9)");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell('Grace = kind')).toBe('Grace = kind');
  });

  it('writes a document: BOM, header, CRLF rows', () => {
    expect(toCsv(['A', 'B'], [['x', 1], ['=y', null]])).toBe('\uFEFFA,B\r\nx,1\r\n\'=y,\r\n');
  });
});

describe('statistics', () => {
  it('median: the middle value or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([10, 2, 4])).toBe(4);
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });
  it('90th percentile by nearest rank', () => {
    expect(percentile([], 90)).toBeNull();
    expect(percentile([2, 4, 10], 90)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
  });
});

describe('date ranges', () => {
  const defaults = { from: '2025-07-01', to: '2026-01-15' };
  const fieldsOf = (q: Record<string, unknown>) => {
    try {
      parseDateRange(q, defaults);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      return (e as InvalidInputError).fields;
    }
    throw new Error('no error');
  };
  it('takes defaults for missing dates and accepts real calendar days', () => {
    expect(parseDateRange({}, defaults)).toEqual(defaults);
    expect(parseDateRange({ from: '2024-02-29', to: '' }, defaults)).toEqual({ from: '2024-02-29', to: '2026-01-15' });
  });
  it('refuses what is not a date, an end before the start, and absurd periods, naming the field', () => {
    expect(isCalendarDay('2025-02-30')).toBe(false);
    expect(Object.keys(fieldsOf({ from: '2025-02-30' }))).toEqual(['from']);
    expect(Object.keys(fieldsOf({ to: '07/01/2025' }))).toEqual(['to']);
    expect(Object.keys(fieldsOf({ from: ['2025-01-01', '2025-02-01'] }))).toEqual(['from']);
    expect(fieldsOf({ from: '2026-02-01', to: '2026-01-01' })).toEqual({ to: 'The end date comes before the start date.' });
    expect(Object.keys(fieldsOf({ from: '1900-01-01', to: '2026-01-01' }))).toEqual(['from']);
  });
});

describe('renewal cycles', () => {
  it('finds the cycle of a day: 5 years from July 1, 2025 by default, before and after the anchor', () => {
    expect(cycleOf('2025-07-01')).toMatchObject({ start: '2025-07-01', end: '2030-06-30' });
    expect(cycleOf('2030-06-30')).toMatchObject({ start: '2025-07-01', end: '2030-06-30' });
    expect(cycleOf('2030-07-01')).toMatchObject({ start: '2030-07-01', end: '2035-06-30' });
    expect(cycleOf('2025-06-30')).toMatchObject({ start: '2020-07-01', end: '2025-06-30', label: 'July 1, 2020 – June 30, 2025' });
    expect(cycleOf('2019-01-01', { years: 3, anchor: '2024-01-01' })).toMatchObject({ start: '2018-01-01', end: '2020-12-31' });
    expect(longDate('2026-11-02')).toBe('November 2, 2026');
  });
  it('groups entries newest cycle first with exact totals (reversals subtract)', () => {
    const e = (earnedOn: string, hours: number, kind: 'earned' | 'reversed' = 'earned') => ({ id: earnedOn + hours, title: 'T', kind, hours, ceus: Math.round(hours) / 10, earnedOn, verifyUrl: null });
    const groups = groupByCycle([e('2025-08-01', 15), e('2024-01-01', 6.5), e('2026-01-01', 0.1), e('2026-02-01', -15, 'reversed'), e('2025-09-01', 0.2)], undefined, '2026-03-01');
    expect(groups.map((g) => [g.start, g.current, g.totalHours, g.totalCeus, g.entries.length])).toEqual([
      ['2025-07-01', true, 0.3, 0, 4],
      ['2020-07-01', false, 6.5, 0.7, 1],
    ]);
  });
});

describe('LinkedIn', () => {
  it('builds the add-to-profile URL with the certification fields, expiry when there is one', () => {
    const u = new URL(linkedInAddUrl({ name: 'Tech Leader I & II', organizationName: 'Queen City Public Schools', issued: new Date('2026-03-05T12:00:00Z'), expires: new Date('2028-03-05T12:00:00Z'), certUrl: 'https://mc.example/credentials/1', certId: '1' }));
    expect(u.origin + u.pathname).toBe('https://www.linkedin.com/profile/add');
    expect(Object.fromEntries(u.searchParams)).toEqual({ startTask: 'CERTIFICATION_NAME', name: 'Tech Leader I & II', organizationName: 'Queen City Public Schools', issueYear: '2026', issueMonth: '3', expirationYear: '2028', expirationMonth: '3', certUrl: 'https://mc.example/credentials/1', certId: '1' });
  });
});
