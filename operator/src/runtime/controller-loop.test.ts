import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.js';
import { enqueueOwner, instrument, ownerKey, parseKey } from './controller-loop.js';
import { RuntimeMetrics } from './metrics.js';
import { WorkQueue } from './workqueue.js';

const OWNER = { kind: 'HelloWorld', nameLabel: 'app.kubernetes.io/instance' };

const child = (meta: NonNullable<KubernetesObject['metadata']>): KubernetesObject => ({ metadata: meta });

describe('parseKey', () => {
  it('splits namespace and name', () => {
    expect(parseKey('team-a/hello')).toEqual({ namespace: 'team-a', name: 'hello' });
    expect(parseKey('cluster-thing')).toEqual({ namespace: '', name: 'cluster-thing' });
  });
});

describe('ownerKey', () => {
  it('prefers the HelloWorld controller reference', () => {
    const obj = child({
      namespace: 'ns',
      labels: { 'app.kubernetes.io/instance': 'other' },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'HelloWorld', name: 'not-controller', uid: '1' },
        { apiVersion: 'hello.dev/v1alpha1', kind: 'HelloWorld', name: 'hello', uid: '2', controller: true },
      ],
    });
    expect(ownerKey(obj, OWNER)).toBe('ns/hello');
  });

  it('falls back to the instance label for grandchildren (pods, replica sets)', () => {
    const pod = child({
      namespace: 'ns',
      labels: { 'app.kubernetes.io/instance': 'hello' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'hello-abc', uid: '3', controller: true },
      ],
    });
    expect(ownerKey(pod, OWNER)).toBe('ns/hello');
    expect(ownerKey(pod, { kind: 'HelloWorld' })).toBeUndefined();
    expect(ownerKey(child({ namespace: 'ns' }), OWNER)).toBeUndefined();
  });
});

describe('enqueueOwner', () => {
  it('queues the owner, and the previous owner when it changed', () => {
    const queue = new WorkQueue<string>();
    const handlers = enqueueOwner(queue, OWNER);
    const labelled = (instance: string) =>
      child({ namespace: 'ns', labels: { 'app.kubernetes.io/instance': instance } });
    handlers.add?.(labelled('a'));
    handlers.update?.(labelled('b'), labelled('a'));
    handlers.delete?.(child({ namespace: 'ns' }));
    expect(queue.len()).toBe(2);
  });
});

describe('instrument', () => {
  it('records results and durations and rethrows errors', async () => {
    const metrics = new RuntimeMetrics({ prefix: 'test', kind: 'Thing' });
    let t = 0;
    const seen: string[] = [];
    const handler = instrument(
      (request) => {
        seen.push(`${request.namespace}/${request.name}`);
        t += 250;
        if (request.name === 'bad') return Promise.reject(new Error('boom'));
        return Promise.resolve(request.name === 'slow' ? { requeueAfterMs: 1000 } : undefined);
      },
      { logger: createLogger('test', 'silent'), metrics, now: () => t },
    );
    await handler('ns/good');
    await expect(handler('ns/slow')).resolves.toEqual({ requeueAfterMs: 1000 });
    await expect(handler('ns/bad')).rejects.toThrow('boom');
    expect(seen).toEqual(['ns/good', 'ns/slow', 'ns/bad']);
    const total = await metrics.reconcileTotal.get();
    const byResult: Record<string, number> = Object.fromEntries(
      total.values.map((v) => [String(v.labels.result), v.value]),
    );
    expect(byResult).toEqual({ success: 1, requeue: 1, error: 1 });
    const duration = await metrics.reconcileDuration.get();
    expect(duration.values.find((v) => v.metricName?.endsWith('_sum'))?.value).toBeCloseTo(0.75);
  });
});
