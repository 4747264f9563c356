import fc from 'fast-check';
import {
  clean,
  code,
  isUnsafeChar,
  codeBlock,
  errorAnnotation,
  exitCode,
  logText,
  summaryMarkdown,
  type Outcome,
} from './report.ts';
import type { Observed } from './verdict.ts';

const observed = (message: string): Observed => ({
  generation: 2,
  observedGeneration: 2,
  image: 'pullfail.invalid/api:2',
  phase: 'RolledBack',
  conditions: [{ type: 'Degraded', status: 'True', reason: 'SmokeTestFailed', message }],
  lastRollback: { reason: 'SmokeTestFailed', message, fromImage: 'pullfail.invalid/api:2', toImage: 'api:1' },
});

const rolledBack = (message: string): Outcome => ({
  target: { namespace: 'review', name: 'hello' },
  observed: observed(message),
  verdict: { kind: 'failed', phase: 'RolledBack', reason: 'SmokeTestFailed', message },
  lastWait: '',
  waited: '10m',
});

/** The text between the opening and closing fence of the one fenced block in `markdown`. */
function fencedBody(markdown: string): { fence: string; body: string; outside: string } {
  const match = /^(`{3,})text\n([\s\S]*?)\n\1$/m.exec(markdown);
  if (!match) throw new Error(`no fenced block in:\n${markdown}`);
  return {
    fence: match[1] ?? '',
    body: match[2] ?? '',
    outside: markdown.replace(match[0], ''),
  };
}

const HOSTILE = [
  'smoke check failed: got <img src=x onerror=alert(1)> and **bold** [link](https://evil.example)',
  '```\n# Deployed fine\n```',
  '| a | b |\n|---|---|',
  '::error::injected\n::add-mask::secret\r\n::stop-commands::x',
  'line1\nline2\u0000\u001b[31mred\u202e',
].join('\n');

describe('the job summary', () => {
  it('puts a hostile lastRollback message inside one code block it cannot leave', () => {
    const markdown = summaryMarkdown(rolledBack(HOSTILE));
    const { fence, body, outside } = fencedBody(markdown);
    expect(fence.length).toBeGreaterThan(3);
    expect(body).toContain('<img src=x onerror=alert(1)>');
    expect(body).toContain('line1\nline2');
    expect(outside).not.toMatch(/<img|Deployed fine|evil\.example|::error::/);
    expect(markdown).toContain('### ❌ HelloWorld ` review/hello `: ` RolledBack ` (` SmokeTestFailed `)');
    expect(markdown).toContain('rolled back from ` pullfail.invalid/api:2 ` to ` api:1 `');
  });

  it('keeps any message inside its code block (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (message) => {
        const { fence, body } = fencedBody(summaryMarkdown(rolledBack(message)));
        // No line inside may close the block: a closing fence is a line of at least as many backticks.
        expect(body.split('\n').some((l) => l.trim().startsWith(fence))).toBe(false);
        expect([...body].filter(isUnsafeChar)).toEqual([]);
      }),
    );
  });

  it('says Available with the image and generation', () => {
    const outcome: Outcome = { ...rolledBack(''), verdict: { kind: 'available' } };
    expect(summaryMarkdown(outcome)).toBe(
      '### ✅ HelloWorld ` review/hello `: Available\n\n- image: ` pullfail.invalid/api:2 `\n' +
        '- ` generation 2, observed 2, phase RolledBack `\n',
    );
    expect(exitCode(outcome)).toBe(0);
  });

  it('shows the last phase and conditions when the time ran out', () => {
    const outcome: Outcome = {
      ...rolledBack('the image cannot be pulled'),
      verdict: undefined,
      lastWait: 'phase Progressing',
    };
    const markdown = summaryMarkdown(outcome);
    expect(markdown).toContain('no verdict within ` 10m `');
    expect(markdown).toContain('- last: ` phase Progressing `');
    expect(fencedBody(markdown).body).toBe('Degraded=True SmokeTestFailed: the image cannot be pulled');
    expect(exitCode(outcome)).toBe(2);
    expect(logText(outcome)).toContain('Degraded=True SmokeTestFailed: the image cannot be pulled');
  });
});

describe('inline code', () => {
  it('is fenced by more backticks than the text has in a row, and escapes |', () => {
    expect(code('a`b``c')).toBe('``` a`b``c ```');
    expect(code('x | y')).toBe('` x \\| y `');
    expect(code('two\nlines')).toBe('` two lines `');
    expect(code('')).toBe('–');
  });

  it('never holds a line break or an unescaped | (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (value) => {
        const span = code(value);
        expect(span).not.toMatch(/[\r\n]/);
        expect(span).not.toMatch(/(^|[^\\])\|/);
      }),
    );
  });
});

describe('clean', () => {
  it('drops control and bidirectional characters and bounds the length', () => {
    expect(clean('a\u0000b\u001b[0m\u202ec\r\nd', true)).toBe('ab[0mc\nd');
    expect(clean('x'.repeat(5000), true)).toBe(`${'x'.repeat(4000)}… (1000 more characters)`);
  });
});

describe('the error annotation', () => {
  it('is one workflow command whatever the message holds', () => {
    const annotation = errorAnnotation(rolledBack(HOSTILE)) ?? '';
    expect(annotation.split('\n')).toHaveLength(1);
    expect(
      annotation.startsWith('::error title=HelloWorld review/hello RolledBack::SmokeTestFailed: smoke'),
    ).toBe(true);
    expect(annotation).toContain('%0A::error::injected');
    expect(codeBlock('')).toBe('```text\n\n```');
  });

  it('is absent for a pass', () => {
    expect(errorAnnotation({ ...rolledBack(''), verdict: { kind: 'available' } })).toBeUndefined();
  });
});
