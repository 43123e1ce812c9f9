import { InvalidInputError } from '../web/errors';

/** A report's period: calendar days, both inclusive. */
export interface DateRange {
  from: string;
  to: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_YEARS = 20;

/** A real calendar day in YYYY-MM-DD (2025-02-30 is not one). */
export function isCalendarDay(s: string): boolean {
  if (!DAY.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Reads `from` and `to` from a query. Missing ones take the defaults; a bad one is a 400 that says which field
 * and why, in words a district admin understands.
 */
export function parseDateRange(query: Record<string, unknown>, defaults: DateRange): DateRange {
  const fields: Record<string, string> = {};
  const read = (name: 'from' | 'to'): string => {
    const raw = query[name];
    if (raw === undefined || raw === '') return defaults[name];
    if (typeof raw !== 'string' || !isCalendarDay(raw.trim())) {
      fields[name] = `“${typeof raw === 'string' ? raw.slice(0, 40) : 'this'}” is not a date: use YYYY-MM-DD, such as 2025-07-01.`;
      return defaults[name];
    }
    return raw.trim();
  };
  const range = { from: read('from'), to: read('to') };
  if (!Object.keys(fields).length) {
    if (range.from > range.to) fields.to = 'The end date comes before the start date.';
    else if (Number(range.to.slice(0, 4)) - Number(range.from.slice(0, 4)) > MAX_YEARS) fields.from = `Choose a period of at most ${MAX_YEARS} years.`;
  }
  if (Object.keys(fields).length) throw new InvalidInputError('The report’s dates are not valid.', fields, 'Dates are written YYYY-MM-DD; the period includes both days.');
  return range;
}
