/**
 * Pure calendar arithmetic for the birthday greeting. Dates are plain {year, month, day} triples in the
 * proleptic Gregorian calendar; nothing here reads the clock, so every rule can be tested with a fixed
 * "today".
 */
export interface CalendarDate {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number; // 1-31
}

export type DateOfBirthResult = { ok: true; date: CalendarDate } | { ok: false; reason: string };

// ASCII digits only: \d would also be ASCII here, but [0-9] states the intent.
const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 (H. Hinnant's days_from_civil). Integer-only, so it is exact for year 1 too,
 * where Date.UTC would map two-digit years into the 1900s.
 */
export function toDayNumber({ year, month, day }: CalendarDate): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** The current UTC calendar date of an instant. */
export function utcDate(instant: Date): CalendarDate {
  return { year: instant.getUTCFullYear(), month: instant.getUTCMonth() + 1, day: instant.getUTCDate() };
}

export function formatDate({ year, month, day }: CalendarDate): string {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Strict YYYY-MM-DD parsing: a real calendar date in year 0001 or later; no time, zone or padding. */
export function parseIsoDate(value: unknown): DateOfBirthResult {
  if (typeof value !== 'string') {
    return { ok: false, reason: 'dateOfBirth must be a string in the form YYYY-MM-DD.' };
  }
  const match = ISO_DATE.exec(value);
  if (!match) return { ok: false, reason: 'dateOfBirth must be a date in the form YYYY-MM-DD.' };
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (date.year < 1) return { ok: false, reason: 'dateOfBirth must be in year 0001 or later.' };
  if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > daysInMonth(date.year, date.month)) {
    return { ok: false, reason: 'dateOfBirth is not a real calendar date.' };
  }
  return { ok: true, date };
}

/** A date of birth as accepted on PUT: a valid ISO date strictly before today. */
export function parseDateOfBirth(value: unknown, today: CalendarDate): DateOfBirthResult {
  const parsed = parseIsoDate(value);
  if (parsed.ok && compareDates(parsed.date, today) >= 0) {
    return { ok: false, reason: 'dateOfBirth must be a date before today (UTC).' };
  }
  return parsed;
}

/** The date a birthday falls on in a given year: 29 February becomes 28 February in common years. */
export function birthdayInYear(dob: CalendarDate, year: number): CalendarDate {
  const day = dob.month === 2 && dob.day === 29 && !isLeapYear(year) ? 28 : dob.day;
  return { year, month: dob.month, day };
}

/** Whole days from today to the next birthday: 0 on the birthday itself, otherwise 1 to 365. */
export function daysUntilBirthday(dob: CalendarDate, today: CalendarDate): number {
  const todayNumber = toDayNumber(today);
  let next = toDayNumber(birthdayInYear(dob, today.year));
  if (next < todayNumber) next = toDayNumber(birthdayInYear(dob, today.year + 1));
  return next - todayNumber;
}

/** The contract's message; "day(s)" is the wording of the contract, kept verbatim. */
export function birthdayMessage(username: string, days: number): string {
  return days === 0
    ? `Hello, ${username}! Happy birthday!`
    : `Hello, ${username}! Your birthday is in ${days} day(s)`;
}
