/**
 * CSV as RFC 4180 says (CRLF lines; a field with a comma, quote or line break is quoted, quotes doubled), and
 * safe to open in a spreadsheet: a text cell that starts with = + - @ (or a tab or carriage return, which some
 * spreadsheets skip before a formula) gets a leading apostrophe, so it is shown as text, never run as a formula
 * (OWASP “CSV injection”). Numbers are written as numbers: a negative number is a value, not a formula.
 */

export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole document: a header row, then the rows. Starts with a UTF-8 byte order mark so Excel reads accents right. */
export function toCsv(header: string[], rows: CsvCell[][]): string {
  return '\uFEFF' + [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
