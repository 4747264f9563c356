import { describe, expect, it } from '@jest/globals';
import type { HistoryEntry } from '../crd/types.js';
import { MAX_HISTORY_LIMIT, MAX_SUMMARY_CHARS, boundHistory, recordOutcome, summarize } from './history.js';

const at = (minute: number): string => new Date(Date.UTC(2026, 2, 1, 12, minute)).toISOString();

function entry(n: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    revision: `rev${n}`,
    image: `hello:${n}`,
    startTime: at(n),
    endTime: at(n + 1),
    outcome: 'Promoted',
    reason: 'RolloutSucceeded',
    summary: `revision ${n} passed`,
    ...overrides,
  };
}

describe('recordOutcome', () => {
  it('puts the newest outcome first', () => {
    let history = recordOutcome(undefined, entry(1), 10);
    history = recordOutcome(history, entry(2, { outcome: 'RolledBack', reason: 'CrashLooping' }), 10);
    history = recordOutcome(history, entry(3), 10);
    expect(history.map((e) => `${e.revision}/${e.outcome}`)).toEqual([
      'rev3/Promoted',
      'rev2/RolledBack',
      'rev1/Promoted',
    ]);
  });

  it('keeps at most `limit` entries, dropping the oldest', () => {
    let history: HistoryEntry[] = [];
    for (let n = 1; n <= 7; n++) history = recordOutcome(history, entry(n), 3);
    expect(history.map((e) => e.revision)).toEqual(['rev7', 'rev6', 'rev5']);
  });

  it('records the same rollout once, however often it is decided again', () => {
    const first = recordOutcome([entry(1)], entry(2), 10);
    const again = recordOutcome(first, entry(2, { endTime: at(30), summary: 'decided again' }), 10);
    expect(again).toEqual(first);
  });

  it('records a retried revision again: a new start is a new rollout', () => {
    const failed = recordOutcome([], entry(2, { outcome: 'RolledBack', reason: 'SmokeTestFailed' }), 10);
    const retried = recordOutcome(failed, entry(2, { startTime: at(40), endTime: at(41) }), 10);
    expect(retried.map((e) => `${e.revision}/${e.outcome}/${e.startTime}`)).toEqual([
      `rev2/Promoted/${at(40)}`,
      `rev2/RolledBack/${at(2)}`,
    ]);
  });

  it('does not change the history it is given', () => {
    const history = [entry(1)];
    recordOutcome(history, entry(2), 10);
    expect(history).toEqual([entry(1)]);
  });

  it('bounds a history that is already there when the outcome is known', () => {
    const history = [entry(3), entry(2), entry(1)];
    expect(recordOutcome(history, entry(3), 2)).toEqual([entry(3), entry(2)]);
  });
});

describe('boundHistory', () => {
  const long = Array.from({ length: 60 }, (_, i) => entry(60 - i));

  it(`keeps the newest entries, never more than ${MAX_HISTORY_LIMIT} nor fewer than one`, () => {
    expect(boundHistory(long, 2).map((e) => e.revision)).toEqual(['rev60', 'rev59']);
    expect(boundHistory(long, 1000)).toHaveLength(MAX_HISTORY_LIMIT);
    expect(boundHistory(long, 0)).toHaveLength(1);
    expect(boundHistory(long, Number.NaN)).toHaveLength(1);
  });
});

describe('summarize', () => {
  it('keeps a short printable message as it is', () => {
    expect(summarize('analysis passed: 6 measurement(s) over 60s; error rate 0.0%, p99 12 ms')).toBe(
      'analysis passed: 6 measurement(s) over 60s; error rate 0.0%, p99 12 ms',
    );
  });

  it(`cuts a long message to ${MAX_SUMMARY_CHARS} characters and an ellipsis`, () => {
    const summary = summarize('x'.repeat(100_000));
    expect(summary).toBe(`${'x'.repeat(MAX_SUMMARY_CHARS)}…`);
  });

  it('makes one printable line of hostile text: no control, bidi or zero-width characters', () => {
    const hostile = 'smoke check failed:\r\nbody "\u001b[31mOK\u001b[0m"\u202e\u200b\u2028\u0000 end\t';
    const summary = summarize(hostile);
    expect(summary).toBe('smoke check failed: body " [31mOK [0m" end');
    expect(summary).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
  });

  it('never splits a character made of two UTF-16 units', () => {
    const summary = summarize(`${'a'.repeat(MAX_SUMMARY_CHARS - 1)}😀😀`);
    expect(Array.from(summary)).toHaveLength(MAX_SUMMARY_CHARS + 1);
    expect(summary.endsWith('😀…')).toBe(true);
    expect(summarize('\ud800 lone')).toBe('lone');
  });
});
