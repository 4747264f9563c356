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

describe('WATCH_NAMESPACE', () => {
  const watched = (value: string | undefined): readonly string[] | undefined =>
    loadConfig(value === undefined ? {} : { WATCH_NAMESPACE: value }).watchNamespaces;

  it('is every namespace when unset or blank', () => {
    expect(watched(undefined)).toBeUndefined();
    expect(watched('  ')).toBeUndefined();
  });

  it('takes one namespace or a comma-separated list, spaces around the commas ignored', () => {
    expect(watched('team-a')).toEqual(['team-a']);
    expect(watched('team-a,team-b')).toEqual(['team-a', 'team-b']);
    expect(watched(' team-a , 0team , b ')).toEqual(['team-a', '0team', 'b']);
    expect(watched('a'.repeat(63))).toEqual(['a'.repeat(63)]);
  });

  it.each([
    [
      'team-a,,team-b',
      'WATCH_NAMESPACE has an empty entry (item 2 of "team-a,,team-b"); list names like a,b',
    ],
    ['team-a,', 'WATCH_NAMESPACE has an empty entry (item 2 of "team-a,"); list names like a,b'],
    ['team-a,team-a', 'WATCH_NAMESPACE lists "team-a" twice'],
  ])('refuses %j', (value, message) => {
    expect(() => watched(value)).toThrow(new ConfigError(message));
  });

  // Each of these would change the URL paths the operator lists and watches, or is refused by the API.
  it.each([
    'Team-A',
    'team_a',
    'team.a',
    '-team',
    'team-',
    '../kube-system',
    'team/a',
    'team%2fa',
    'team a',
    'a'.repeat(64),
    'team-a;kube-system',
  ])('refuses the namespace name %j', (name) => {
    expect(() => watched(`ok,${name}`)).toThrow(
      new ConfigError(
        `WATCH_NAMESPACE: "${name}" is not a namespace name (at most 63 lower-case letters, digits and "-", ` +
          'starting and ending with a letter or digit)',
      ),
    );
  });
});
