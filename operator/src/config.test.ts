import { ConfigError } from '#common/env.js';
import { loadConfig } from './config.js';

describe('loadConfig: leader election timings', () => {
  it("defaults to client-go's 15 s lease, 10 s renew deadline and 2 s retry period", () => {
    expect(loadConfig({}).lease).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it('reads shorter timings', () => {
    const env = { LEASE_DURATION_MS: '4000', RENEW_DEADLINE_MS: '2000', RETRY_PERIOD_MS: '500' };
    expect(loadConfig(env).lease).toEqual({
      leaseDurationMs: 4000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
    });
  });

  it('rejects a lease that does not outlast the renew deadline, saying why', () => {
    expect(() => loadConfig({ LEASE_DURATION_MS: '10000' })).toThrow(ConfigError);
    expect(() => loadConfig({ LEASE_DURATION_MS: '10000' })).toThrow(
      /LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS: the lease duration \(10000 ms\) must exceed/,
    );
    expect(() => loadConfig({ RETRY_PERIOD_MS: 'soon' })).toThrow(/RETRY_PERIOD_MS must be a whole number/);
  });
});
