import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { renderHistory, renderStatus, table } from './render.js';
import { printable, safeJson } from './text.js';
import { describeStep, flatten, readView } from './view.js';

/** A character a terminal acts on: C0 (but the newline), DEL, C1, and bidi overrides and isolates. */
const steersTerminal = (text: string): boolean =>
  [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return (
      (c < 0x20 && c !== 0x0a) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069)
    );
  });

const T = (minute: number): string => new Date(Date.UTC(2026, 11, 4, 3, minute)).toISOString();

const canaryRollout = {
  metadata: {
    name: 'hello',
    namespace: 'shop',
    generation: 7,
    annotations: { 'hello.dev/promote': 'b', 'hello.dev/pause': 'yes' },
  },
  spec: {
    image: 'hello/api:2.0.0',
    rollout: {
      strategy: 'Canary',
      steps: [
        { canary: { replicas: 1 } },
        { verify: {} },
        { canary: { replicas: '50%' } },
        { pause: {} },
        { verify: {} },
      ],
    },
  },
  status: {
    observedGeneration: 7,
    phase: 'Verifying',
    currentRevision: 'rev-new',
    stableRevision: 'rev-old',
    observedPromote: 'a',
    pausedAt: T(4),
    canary: {
      revision: 'rev-new',
      stepIndex: 1,
      steps: 5,
      stepStartedAt: T(2),
      replicas: 1,
      readyReplicas: 1,
      stableReplicas: 4,
      message: 'judging the canary',
    },
    verification: {
      revision: 'rev-new',
      startedAt: T(2),
      smokePassed: true,
      consecutiveFailures: 0,
      measurements: 3,
      noDataMeasurements: 1,
      lastMeasurementAt: T(3),
      lastMessage: '5xx 0.0% p99 41 ms',
      comparison: {
        verdict: 'Pass',
        canary: { errorRate: 0.01, p99Ms: 41 },
        stable: { errorRate: 0.008, p99Ms: 39 },
        why: 'no significant difference',
      },
    },
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' },
      { type: 'Progressing', status: 'True', reason: 'Verifying', message: 'verifying' },
      { type: 'Degraded', status: 'False', reason: 'RolloutSucceeded', message: '' },
      { type: 'Reconciled', status: 'False', reason: 'ReconcileFailed', message: 'quota exceeded' },
    ],
  },
};

describe('renderStatus', () => {
  it('shows the canary step, the pods of each revision, the measurements and what needs attention', () => {
    const text = renderStatus(readView(canaryRollout));
    expect(text).toBe(
      [
        'HelloWorld:  shop/hello',
        'Phase:       Verifying',
        'Image:       hello/api:2.0.0',
        'Strategy:    Canary',
        `             step 2/5: verify (since ${T(2)})`,
        '             judging the canary',
        'Pods:        canary rev-new  1/1 ready',
        '             stable rev-old  4 ready',
        `Paused:      hello.dev/pause=yes since ${T(4)}`,
        'Pending:     hello.dev/promote=b not acted on yet',
        `Verification: revision rev-new since ${T(2)}`,
        '  smoke checks: passed',
        `  measurements: 3, 1 without traffic, 0 failed in a row, last at ${T(3)}`,
        '  last: 5xx 0.0% p99 41 ms',
        '  canary vs stable:',
        '    verdict: Pass',
        '    canary.errorRate: 0.01',
        '    canary.p99Ms: 41',
        '    stable.errorRate: 0.008',
        '    stable.p99Ms: 39',
        '    why: no significant difference',
        'Conditions needing attention:',
        '  Reconciled=False ReconcileFailed: quota exceeded',
        '',
      ].join('\n'),
    );
  });

  it('counts hello.dev/pause set to "" or "false" as not paused', () => {
    for (const value of ['', 'false']) {
      const object = structuredClone(canaryRollout);
      object.metadata.annotations['hello.dev/pause'] = value;
      delete (object.status as { pausedAt?: string }).pausedAt;
      expect(renderStatus(readView(object))).not.toContain('Paused');
    }
  });

  it('says when every step passed and when the status is of an older generation', () => {
    const done = structuredClone(canaryRollout);
    done.status.canary.stepIndex = 5;
    done.metadata.generation = 8;
    const text = renderStatus(readView(done));
    expect(text).toContain('all 5 steps passed, promoting');
    expect(text).toContain('Phase:       Verifying (status is of generation 7, not yet of 8)');
  });

  it('shows a rolling rollout of an older HelloWorld with the fields it has', () => {
    const text = renderStatus(
      readView({
        metadata: { name: 'old', namespace: 'ns', generation: 2 },
        spec: { image: 'hello/api:1' },
        status: {
          observedGeneration: 2,
          phase: 'Available',
          replicas: 3,
          readyReplicas: 3,
          updatedReplicas: 3,
        },
      }),
    );
    expect(text).toBe(
      [
        'HelloWorld:  ns/old',
        'Phase:       Available',
        'Image:       hello/api:1',
        'Strategy:    Rolling',
        'Pods:        3/3 ready, 3 updated; revision -',
        '',
      ].join('\n'),
    );
    expect(renderStatus(readView({}))).toContain(
      'Phase:       - (the operator has not written a status yet)',
    );
  });

  it('strips escape sequences and control characters written into the status', () => {
    const hostile = structuredClone(canaryRollout) as unknown as { status: Record<string, unknown> };
    hostile.status.phase = 'Available\u001b[2J\u001b[H';
    hostile.status.conditions = [
      {
        type: 'Degraded',
        status: 'True',
        reason: 'X\u001b]0;owned\u0007',
        message: `\u001b[31mred\u001b[0m\r\nnext\u202eevil ${'x'.repeat(5000)}`,
      },
    ];
    const text = renderStatus(readView(hostile));
    expect(steersTerminal(text)).toBe(false);
    expect(text).toContain('Phase:       Available');
    expect(text).toContain('  Degraded=True X: red next evil xxx');
    expect(text.length).toBeLessThan(3000);
  });

  it('never throws and never prints a control character, whatever the object holds', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, maxDepth: 4 }), fc.anything(), (status, spec) => {
        for (const object of [{ status, spec }, status, { metadata: spec, status: { canary: status } }]) {
          const view = readView(object);
          for (const text of [renderStatus(view), renderHistory(view)]) {
            expect(steersTerminal(text)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('renderHistory', () => {
  it('prints status.history as a table, newest first as recorded', () => {
    const view = readView({
      status: {
        history: [
          {
            revision: 'b2',
            image: 'hello/api:2',
            startTime: T(10),
            endTime: T(12),
            outcome: 'RolledBack',
            reason: 'AnalysisFailed',
            summary: 'canary 5xx 30%',
          },
          { revision: 'a1', image: 'hello/api:1', startTime: T(0), endTime: T(1), outcome: 'Promoted' },
          'not an entry',
        ],
      },
    });
    expect(renderHistory(view)).toBe(
      [
        'REVISION  IMAGE        OUTCOME     REASON          STARTED                   ENDED                     SUMMARY',
        `b2        hello/api:2  RolledBack  AnalysisFailed  ${T(10)}  ${T(12)}  canary 5xx 30%`,
        `a1        hello/api:1  Promoted    -               ${T(0)}  ${T(1)}  -`,
        '-         -            -           -               -                         -                         -',
        '',
      ].join('\n'),
    );
    expect(renderHistory(readView({ status: { history: 'x' } }))).toBe(
      'No rollouts recorded in status.history.\n',
    );
  });

  it('keeps at most 50 entries of an oversized history', () => {
    const history = Array.from({ length: 500 }, (_, i) => ({ revision: `r${i}` }));
    expect(readView({ status: { history } }).history).toHaveLength(50);
  });
});

describe('table', () => {
  it('pads by code points, so wide characters do not shift the columns', () => {
    expect(
      table([
        ['A', 'B'],
        ['😀😀', 'x'],
      ]),
    ).toBe('A   B\n😀😀  x\n');
  });
});

describe('printable', () => {
  it('removes CSI, OSC and other escape sequences whole', () => {
    expect(printable('\u001b[31mred\u001b[0m')).toBe('red');
    expect(printable('a\u001b]0;title\u0007b')).toBe('ab');
    expect(printable('a\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\b')).toBe('alinkb');
    expect(printable('a\u009b2Jb')).toBe('ab');
    expect(printable('a\u001bPq#0;2\u001b\\b')).toBe('ab');
    expect(printable('a\u001b7b\u001bc')).toBe('ab');
  });

  it('makes one bounded line of the rest', () => {
    expect(printable('one\ntwo\u202e\u0000three', 200)).toBe('one two three');
    expect(printable('x'.repeat(300), 10)).toBe(`${'x'.repeat(10)}…`);
  });
});

describe('describeStep and flatten', () => {
  it('names each kind of step', () => {
    expect(describeStep({ canary: { replicas: '25%' } })).toBe('canary 25%');
    expect(describeStep({ verify: {} })).toBe('verify');
    expect(describeStep({ pause: { duration: '2m' } })).toBe('pause 2m');
    expect(describeStep({ pause: {} })).toBe('pause until promoted');
    expect(describeStep({ pause: { timeout: '1h', onTimeout: 'Promote' } })).toBe(
      'pause until promoted (Promote after 1h)',
    );
    expect(describeStep(42)).toBe('?');
  });

  it('bounds what it takes from a huge or deep comparison', () => {
    expect(flatten({ a: { b: [1, { c: null }] }, d: 'x' })).toEqual([
      ['a.b[0]', 1],
      ['a.b[1].c', null],
      ['d', 'x'],
    ]);
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(flatten(wide)).toHaveLength(40);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { deep };
    expect(flatten(deep)).toEqual([]);
  });
});

describe('safeJson', () => {
  it('escapes what a terminal acts on and JSON.stringify leaves raw, losing nothing', () => {
    const value = { m: 'a\u009b2Jb\u202e\u001b[31m\u007fé😀' };
    const text = safeJson(value, 2);
    expect(steersTerminal(text)).toBe(false);
    expect(text).toContain('a\\u009b2Jb\\u202e\\u001b[31m\\u007fé😀');
    expect(JSON.parse(text)).toEqual(value);
  });
});
