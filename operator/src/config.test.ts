import { ConfigError } from '#common/env.js';
import { loadConfig } from './config.js';

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
