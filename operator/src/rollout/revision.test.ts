import { describe, expect, it } from '@jest/globals';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { REV1, pod } from '../../../test/support/rollout-fixtures.js';
import { REVISION_ANNOTATION, podRevision, revisionOf } from './revision.js';

const template = (image: string, annotations?: Record<string, string>): V1PodTemplateSpec => ({
  metadata: { labels: { app: 'hello', tier: 'api' }, ...(annotations && { annotations }) },
  spec: { containers: [{ name: 'api', image, ports: [{ containerPort: 8080 }] }] },
});

describe('revisionOf', () => {
  it('is 10 hex characters and changes with the template', () => {
    const a = revisionOf(template('hello:1'));
    expect(a).toMatch(/^[0-9a-f]{10}$/);
    expect(revisionOf(template('hello:2'))).not.toBe(a);
  });

  it('does not depend on key order, and ignores its own annotation', () => {
    const reordered: V1PodTemplateSpec = {
      spec: { containers: [{ ports: [{ containerPort: 8080 }], image: 'hello:1', name: 'api' }] },
      metadata: { labels: { tier: 'api', app: 'hello' }, annotations: { [REVISION_ANNOTATION]: 'whatever' } },
    };
    expect(revisionOf(reordered)).toBe(revisionOf(template('hello:1')));
  });

  it('is the same once stamped: the builder hashes, then writes the annotation', () => {
    const t = template('hello:1', { 'prometheus.io/scrape': 'true' });
    const revision = revisionOf(t);
    const stamped = template('hello:1', { 'prometheus.io/scrape': 'true', [REVISION_ANNOTATION]: revision });
    expect(revisionOf(stamped)).toBe(revision);
  });

  it('changes with other annotations', () => {
    expect(revisionOf(template('hello:1', { a: '1' }))).not.toBe(revisionOf(template('hello:1', { a: '2' })));
  });
});

describe('podRevision', () => {
  it('reads the annotation', () => {
    expect(podRevision(pod('p', REV1))).toBe(REV1);
    expect(podRevision({ metadata: { name: 'p' } })).toBeUndefined();
  });
});
