// KubeClient against the real API server: server-side apply, the zero-write steady state, drift repair,
// the HelloWorld status subresource, deletes and reads.
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { KubeConfig, KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { createLogger } from '#common/logger.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  repoRoot,
  waitFor,
} from '../../../test/support/cluster.js';
import type { HelloWorld } from '../crd/types.js';
import { CLIENT_OPTIONS } from '../controller/client-options.js';
import { needsApply, withDesiredHash } from './apply-diff.js';
import { Informer } from './informer.js';
import { KubeClient } from './kube.js';
import { HttpKubeRest } from './rest.js';
import { HttpWatcher } from './watch.js';

const logger = createLogger('kube-test', 'silent');
const ANNOTATION_DESIRED_HASH = CLIENT_OPTIONS.desiredHashAnnotation;

// Real API calls, real backoff (the informer waits 1 s before a relist after an error).
jest.setTimeout(60_000);

describe('KubeClient (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  let namespace: string;

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    namespace = await createTestNamespace('kube', kc);
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  const deployment = (replicas: number): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'helloworld-operator', 'test-run': namespace },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'registry.example/hello:1',
              ports: [{ containerPort: 8080, name: 'http' }],
              resources: { requests: { cpu: '0.1', memory: '0.5Gi' }, limits: { memory: '512Mi' } },
            },
          ],
        },
      },
    },
  });

  it('applies, reads back as up to date, and makes no write while nothing changes', async () => {
    const writes: string[] = [];
    const client = new KubeClient(rest, {
      ...CLIENT_OPTIONS,
      onWrite: (verb, kind) => writes.push(`${verb} ${kind}`),
    });
    const desired = deployment(2);

    const applied: V1Deployment = await client.apply(withDesiredHash(desired, ANNOTATION_DESIRED_HASH));
    expect(applied.metadata?.annotations?.[ANNOTATION_DESIRED_HASH]).toMatch(/^[0-9a-f]{16}$/);
    expect(applied.metadata?.managedFields?.map((f) => f.manager)).toContain('helloworld-operator');
    expect(needsApply(withDesiredHash(desired, ANNOTATION_DESIRED_HASH), applied)).toBe(false);
    const read = await client.get<V1Deployment>('apps/v1', 'Deployment', namespace, 'web');
    expect(needsApply(withDesiredHash(desired, ANNOTATION_DESIRED_HASH), read)).toBe(false);

    // The steady state: ten reconciles against the informer's copy write nothing.
    const informer = new Informer<V1Deployment>({
      path: '/apis/apps/v1/deployments',
      labelSelector: `test-run=${namespace}`,
      rest,
      watcher: new HttpWatcher(kc),
      logger,
    });
    informer.start();
    try {
      await waitFor(() => informer.get(namespace, 'web'), { describe: 'the deployment in the cache' });
      const before = client.writeCount();
      for (let i = 0; i < 10; i++) {
        const outcome = await client.applyIfNeeded(deployment(2), informer.get(namespace, 'web'));
        expect(outcome.applied).toBe(false);
      }
      expect(client.writeCount() - before).toBe(0);
      expect(writes).toEqual(['apply Deployment']);

      // Drift: someone scales it by hand; the next reconcile puts it back.
      await rest.request('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/web`, {
        body: { spec: { replicas: 5 } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: 'kubectl-edit' },
      });
      await waitFor(() => informer.get(namespace, 'web')?.spec?.replicas === 5, {
        describe: 'the edit in the cache',
      });
      const repaired = await client.applyIfNeeded(deployment(2), informer.get(namespace, 'web'));
      expect(repaired).toMatchObject({ applied: true, reason: 'spec.replicas' });
      expect(repaired.object.spec?.replicas).toBe(2);

      // A changed desired state is one write; the hash annotation moves with it.
      await waitFor(() => informer.get(namespace, 'web')?.spec?.replicas === 2, {
        describe: 'the repair in the cache',
      });
      const scaled = await client.applyIfNeeded(deployment(3), informer.get(namespace, 'web'));
      expect(scaled.applied).toBe(true);
      expect(scaled.reason).toBe(`metadata.annotations.${ANNOTATION_DESIRED_HASH}`);

      // Deletion: the next reconcile sees nothing in the cache and recreates it.
      expect(await client.delete('apps/v1', 'Deployment', namespace, 'web')).toBe(true);
      await waitFor(() => informer.get(namespace, 'web') === undefined, {
        describe: 'the delete in the cache',
      });
      const recreated = await client.applyIfNeeded(deployment(3), informer.get(namespace, 'web'));
      expect(recreated).toMatchObject({ applied: true, reason: '' });
      expect(client.writeCount('apply', 'Deployment')).toBe(4);
      expect(client.writeCount('delete')).toBe(1);
    } finally {
      await informer.stop();
    }
  });

  it('delete of a missing object and get of a missing object are not errors', async () => {
    const client = new KubeClient(rest, CLIENT_OPTIONS);
    expect(await client.delete('v1', 'ConfigMap', namespace, 'never-existed')).toBe(false);
    expect(await client.get('v1', 'Secret', namespace, 'never-existed')).toBeUndefined();
    expect(client.writeCount()).toBe(0);
  });

  it('applies HelloWorld status through the status subresource', async () => {
    const client = new KubeClient(rest, CLIENT_OPTIONS);
    const crd = parse(readFileSync(`${repoRoot}crds/hello.dev_helloworlds.yaml`, 'utf8')) as {
      metadata: { name: string };
    };
    await client.apply(crd as never); // resolved by discovery: CRDs are not in the built-in table
    await waitFor(
      async () => {
        const got = await client.get<
          KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
        >('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, crd.metadata.name);
        return got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { describe: 'the HelloWorld CRD to be established' },
    );
    const hw = await waitFor(
      () =>
        client.apply<HelloWorld>({
          apiVersion: 'hello.dev/v1alpha1',
          kind: 'HelloWorld',
          metadata: { name: 'hello', namespace },
          spec: { image: 'registry.example/hello:1' },
        }),
      { describe: 'the HelloWorld to be accepted' },
    );

    const updated = await client.patchStatus(hw, {
      phase: 'Progressing',
      observedGeneration: 1,
      replicas: 2,
    });
    expect(updated.status).toMatchObject({ phase: 'Progressing', replicas: 2 });
    expect(updated.spec.image).toBe('registry.example/hello:1');
    // Apply semantics: a field the operator no longer sets is removed.
    const next = await client.patchStatus(hw, { phase: 'Available', observedGeneration: 1 });
    expect(next.status).toEqual({ phase: 'Available', observedGeneration: 1 });
    expect(client.writeCount('status', 'HelloWorld')).toBe(2);
  });

  it('writes nothing to an object that was replaced since it was read (uid precondition)', async () => {
    const client = new KubeClient(rest, CLIENT_OPTIONS);
    const service = (selector: Record<string, string>): KubernetesObject & { spec: unknown } => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'replaced',
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'helloworld-operator' },
      },
      spec: { selector, ports: [{ port: 80 }] },
    });
    const ours = await client.apply(service({ app: 'ours' }));
    // Someone deletes it and creates their own under the name; the cache still holds ours.
    await client.delete('v1', 'Service', namespace, 'replaced');
    await waitFor(async () => (await client.get('v1', 'Service', namespace, 'replaced')) === undefined, {
      describe: 'the Service to be gone',
    });
    const theirs = await rest.request<KubernetesObject>('POST', `/api/v1/namespaces/${namespace}/services`, {
      body: service({ app: 'theirs' }),
    });
    const writes = client.writeCount();
    await expect(client.applyIfNeeded(service({ app: 'ours', tier: 'web' }), ours)).rejects.toThrow();
    await expect(client.delete('v1', 'Service', namespace, 'replaced', ours.metadata?.uid)).rejects.toThrow(
      /[Pp]recondition/,
    );
    const after = await client.get<KubernetesObject & { spec: { selector: unknown } }>(
      'v1',
      'Service',
      namespace,
      'replaced',
    );
    expect(after?.metadata?.resourceVersion).toBe(theirs.metadata?.resourceVersion);
    expect(after?.spec.selector).toEqual({ app: 'theirs' });
    expect(client.writeCount()).toBe(writes);
  });
});
