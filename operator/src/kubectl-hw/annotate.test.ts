import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { annotationChange, isGateVerb, mergePatch } from './annotate.js';
import { VERBS } from './args.js';

const now = new Date(Date.UTC(2026, 11, 4, 3, 30, 0, 123));

describe('annotationChange', () => {
  it('gives promote, abort and retry a fresh token: the time of the request', () => {
    expect(annotationChange('promote', now)).toEqual({
      annotation: 'hello.dev/promote',
      value: '2026-12-04T03:30:00.123Z',
    });
    expect(annotationChange('abort', now).annotation).toBe('hello.dev/abort');
    expect(annotationChange('retry', now).annotation).toBe('hello.dev/retry');
    const later = annotationChange('promote', new Date(now.getTime() + 1)).value;
    expect(later).not.toBe(annotationChange('promote', now).value);
  });

  it('sets hello.dev/pause to pause and removes it to resume', () => {
    expect(annotationChange('pause', now)).toEqual({
      annotation: 'hello.dev/pause',
      value: now.toISOString(),
    });
    expect(annotationChange('resume', now)).toEqual({ annotation: 'hello.dev/pause', value: null });
  });

  it('patches nothing but the one annotation', () => {
    expect(mergePatch(annotationChange('resume', now))).toEqual({
      metadata: { annotations: { 'hello.dev/pause': null } },
    });
  });

  it('knows which verbs write', () => {
    expect(VERBS.filter(isGateVerb)).toEqual(['promote', 'pause', 'resume', 'abort', 'retry']);
  });
});

describe('the npm package', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    bin?: Record<string, string>;
    files?: string[];
  };

  it('ships kubectl-hw as the compiled main.ts, an executable script', () => {
    expect(pkg.bin).toEqual({ 'kubectl-hw': 'dist/operator/kubectl-hw/main.js' });
    expect(pkg.files).toContain('dist/operator/**/*.js');
    expect(pkg.files).toContain('dist/common/**/*.js');
    expect(readFileSync('operator/src/kubectl-hw/main.ts', 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    );
  });
});
