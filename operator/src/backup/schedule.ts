/**
 * Backup schedules: the cron dialect of a Kubernetes CronJob (robfig/cron's standard parser), checked
 * before the operator writes the CronJob, and the longest time between two runs, which bounds how old
 * the newest backup may be. Pure; the CronJob runs in Etc/UTC, so all arithmetic is on the UTC calendar.
 *
 * The parser accepts a subset of what Kubernetes accepts, never more: it also refuses `@every`, `?`
 * outside the day fields, empty list items, signed numbers, steps wider than their field and schedules
 * that can never fire (February 30th). Input is hostile: its length is capped and every step is linear.
 */

/** A parsed schedule. Every list is sorted and holds each value once. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  /** 1 = January. */
  readonly months: readonly number[];
  /** 0 = Sunday. */
  readonly daysOfWeek: readonly number[];
  /**
   * False when the field is (or lists) a plain `*` or `?`, whose list then holds every day. When both
   * day fields are restricted a day runs if EITHER matches, otherwise both must match (classic cron).
   */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

export type ScheduleParse = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

export const MAX_SCHEDULE_LENGTH = 256;

const SECONDS_PER_DAY = 86_400;

const MACROS: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_FULL_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
/** The longest each month can be (February in a leap year). */
const MONTH_MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, ... (lower case; matched case-insensitively). */
  readonly names?: readonly string[];
  /** Whether `?` (any) is allowed. */
  readonly question?: boolean;
  readonly rangeHint?: string;
}

const FIELD_RULES: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  {
    name: 'day of week',
    min: 0,
    max: 6,
    names: WEEKDAY_NAMES,
    question: true,
    rangeHint: ' (Sunday is 0 or SUN)',
  },
];

/** A reason the schedule is refused, without the `schedule "...":` prefix. */
class ScheduleError extends Error {}

/** Quotes text for a message, escaping everything but printable ASCII so nothing hides in it. */
function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Parses a CronJob schedule; the error says which field is wrong and why. */
export function parseSchedule(text: string): ScheduleParse {
  if (text.length > MAX_SCHEDULE_LENGTH) {
    return {
      ok: false,
      error: `schedule is ${text.length} characters long; at most ${MAX_SCHEDULE_LENGTH} are allowed`,
    };
  }
  try {
    return { ok: true, schedule: parseChecked(text) };
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    return { ok: false, error: `schedule ${quote(text)}: ${error.message}` };
  }
}

function parseChecked(text: string): CronSchedule {
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new ScheduleError('is empty; give 5 fields like "0 3 * * *" or a macro like @daily');
  }
  // Kubernetes refuses any "TZ" in a schedule; the zone is the CronJob's own timeZone field.
  if (text.includes('TZ')) {
    throw new ScheduleError(
      'a time zone prefix (TZ= or CRON_TZ=) is not allowed; backups run on UTC (timeZone Etc/UTC)',
    );
  }
  const bad = /[^\x20-\x7e\t\n\v\f\r]/.exec(text);
  if (bad !== null) {
    const code = (text.codePointAt(bad.index) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw new ScheduleError(
      `character U+${code} at position ${bad.index + 1} is not allowed; use ASCII digits, ` +
        'month and weekday names, spaces and * ? , - /',
    );
  }
  if (trimmed.startsWith('@')) return parseFields(expandMacro(text, trimmed));
  return parseFields(trimmed);
}

function expandMacro(text: string, trimmed: string): string {
  const fields = MACROS.get(text);
  if (fields !== undefined) return fields;
  const known = [...MACROS.keys()].join(', ');
  // Kubernetes matches macros exactly: no surrounding whitespace, lower case.
  if (MACROS.has(trimmed)) throw new ScheduleError(`remove the whitespace around ${trimmed}`);
  if (trimmed.startsWith('@every')) {
    throw new ScheduleError('@every intervals are not supported; write 5 cron fields, e.g. "0 */6 * * *"');
  }
  const lower = trimmed.toLowerCase();
  if (MACROS.has(lower)) throw new ScheduleError(`macros are lower case: write ${lower}`);
  throw new ScheduleError(`unknown macro ${quote(trimmed)}; use one of ${known}, or 5 cron fields`);
}

function parseFields(fieldsText: string): CronSchedule {
  const fields = fieldsText.split(/[ \t\n\v\f\r]+/);
  if (fields.length !== FIELD_RULES.length) {
    const seconds = fields.length === 6 ? '; a seconds field is not supported' : '';
    throw new ScheduleError(
      'expected 5 fields (minute, hour, day of month, month, day of week) separated by spaces, ' +
        `found ${fields.length}${seconds}`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = FIELD_RULES.map((rule, i) =>
    parseField(fields[i] ?? '', rule),
  ) as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const schedule: CronSchedule = {
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dayOfMonth.values,
    months: month.values,
    daysOfWeek: dayOfWeek.values,
    dayOfMonthRestricted: dayOfMonth.restricted,
    dayOfWeekRestricted: dayOfWeek.restricted,
  };
  checkRunsSometime(schedule);
  return schedule;
}

interface ParsedField {
  values: number[];
  restricted: boolean;
}

function parseField(text: string, rule: FieldRule): ParsedField {
  const chosen = new Array<boolean>(rule.max + 1).fill(false);
  let restricted = true;
  for (const item of text.split(',')) {
    if (item === '') {
      throw new ScheduleError(
        `${rule.name} ${quote(text)} has an empty list item; separate values with one comma`,
      );
    }
    if (!parseItem(item, rule, chosen)) restricted = false;
  }
  const values: number[] = [];
  chosen.forEach((on, value) => {
    if (on) values.push(value);
  });
  return { values, restricted };
}

/**
 * Marks the values of one list item (`*`, `?`, `N`, `N-M`, each with an optional `/step`; `N/step`
 * means N to the field's maximum). Returns true when the item restricts the field (is not a plain `*`).
 */
function parseItem(item: string, rule: FieldRule, chosen: boolean[]): boolean {
  const parts = item.split('/');
  if (parts.length > 2) throw new ScheduleError(`${rule.name} ${quote(item)} has more than one "/"`);
  const [range = '', stepText] = parts;
  const step = stepText === undefined ? 1 : parseStep(stepText, rule, item);
  let start = rule.min;
  let end = rule.max;
  let restricts = step > 1;
  if (range === '*' || range === '?') {
    if (range === '?' && rule.question !== true) {
      throw new ScheduleError(
        `${rule.name} cannot be "?"; it is only allowed in the day of month and day of week`,
      );
    }
  } else {
    restricts = true;
    const bounds = range.split('-');
    if (bounds.length > 2) throw new ScheduleError(`${rule.name} ${quote(item)} has more than one "-"`);
    const [low = '', high] = bounds;
    start = parseValue(low, rule, item, 'before');
    if (high !== undefined) end = parseValue(high, rule, item, 'after');
    else if (stepText === undefined) end = start;
    if (start > end) {
      throw new ScheduleError(`${rule.name} range ${quote(range)} runs backwards: write it from low to high`);
    }
  }
  for (let value = start; value <= end; value += step) chosen[value] = true;
  return restricts;
}

function parseValue(text: string, rule: FieldRule, item: string, side: 'before' | 'after'): number {
  if (text === '') {
    const sign = item.startsWith('-') ? ' (negative numbers are not allowed)' : '';
    throw new ScheduleError(`${rule.name} ${quote(item)} is missing a value ${side} "-"${sign}`);
  }
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    if (value < rule.min || value > rule.max) {
      throw new ScheduleError(
        `${rule.name} ${text} is out of range ${rule.min}-${rule.max}${rule.rangeHint ?? ''}`,
      );
    }
    return value;
  }
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return rule.min + named;
  const names =
    rule.names === undefined
      ? ''
      : ` or a name ${(rule.names[0] ?? '').toUpperCase()}-${(rule.names.at(-1) ?? '').toUpperCase()}`;
  throw new ScheduleError(`${rule.name} ${quote(text)} is not a number ${rule.min}-${rule.max}${names}`);
}

function parseStep(text: string, rule: FieldRule, item: string): number {
  const span = rule.max - rule.min + 1;
  if (!/^[0-9]+$/.test(text)) {
    throw new ScheduleError(`${rule.name} ${quote(item)} needs a whole number step after "/"`);
  }
  const step = Number(text);
  if (step < 1)
    throw new ScheduleError(`${rule.name} ${quote(item)} has step ${text}; a step must be at least 1`);
  if (step > span) {
    throw new ScheduleError(
      `${rule.name} ${quote(item)} has step ${text}, more than the ${span} values of the field`,
    );
  }
  return step;
}

/**
 * Refuses a schedule that never fires. Only the day of month can make it so: every month has every
 * weekday, so a restricted day of week always fires.
 */
function checkRunsSometime(schedule: CronSchedule): void {
  if (schedule.dayOfWeekRestricted) return;
  const fits = schedule.months.some((month) =>
    schedule.daysOfMonth.some((day) => day <= (MONTH_MAX_DAYS[month - 1] ?? 0)),
  );
  if (fits) return;
  const months = schedule.months.map((month) => MONTH_FULL_NAMES[month - 1] ?? String(month)).join(', ');
  throw new ScheduleError(
    `never runs: no chosen month (${months}) has a chosen day of month (${schedule.daysOfMonth.join(', ')})`,
  );
}

/** The Gregorian calendar, weekdays included, repeats every 400 years; 2000-01-01 starts a cycle. */
const CYCLE_START_YEAR = 2000;
const CYCLE_YEARS = 400;
const CYCLE_DAYS = 146_097;

/** The longest time between two consecutive runs, in seconds (UTC calendar). */
export function longestGapSeconds(schedule: CronSchedule): number {
  const times = schedule.hours.flatMap((hour) => schedule.minutes.map((minute) => hour * 3600 + minute * 60));
  const first = times[0];
  const last = times.at(-1);
  const days = longestDayGap(schedule);
  if (first === undefined || last === undefined || days === undefined) {
    throw new RangeError('the schedule never runs');
  }
  // Every running day runs at the same times, so the gaps are those within a day and the one from the
  // last time of a running day to the first time of the next.
  let longest = days * SECONDS_PER_DAY - last + first;
  let previous = first;
  for (const time of times) {
    longest = Math.max(longest, time - previous);
    previous = time;
  }
  return longest;
}

/**
 * The most days from one running day to the next, over a whole 400-year cycle (so every alignment of
 * weekdays, month lengths and leap years is seen, including the century years that are not leap
 * years), or undefined when no day runs.
 */
function longestDayGap(schedule: CronSchedule): number | undefined {
  const inMonth = membership(schedule.months, 12);
  const onDay = membership(schedule.daysOfMonth, 31);
  const onWeekday = membership(schedule.daysOfWeek, 6);
  const either = schedule.dayOfMonthRestricted && schedule.dayOfWeekRestricted;
  let weekday = new Date(Date.UTC(CYCLE_START_YEAR, 0, 1)).getUTCDay();
  let day = 0;
  let first: number | undefined;
  let previous: number | undefined;
  let longest = 0;
  for (let year = CYCLE_START_YEAR; year < CYCLE_START_YEAR + CYCLE_YEARS; year++) {
    for (let month = 1; month <= 12; month++) {
      // Day 0 of the next month is the last day of this one.
      const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
      if (!inMonth[month]) {
        day += length;
        weekday = (weekday + length) % 7;
        continue;
      }
      for (let date = 1; date <= length; date++, day++, weekday = (weekday + 1) % 7) {
        const runs = either ? onDay[date] || onWeekday[weekday] : onDay[date] && onWeekday[weekday];
        if (!runs) continue;
        if (previous === undefined) first = day;
        else longest = Math.max(longest, day - previous);
        previous = day;
      }
    }
  }
  if (first === undefined || previous === undefined) return undefined;
  // From the last running day of this cycle to the first of the next.
  return Math.max(longest, first + CYCLE_DAYS - previous);
}

function membership(values: readonly number[], max: number): boolean[] {
  const member = new Array<boolean>(max + 1).fill(false);
  for (const value of values) member[value] = true;
  return member;
}
