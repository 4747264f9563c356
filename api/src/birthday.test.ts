import {
  birthdayMessage,
  daysUntilBirthday,
  formatDate,
  parseDateOfBirth,
  parseIsoDate,
  toDayNumber,
  utcDate,
  type CalendarDate,
} from './birthday.js';

const d = (iso: string): CalendarDate => {
  const parsed = parseIsoDate(iso);
  if (!parsed.ok) throw new Error(`bad test date ${iso}`);
  return parsed.date;
};
const days = (dob: string, today: string): number => daysUntilBirthday(d(dob), d(today));

describe('daysUntilBirthday', () => {
  it.each([
    // [date of birth, today, days]
    ['1990-06-15', '2025-06-15', 0], // today
    ['1990-06-16', '2025-06-15', 1], // tomorrow
    ['1990-06-14', '2025-06-15', 364], // yesterday, next birthday in a common year
    ['1990-06-14', '2023-06-15', 365], // yesterday, the year ahead has 29 February
    ['1990-01-01', '2025-12-31', 1], // 31 Dec to 1 Jan across the year end
    ['1990-12-31', '2025-01-01', 364],
    ['1990-12-31', '2024-01-01', 365], // leap year: the longest possible wait
    ['1990-12-31', '2025-12-31', 0],
    ['1990-01-01', '2026-01-01', 0],
    // 28 Feb / 29 Feb / 1 Mar in a common year
    ['2000-02-28', '2025-02-28', 0],
    ['2000-02-29', '2025-02-28', 0], // 29 Feb is celebrated on 28 Feb in common years
    ['2000-02-29', '2025-02-27', 1],
    ['2000-03-01', '2025-02-28', 1],
    ['2000-02-29', '2025-03-01', 364], // next is 28 Feb 2026
    ['2000-03-01', '2025-03-01', 0],
    // ... and in a leap year
    ['2000-02-28', '2024-02-28', 0],
    ['2000-02-29', '2024-02-28', 1],
    ['2000-02-29', '2024-02-29', 0],
    ['2000-03-01', '2024-02-29', 1],
    ['2000-03-01', '2024-02-28', 2],
    ['2000-02-28', '2024-02-29', 365], // next is 28 Feb 2025
    ['2000-02-29', '2024-03-01', 364], // next is 28 Feb 2025
    ['2000-02-29', '2023-03-01', 365], // next is 29 Feb 2024
    ['2001-02-28', '2023-03-01', 364],
    // the century rules: 2100 is a common year, 2000 was a leap year
    ['2000-02-29', '2100-02-28', 0],
    ['2000-02-29', '2099-03-01', 364],
    ['0001-01-01', '2025-06-15', 200],
  ])('born %s, today %s: %i days', (dob, today, expected) => {
    expect(days(dob, today)).toBe(expected);
  });

  it('always lies between 0 and 365 over four years of todays and every birthday', () => {
    const start = toDayNumber(d('2023-01-01'));
    const dobs = ['2000-02-29', '2000-02-28', '2000-03-01', '1999-12-31', '1999-01-01', '1980-07-04'];
    for (let offset = 0; offset < 4 * 366; offset++) {
      const today = utcDate(new Date((start + offset) * 86_400_000));
      for (const dob of dobs) {
        const n = daysUntilBirthday(d(dob), today);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(n).toBeLessThanOrEqual(365);
      }
    }
  });
});

describe('utcDate', () => {
  it('uses the UTC calendar date, not the local one', () => {
    expect(utcDate(new Date('2025-03-01T23:59:59.999Z'))).toEqual(d('2025-03-01'));
    expect(utcDate(new Date('2025-03-02T00:00:00.000Z'))).toEqual(d('2025-03-02'));
    expect(utcDate(new Date('2025-03-01T23:30:00-05:00'))).toEqual(d('2025-03-02'));
  });
});

describe('toDayNumber', () => {
  it('agrees with Date.UTC on the epoch and modern dates', () => {
    expect(toDayNumber(d('1970-01-01'))).toBe(0);
    for (const iso of ['2000-02-29', '2024-12-31', '1900-03-01', '2100-02-28']) {
      expect(toDayNumber(d(iso))).toBe(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
    }
  });
  it('is exact for year 1, where Date.UTC would not be', () => {
    expect(toDayNumber(d('0001-01-02')) - toDayNumber(d('0001-01-01'))).toBe(1);
    expect(toDayNumber(d('0002-01-01')) - toDayNumber(d('0001-01-01'))).toBe(365);
    expect(toDayNumber(d('0005-01-01')) - toDayNumber(d('0004-01-01'))).toBe(366);
  });
});

describe('parseDateOfBirth', () => {
  const today = d('2025-06-15');

  it.each(['2025-06-14', '2000-02-29', '0001-01-01', '1999-12-31'])('accepts %s', (iso) => {
    const result = parseDateOfBirth(iso, today);
    expect(result.ok).toBe(true);
    if (result.ok) expect(formatDate(result.date)).toBe(iso);
  });

  it.each([
    ['2025-06-15', 'before today'], // today is not strictly before today
    ['2025-06-16', 'before today'],
    ['9999-12-31', 'before today'],
    ['2021-02-29', 'real calendar date'],
    ['2021-02-30', 'real calendar date'],
    ['1900-02-29', 'real calendar date'],
    ['2021-04-31', 'real calendar date'],
    ['2021-13-01', 'real calendar date'],
    ['2021-00-10', 'real calendar date'],
    ['2021-01-00', 'real calendar date'],
    ['0000-01-01', 'year 0001'],
    ['2021-1-01', 'YYYY-MM-DD'],
    ['21-01-01', 'YYYY-MM-DD'],
    ['+002021-01-01', 'YYYY-MM-DD'],
    ['2021-01-01T00:00:00Z', 'YYYY-MM-DD'],
    ['2021-01-01 ', 'YYYY-MM-DD'],
    [' 2021-01-01', 'YYYY-MM-DD'],
    ['2021/01/01', 'YYYY-MM-DD'],
    ['２０２１-01-01', 'YYYY-MM-DD'], // full-width digits
    ['٢٠٢١-01-01', 'YYYY-MM-DD'], // Arabic-Indic digits
    ['2021-01-01\n', 'YYYY-MM-DD'],
    ['', 'YYYY-MM-DD'],
  ])('rejects %j (%s)', (value, reason) => {
    const result = parseDateOfBirth(value, today);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it.each([[null], [20210101], [1623715200000], [true], [{}], [['2021-01-01']], [undefined]])(
    'rejects the non-string %j',
    (value) => {
      const result = parseDateOfBirth(value, today);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain('must be a string');
    },
  );
});

describe('birthdayMessage', () => {
  it('follows the contract wording and echoes the username as given', () => {
    expect(birthdayMessage('Alice', 0)).toBe('Hello, Alice! Happy birthday!');
    expect(birthdayMessage('bob', 1)).toBe('Hello, bob! Your birthday is in 1 day(s)');
    expect(birthdayMessage('bob', 365)).toBe('Hello, bob! Your birthday is in 365 day(s)');
  });
});
