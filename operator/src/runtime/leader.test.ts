import {
  formatMicroTime,
  leaseTimingProblem,
  nextLeaseSpec,
  observe,
  releasedLeaseSpec,
  shouldAcquire,
  type LeaseSpec,
} from './leader.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const held = (holder: string, seconds = 15): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: seconds,
  renewTime: formatMicroTime(T0),
  acquireTime: formatMicroTime(T0),
  leaseTransitions: 2,
});

describe('shouldAcquire', () => {
  it('takes a lease that does not exist yet or has no holder', () => {
    expect(shouldAcquire(undefined, T0, T0, 'me')).toBe(true);
    expect(shouldAcquire({ leaseDurationSeconds: 1 }, T0, T0, 'me')).toBe(true);
    expect(shouldAcquire({ holderIdentity: '', leaseDurationSeconds: 15 }, T0, T0, 'me')).toBe(true);
  });

  it('keeps a lease it holds', () => {
    expect(shouldAcquire(held('me'), T0, T0 + 60_000, 'me')).toBe(true);
  });

  it("waits a whole lease duration after last seeing another holder's record change", () => {
    expect(shouldAcquire(held('other'), T0, T0, 'me')).toBe(false);
    expect(shouldAcquire(held('other'), T0, T0 + 14_999, 'me')).toBe(false);
    expect(shouldAcquire(held('other'), T0, T0 + 15_000, 'me')).toBe(true);
  });

  it('judges expiry by the observation time, not by renewTime (no clock skew)', () => {
    const renewedLongAgo = { ...held('other'), renewTime: formatMicroTime(T0 - 3_600_000) };
    expect(shouldAcquire(renewedLongAgo, T0, T0 + 1000, 'me')).toBe(false);
  });
});

describe('observe', () => {
  it('keeps the first observation time while the record is unchanged', () => {
    const first = observe(undefined, held('other'), T0);
    const second = observe(first, held('other'), T0 + 10_000);
    expect(second.atMs).toBe(T0);
  });

  it('restarts the clock when the holder renews', () => {
    const first = observe(undefined, held('other'), T0);
    const renewed = { ...held('other'), renewTime: formatMicroTime(T0 + 2000) };
    expect(observe(first, renewed, T0 + 10_000).atMs).toBe(T0 + 10_000);
  });
});

describe('nextLeaseSpec', () => {
  it('acquires a new lease', () => {
    expect(nextLeaseSpec(undefined, 'me', T0, 15_000)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2025-01-01T12:00:00.000000Z',
      renewTime: '2025-01-01T12:00:00.000000Z',
      leaseTransitions: 0,
    });
  });

  it('renews without a transition and keeps the acquire time', () => {
    const next = nextLeaseSpec(held('me'), 'me', T0 + 2000, 15_000);
    expect(next.acquireTime).toBe(formatMicroTime(T0));
    expect(next.renewTime).toBe(formatMicroTime(T0 + 2000));
    expect(next.leaseTransitions).toBe(2);
  });

  it('counts a transition when taking over from another holder', () => {
    const next = nextLeaseSpec(held('other'), 'me', T0 + 20_000, 15_000);
    expect(next.holderIdentity).toBe('me');
    expect(next.acquireTime).toBe(formatMicroTime(T0 + 20_000));
    expect(next.leaseTransitions).toBe(3);
  });

  it('does not count taking a released lease as a transition from a holder', () => {
    expect(nextLeaseSpec(releasedLeaseSpec(held('other'), T0), 'me', T0, 15_000).leaseTransitions).toBe(2);
  });
});

describe('releasedLeaseSpec', () => {
  it('clears the holder and shortens the lease to one second', () => {
    const released = releasedLeaseSpec(held('me'), T0 + 5000);
    expect(released.holderIdentity).toBeUndefined();
    expect(released.leaseDurationSeconds).toBe(1);
    expect(released.leaseTransitions).toBe(2);
    expect(shouldAcquire(released, T0 + 5000, T0 + 5000, 'other')).toBe(true);
  });
});

describe('formatMicroTime', () => {
  it('writes six fractional digits', () => {
    expect(formatMicroTime(Date.UTC(2025, 5, 7, 8, 9, 10, 123))).toBe('2025-06-07T08:09:10.123000Z');
  });
});

describe('leaseTimingProblem', () => {
  const sound = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

  it("accepts client-go's defaults and short test timings", () => {
    expect(leaseTimingProblem(sound)).toBeUndefined();
    expect(
      leaseTimingProblem({ leaseDurationMs: 4000, renewDeadlineMs: 2000, retryPeriodMs: 500 }),
    ).toBeUndefined();
  });

  it('wants the lease to outlast the renew deadline by a margin', () => {
    expect(leaseTimingProblem({ ...sound, leaseDurationMs: 10_000 })).toMatch(
      /must exceed the renew deadline \(10000 ms\) by at least 1000 ms/,
    );
    expect(leaseTimingProblem({ ...sound, renewDeadlineMs: 14_500 })).toMatch(/must exceed/);
  });

  it('wants a whole-second lease and room for two renewals', () => {
    expect(leaseTimingProblem({ ...sound, leaseDurationMs: 15_500 })).toMatch(/whole seconds/);
    expect(leaseTimingProblem({ ...sound, retryPeriodMs: 5000 })).toMatch(/two renewal attempts/);
  });
});
