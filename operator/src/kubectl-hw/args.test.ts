import { describe, expect, it } from '@jest/globals';
import { parseCommand, parseTimeout, UsageError, wantsHelp } from './args.js';

const usage = (argv: string[]): string => {
  try {
    parseCommand(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`parseCommand(${argv.join(' ')}) accepted it`);
};

describe('parseCommand', () => {
  it('reads a verb, a name and kubectl-style flags in any order', () => {
    expect(
      parseCommand([
        'status',
        'hello',
        '-n',
        'team-a',
        '--context',
        'prod',
        '--kubeconfig',
        '/k',
        '-o',
        'json',
      ]),
    ).toEqual({
      verb: 'status',
      name: 'hello',
      namespace: 'team-a',
      context: 'prod',
      kubeconfig: '/k',
      output: 'json',
      watch: false,
      wait: false,
      timeoutMs: 600_000,
    });
    const wait = parseCommand(['--namespace=ci', 'status', '--wait', 'hello', '--timeout', '90s']);
    expect(wait).toMatchObject({
      verb: 'status',
      name: 'hello',
      namespace: 'ci',
      wait: true,
      timeoutMs: 90_000,
    });
    expect(parseCommand(['status', 'hello', '-w'])).toMatchObject({ watch: true, output: 'text' });
    for (const verb of ['history', 'promote', 'pause', 'resume', 'abort', 'retry']) {
      expect(parseCommand([verb, 'hello']).verb).toBe(verb);
    }
  });

  it('leaves the namespace to the kubeconfig when -n is not given', () => {
    expect(parseCommand(['history', 'hello']).namespace).toBeUndefined();
  });

  it('refuses names and namespaces that are not DNS-1123 labels, before any request', () => {
    for (const name of [
      '../secrets',
      'a/b',
      'Hello',
      '-x',
      'x-',
      'a.b',
      'a'.repeat(64),
      '%2e%2e',
      'a\u001b[2J',
    ]) {
      expect(usage(['status', '--', name])).toContain('NAME');
    }
    expect(usage(['status', 'ok', '-n', 'kube-system/../x'])).toContain('--namespace');
    expect(parseCommand(['status', 'a'.repeat(63)]).name).toHaveLength(63);
  });

  it('says what is wrong with a command line', () => {
    expect(usage([])).toBe('no verb given');
    expect(usage(['deploy', 'x'])).toContain('unknown verb "deploy"');
    expect(usage(['status'])).toContain('needs the name');
    expect(usage(['status', 'a', 'b'])).toContain('unexpected arguments');
    expect(usage(['status', 'a', '-o', 'yaml'])).toContain('only -o json');
    expect(usage(['promote', 'a', '-o', 'json'])).toContain('-o is for status and history');
    expect(usage(['history', 'a', '-w'])).toContain('are for status');
    expect(usage(['abort', 'a', '--wait'])).toContain('are for status');
    expect(usage(['status', 'a', '-w', '--wait'])).toContain('do not go together');
    expect(usage(['status', 'a', '--timeout', '1m'])).toContain('--timeout goes with --wait');
    expect(usage(['status', 'a', '--bogus'])).toContain("'--bogus'");
    expect(usage(['status', 'a', '--context', ''])).toContain('--context is empty');
  });
});

describe('parseTimeout', () => {
  it('reads kubectl-style durations', () => {
    expect(parseTimeout('90')).toBe(90_000);
    expect(parseTimeout('90s')).toBe(90_000);
    expect(parseTimeout('10m')).toBe(600_000);
    expect(parseTimeout('1h30m')).toBe(5_400_000);
    expect(parseTimeout('500ms')).toBe(500);
  });

  it('refuses anything else', () => {
    for (const bad of ['', '1d', '-5s', '5 m', 'm', '1.5h', '0s', '99999999s']) {
      expect(() => parseTimeout(bad)).toThrow(UsageError);
    }
  });
});

describe('wantsHelp', () => {
  it('is true for no arguments, help, -h and --help; a HelloWorld may be named help', () => {
    expect(wantsHelp([])).toBe(true);
    expect(wantsHelp(['help'])).toBe(true);
    expect(wantsHelp(['status', 'x', '-h'])).toBe(true);
    expect(wantsHelp(['status', 'help'])).toBe(false);
  });
});
