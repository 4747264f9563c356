import { type CronSchedule, longestGapSeconds, MAX_SCHEDULE_LENGTH, parseSchedule } from './schedule.js';

const DAY = 86_400;

function parsed(text: string): CronSchedule {
  const result = parseSchedule(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${result.error}`);
  return result.schedule;
}

function refusal(text: string): string {
  const result = parseSchedule(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused`);
  return result.error;
}

const gap = (text: string): number => longestGapSeconds(parsed(text));
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('parseSchedule: what Kubernetes CronJob accepts', () => {
  it('reads the five fields into sorted sets', () => {
    expect(parsed('5,1,3 3 1-3 * *')).toEqual({
      minutes: [1, 3, 5],
      hours: [3],
      daysOfMonth: [1, 2, 3],
      months: range(1, 12),
      daysOfWeek: range(0, 6),
      dayOfMonthRestricted: true,
      dayOfWeekRestricted: false,
    });
  });

  it('reads steps over *, ranges, and N/step (N to the maximum)', () => {
    expect(parsed('*/15 1-10/3 10/7 */5 */3')).toMatchObject({
      minutes: [0, 15, 30, 45],
      hours: [1, 4, 7, 10],
      daysOfMonth: [10, 17, 24, 31],
      months: [1, 6, 11],
      daysOfWeek: [0, 3, 6],
    });
    expect(parsed('*/60 * * * *').minutes).toEqual([0]);
  });

  it('reads month and weekday names in any case, also in ranges and steps', () => {
    expect(parsed('0 0 * jan,Mar,DEC mon-Fri')).toMatchObject({
      months: [1, 3, 12],
      daysOfWeek: range(1, 5),
    });
    expect(parsed('0 0 * FEB/4 SUN/2')).toMatchObject({ months: [2, 6, 10], daysOfWeek: [0, 2, 4, 6] });
  });

  it('expands the macros', () => {
    expect(parsed('@yearly')).toEqual(parsed('0 0 1 1 *'));
    expect(parsed('@annually')).toEqual(parsed('0 0 1 1 *'));
    expect(parsed('@monthly')).toEqual(parsed('0 0 1 * *'));
    expect(parsed('@weekly')).toEqual(parsed('0 0 * * 0'));
    expect(parsed('@daily')).toEqual(parsed('0 0 * * *'));
    expect(parsed('@midnight')).toEqual(parsed('0 0 * * *'));
    expect(parsed('@hourly')).toEqual(parsed('0 * * * *'));
  });

  it('counts a day field as unrestricted only for a plain * or ? (robfig/cron), not */2 or 1-31', () => {
    expect(parsed('0 0 ? * ?')).toMatchObject({ dayOfMonthRestricted: false, dayOfWeekRestricted: false });
    expect(parsed('0 0 */1 * 1,*')).toMatchObject({
      dayOfMonthRestricted: false,
      dayOfWeekRestricted: false,
    });
    expect(parsed('0 0 */2 * 0-6/1')).toMatchObject({ dayOfMonthRestricted: true });
    expect(parsed('0 0 1-31 * 0-6')).toMatchObject({ dayOfMonthRestricted: true, dayOfWeekRestricted: true });
  });

  it('takes leading zeros and runs of spaces, tabs or a trailing newline as Kubernetes does', () => {
    expect(parsed('  00 03\t* *  * \n')).toEqual(parsed('0 3 * * *'));
  });
});

describe('parseSchedule: refusals say which field and why', () => {
  it.each([
    ['0 25 * * *', 'schedule "0 25 * * *": hour 25 is out of range 0-23'],
    ['60 * * * *', 'schedule "60 * * * *": minute 60 is out of range 0-59'],
    ['0 0 0 * *', 'schedule "0 0 0 * *": day of month 0 is out of range 1-31'],
    ['0 0 * 13 *', 'schedule "0 0 * 13 *": month 13 is out of range 1-12'],
    ['0 0 * * 7', 'schedule "0 0 * * 7": day of week 7 is out of range 0-6 (Sunday is 0 or SUN)'],
    [
      '0 99999999999999999999999 * * *',
      'schedule "0 99999999999999999999999 * * *": hour 99999999999999999999999 is out of range 0-23',
    ],
    ['5-1 * * * *', 'schedule "5-1 * * * *": minute range "5-1" runs backwards: write it from low to high'],
    [
      '0 0 * * FRI-MON',
      'schedule "0 0 * * FRI-MON": day of week range "FRI-MON" runs backwards: write it from low to high',
    ],
    ['1-59/0 * * * *', 'schedule "1-59/0 * * * *": minute "1-59/0" has step 0; a step must be at least 1'],
    [
      '*/61 * * * *',
      'schedule "*/61 * * * *": minute "*/61" has step 61, more than the 60 values of the field',
    ],
    ['*/ * * * *', 'schedule "*/ * * * *": minute "*/" needs a whole number step after "/"'],
    ['*/1/2 * * * *', 'schedule "*/1/2 * * * *": minute "*/1/2" has more than one "/"'],
    ['1-2-3 * * * *', 'schedule "1-2-3 * * * *": minute "1-2-3" has more than one "-"'],
    [
      '-1 * * * *',
      'schedule "-1 * * * *": minute "-1" is missing a value before "-" (negative numbers are not allowed)',
    ],
    ['0 0 * * 1-', 'schedule "0 0 * * 1-": day of week "1-" is missing a value after "-"'],
    ['+5 * * * *', 'schedule "+5 * * * *": minute "+5" is not a number 0-59'],
    ['*-5 * * * *', 'schedule "*-5 * * * *": minute "*" is not a number 0-59'],
    ['0 0 * JANUARY *', 'schedule "0 0 * JANUARY *": month "JANUARY" is not a number 1-12 or a name JAN-DEC'],
    ['MON 0 * * *', 'schedule "MON 0 * * *": minute "MON" is not a number 0-59'],
    [
      '0 0 * * MONDAY',
      'schedule "0 0 * * MONDAY": day of week "MONDAY" is not a number 0-6 or a name SUN-SAT',
    ],
    [
      '? * * * *',
      'schedule "? * * * *": minute cannot be "?"; it is only allowed in the day of month and day of week',
    ],
    [
      '1,,2 * * * *',
      'schedule "1,,2 * * * *": minute "1,,2" has an empty list item; separate values with one comma',
    ],
    [
      '0 0 * * 1,',
      'schedule "0 0 * * 1,": day of week "1," has an empty list item; separate values with one comma',
    ],
    [
      '* * * *',
      'schedule "* * * *": expected 5 fields (minute, hour, day of month, month, day of week) separated by spaces, found 4',
    ],
    [
      '0 0 3 * * *',
      'schedule "0 0 3 * * *": expected 5 fields (minute, hour, day of month, month, day of week) separated by spaces, found 6; a seconds field is not supported',
    ],
    ['', 'schedule "": is empty; give 5 fields like "0 3 * * *" or a macro like @daily'],
    [' \t ', 'schedule " \\t ": is empty; give 5 fields like "0 3 * * *" or a macro like @daily'],
  ])('refuses %j', (text, message) => {
    expect(refusal(text)).toBe(message);
  });

  it.each([
    [
      '@every 1h',
      'schedule "@every 1h": @every intervals are not supported; write 5 cron fields, e.g. "0 */6 * * *"',
    ],
    ['@DAILY', 'schedule "@DAILY": macros are lower case: write @daily'],
    [' @daily', 'schedule " @daily": remove the whitespace around @daily'],
    ['@daily\n', 'schedule "@daily\\n": remove the whitespace around @daily'],
    [
      '@fortnightly',
      'schedule "@fortnightly": unknown macro "@fortnightly"; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, or 5 cron fields',
    ],
  ])('refuses the macro %j', (text, message) => {
    expect(refusal(text)).toBe(message);
  });

  it.each(['CRON_TZ=UTC 0 * * * *', 'TZ=Europe/Berlin 0 3 * * *', '0 3 * * * TZ'])(
    'refuses a time zone in %j: the CronJob has its own timeZone field',
    (text) => {
      expect(refusal(text)).toBe(
        `schedule ${JSON.stringify(text)}: a time zone prefix (TZ= or CRON_TZ=) is not allowed; ` +
          'backups run on UTC (timeZone Etc/UTC)',
      );
    },
  );

  it('refuses characters outside ASCII, escaped in the message so none can hide there', () => {
    expect(refusal('\u0663 * * * *')).toBe(
      'schedule "\\u0663 * * * *": character U+0663 at position 1 is not allowed; use ASCII digits, ' +
        'month and weekday names, spaces and * ? , - /',
    );
    expect(refusal('0\u00a03 * * *')).toBe(
      'schedule "0\\u00a03 * * *": character U+00A0 at position 2 is not allowed; use ASCII digits, ' +
        'month and weekday names, spaces and * ? , - /',
    );
    expect(refusal('0 3 * * *\u0000')).toMatch(
      /^schedule "0 3 \* \* \*\\u0000": character U\+0000 at position 10 /,
    );
    expect(refusal('0 3 * * 1\u202e')).toMatch(
      /^schedule "0 3 \* \* 1\\u202e": character U\+202E at position 10 /,
    );
  });

  it('refuses a long input without echoing it', () => {
    expect(parseSchedule(`0 3 * * *${' '.repeat(MAX_SCHEDULE_LENGTH - 9)}`).ok).toBe(true);
    expect(refusal('1,'.repeat(100_000))).toBe('schedule is 200000 characters long; at most 256 are allowed');
    expect(refusal(`0 3 * * *${' '.repeat(MAX_SCHEDULE_LENGTH - 8)}`)).toBe(
      'schedule is 257 characters long; at most 256 are allowed',
    );
  });

  it('refuses a schedule that can never fire, naming the months and days', () => {
    expect(refusal('0 0 30 2 *')).toBe(
      'schedule "0 0 30 2 *": never runs: no chosen month (February) has a chosen day of month (30)',
    );
    expect(refusal('0 0 31 APR,jun,9,11 ?')).toBe(
      'schedule "0 0 31 APR,jun,9,11 ?": never runs: no chosen month (April, June, September, November) ' +
        'has a chosen day of month (31)',
    );
    // February 29th comes, if rarely; and a weekday in the day of week always does.
    expect(parseSchedule('0 0 29 2 *').ok).toBe(true);
    expect(parseSchedule('0 0 30 2 MON').ok).toBe(true);
  });
});

describe('longestGapSeconds', () => {
  it.each([
    ['0 3 * * *', DAY],
    ['0 3 * * 1-5', 3 * DAY], // Friday to Monday
    ['*/15 * * * *', 900],
    ['* * * * *', 60],
    ['0 * * * *', 3600],
    ['0 9,17 * * *', 16 * 3600], // 17:00 to 9:00 the next day
    ['5,55 0,23 * * *', 22 * 3600 + 10 * 60], // 00:55 to 23:05
    ['@weekly', 7 * DAY],
    ['@monthly', 31 * DAY],
    ['@yearly', 366 * DAY], // 1 January of a leap year to the next
    ['0 0 31 * *', 61 * DAY], // 31 January to 31 March
    ['0 0 29 * *', 59 * DAY], // 29 January to 29 March of a year that is not a leap year
  ])('of %j is %d s', (text, seconds) => {
    expect(gap(text)).toBe(seconds);
  });

  it('lets either day field match when both are restricted (robfig/cron), both must when one is *', () => {
    // The 1st of the month OR a Monday: Mondays bound it. If both had to match it would be months.
    expect(gap('0 0 1 * MON')).toBe(7 * DAY);
    // 1-31 is a restriction too, so every day runs, though Mondays alone are a week apart.
    expect(gap('0 0 1-31 * MON')).toBe(DAY);
    // Odd days or Mondays; classic cron, which treats */2 as unrestricted, would run odd Mondays only.
    expect(gap('0 0 */2 * MON')).toBe(2 * DAY);
    expect(gap('0 0 ? * MON')).toBe(7 * DAY);
  });

  it('follows weekdays across years: the Mondays of February are at most 50 weeks apart', () => {
    // 22 February 2021 (a Monday, the earliest last Monday) to 7 February 2022.
    expect(gap('0 0 * 2 MON')).toBe(350 * DAY);
  });

  it('sees the leap day skipped in 2100: 29 February runs at most 8 years apart', () => {
    // 2096-02-29 to 2104-02-29; between, 2097 to 2103 has no leap day.
    expect(gap('0 0 29 2 *')).toBe((Date.UTC(2104, 1, 29) - Date.UTC(2096, 1, 29)) / 1000);
    expect(gap('0 0 29 2 *')).toBe(2921 * DAY);
    expect(gap('0 0 29-31 FEB ?')).toBe(2921 * DAY);
  });

  it('computes the densest and the sparsest schedules', () => {
    // Both iterate the days of a 400-year cycle once; neither enumerates minutes.
    expect(gap('* * * * *')).toBe(60);
    expect(gap('0 0 29 2 *')).toBe(252_374_400);
  });

  it('refuses a hand-built schedule that never runs', () => {
    const never: CronSchedule = { ...parsed('0 0 1 2 *'), daysOfMonth: [30] };
    expect(() => longestGapSeconds(never)).toThrow(new RangeError('the schedule never runs'));
    expect(() => longestGapSeconds({ ...parsed('0 0 * * *'), minutes: [] })).toThrow(RangeError);
  });
});
