import { describe, expect, it } from '@jest/globals';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { ANNOTATION_RETRY } from '../crd/types.js';
import { REV1, REV2, REV3, deployment } from '../../../test/support/rollout-fixtures.js';
import { REVISION_ANNOTATION } from './revision.js';
import { chooseTemplate, templateToRun, type TemplateRevision } from './template.js';

describe('chooseTemplate', () => {
  const status = { stableRevision: REV1, failedRevision: REV2, observedRetry: 'a' };
  it('keeps the stable template while the spec asks for the failed revision', () => {
    expect(chooseTemplate({ status, specRevision: REV2, annotations: {}, autoRollback: true })).toEqual({
      use: 'stable',
      revision: REV1,
    });
    const sameRetry = { [ANNOTATION_RETRY]: 'a' };
    expect(
      chooseTemplate({ status, specRevision: REV2, annotations: sameRetry, autoRollback: true }).use,
    ).toBe('stable');
  });
  it('uses the spec on a spec change, a new retry value, without autoRollback or without a stable revision', () => {
    expect(chooseTemplate({ status, specRevision: REV3, annotations: {}, autoRollback: true }).use).toBe(
      'spec',
    );
    const retry = { [ANNOTATION_RETRY]: 'b' };
    expect(chooseTemplate({ status, specRevision: REV2, annotations: retry, autoRollback: true }).use).toBe(
      'spec',
    );
    expect(chooseTemplate({ status, specRevision: REV2, annotations: {}, autoRollback: false }).use).toBe(
      'spec',
    );
    const noStable = { failedRevision: REV2 };
    expect(
      chooseTemplate({ status: noStable, specRevision: REV2, annotations: {}, autoRollback: true }).use,
    ).toBe('spec');
  });
});

describe('templateToRun', () => {
  /** The pod template the Deployment ran for `revision`, as its ReplicaSet keeps it. */
  const replicaSet = (revision: string): V1ReplicaSet => {
    const template = deployment(revision).spec!.template;
    const labels = { app: 'hello', 'pod-template-hash': `hash-${revision}` };
    return { spec: { selector: {}, template: { ...template, metadata: { ...template.metadata, labels } } } };
  };
  const spec: TemplateRevision = { revision: REV2, template: deployment(REV2).spec!.template };
  const failed = { stableRevision: REV1, failedRevision: REV2 };
  const history = { status: failed, annotations: {}, replicaSets: [replicaSet(REV3), replicaSet(REV1)] };

  it("runs the stable revision's template from the ReplicaSet history while the spec asks for the failed one", () => {
    const run = templateToRun(spec, history, true);
    expect(run.revision).toBe(REV1);
    expect(run.template.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(REV1);
    expect(run.template.spec?.containers[0]?.image).toBe('hello:1');
    // The Deployment controller's own label is left to it: carried over, it would change the hash.
    expect(run.template.metadata?.labels).toEqual({ app: 'hello' });
  });

  it("runs the spec's template when the history no longer holds the stable revision", () => {
    expect(templateToRun(spec, { ...history, replicaSets: [replicaSet(REV3)] }, true)).toBe(spec);
  });

  it("runs the spec's template when nothing failed, or without autoRollback", () => {
    expect(templateToRun(spec, { ...history, status: { stableRevision: REV1 } }, true)).toBe(spec);
    expect(templateToRun(spec, history, false)).toBe(spec);
  });
});
