import type { V1Pod } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import { assessRolloutHealth, findPodFailure } from '../rollout/health.js';
import { REV2, T0, pod, rolling } from '../../../test/support/rollout-fixtures.js';
import { cachedPod } from './cache-reader.js';

/** A pod as the API server sends it: the test's pod plus a spec and the fields the cache drops. */
function fromApiServer(base: V1Pod): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...base.metadata,
      resourceVersion: '42',
      labels: { 'app.kubernetes.io/instance': 'hello', 'app.kubernetes.io/component': 'api' },
      managedFields: [{ manager: 'kubelet', operation: 'Update' }],
    },
    spec: {
      containers: [{ name: 'api', image: 'hello:2', env: [{ name: 'REDIS_URL', value: 'redis://r' }] }],
      nodeName: 'kwok-node-1',
    },
    status: { ...base.status, podIP: '10.0.0.7', hostIP: '10.0.0.1', startTime: T0 },
  };
}

describe('what the cache keeps of a pod', () => {
  const spec = resolveSpec({ image: 'hello:2' });
  const cases: [string, V1Pod][] = [
    ['ready', pod('a', REV2)],
    ['crash-looping', pod('b', REV2, { restarts: 5, lastExit: { reason: 'Error', exitCode: 1 } })],
    ['pulling an image that does not exist', pod('c', REV2, { waiting: { reason: 'ErrImagePull' } })],
    ['stuck in an init container', pod('d', REV2, { initWaiting: { reason: 'ImagePullBackOff' } })],
    ['terminating', pod('e', REV2, { terminating: true, ready: false })],
  ];

  it.each(cases)('%s: no spec, no managedFields, and the same judgement', (_what, base) => {
    const full = fromApiServer(base);
    const cached = cachedPod(full);
    expect(cached.spec).toBeUndefined();
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.metadata).toEqual({ ...full.metadata, managedFields: undefined });
    const judge = (pods: V1Pod[]) => ({
      failure: findPodFailure(pods, REV2, spec.rollout.crashLoopRestartThreshold),
      health: assessRolloutHealth({
        deployment: rolling(REV2),
        pods,
        revision: REV2,
        spec,
        startedAt: T0,
        now: T0,
      }),
    });
    expect(judge([cached])).toEqual(judge([full]));
    // The cache does not change the object the informer received.
    expect(full.spec).toBeDefined();
  });
});
