/**
 * License-renewal cycles: a district renews licenses every `years` years from an anchor date (North Carolina: 5
 * years from July 1). Pure functions over calendar dates (`YYYY-MM-DD`), so a ledger entry's day never shifts
 * with a time zone.
 */

export interface CycleConfig {
  years: number;
  /** The first day of some cycle (the others follow every `years`). */
  anchor: string;
}

export const DEFAULT_CYCLE: CycleConfig = { years: 5, anchor: '2025-07-01' };

export interface Cycle {
  /** First day (inclusive). */
  start: string;
  /** Last day (inclusive). */
  end: string;
  label: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The anchor moved by whole years; Feb 29 falls on Mar 1 in a common year, as `Date.UTC` rolls it. */
function addYears(date: string, years: number): string {
  const m = DAY.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]) + years, Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10);
}

function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** 2025-07-01 → “July 1, 2025”. */
export function longDate(date: string): string {
  const m = DAY.exec(date);
  if (!m) return date;
  return `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])}, ${m[1]}`;
}

/** The cycle a day falls in. */
export function cycleOf(date: string, cfg: CycleConfig = DEFAULT_CYCLE): Cycle {
  const years = Math.max(1, Math.floor(cfg.years));
  const dy = Number(date.slice(0, 4)) - Number(cfg.anchor.slice(0, 4));
  let k = Math.floor(dy / years);
  // The year difference is a first guess: step back or forward until start ≤ date < next start.
  while (addYears(cfg.anchor, k * years) > date) k--;
  while (addYears(cfg.anchor, (k + 1) * years) <= date) k++;
  const start = addYears(cfg.anchor, k * years);
  const end = dayBefore(addYears(cfg.anchor, (k + 1) * years));
  return { start, end, label: `${longDate(start)} – ${longDate(end)}` };
}

export interface LedgerEntry {
  id: string;
  title: string;
  kind: 'earned' | 'reversed';
  hours: number;
  ceus: number;
  earnedOn: string;
  /** The credential's public page (its verification URL), when there is one. */
  verifyUrl: string | null;
}

export interface CycleGroup<E extends LedgerEntry = LedgerEntry> extends Cycle {
  current: boolean;
  entries: E[];
  totalHours: number;
  totalCeus: number;
}

/** Sums without floating-point dust: hours to hundredths, CEUs to thousandths (the ledger's own precision). */
export const roundTo = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

/**
 * The ledger by renewal cycle, newest cycle first, entries in date order. A reversed entry (a revoked award)
 * carries negative hours, so totals are what still counts.
 */
export function groupByCycle<E extends LedgerEntry>(entries: E[], cfg: CycleConfig = DEFAULT_CYCLE, today = new Date().toISOString().slice(0, 10)): CycleGroup<E>[] {
  const groups = new Map<string, CycleGroup<E>>();
  const current = cycleOf(today, cfg).start;
  for (const e of [...entries].sort((a, b) => a.earnedOn.localeCompare(b.earnedOn) || a.title.localeCompare(b.title))) {
    const c = cycleOf(e.earnedOn, cfg);
    let g = groups.get(c.start);
    if (!g) groups.set(c.start, (g = { ...c, current: c.start === current, entries: [], totalHours: 0, totalCeus: 0 }));
    g.entries.push(e);
    g.totalHours = roundTo(g.totalHours + e.hours, 2);
    g.totalCeus = roundTo(g.totalCeus + e.ceus, 3);
  }
  return [...groups.values()].sort((a, b) => b.start.localeCompare(a.start));
}
