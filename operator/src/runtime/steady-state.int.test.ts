// Every child the builders produce, applied to the real API server and read back, compares as up to
// date: the API server's defaulting and normalisation never make `needsApply` see a difference, so a
// steady state makes zero writes for real objects, not only for hand-written ones.
import { jest } from '@jest/globals';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig } from '../../../test/support/cluster.js';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../crd/types.js';
import { desiredState } from '../builders/index.js';
import { CLIENT_OPTIONS } from '../controller/client-options.js';
import { firstDifference, withDesiredHash } from './apply-diff.js';
import { KubeClient } from './kube.js';
import { HttpKubeRest } from './rest.js';

jest.setTimeout(60_000);

describe('steady state of the built children (real API server)', () => {
  let kc: KubeConfig;
  let client: KubeClient;
  let namespace: string;

  beforeAll(async () => {
    kc = loadKubeConfig();
    client = new KubeClient(new HttpKubeRest(kc), CLIENT_OPTIONS);
    namespace = await createTestNamespace('steady', kc);
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  it.each<[string, Omit<HelloWorldSpec, 'image'>]>([
    ['managed Redis, fixed replicas', { replicas: 2 }],
    [
      'autoscaling, resources and env',
      {
        autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
        resources: { requests: { cpu: '0.25', memory: '128Mi' }, limits: { memory: '0.25Gi' } },
        env: [{ name: 'GREETING', value: 'hi' }, { name: 'EMPTY' }],
        disruptionBudget: { maxUnavailable: '50%' },
        podLabels: { team: 'a' },
        podAnnotations: { note: 'x' },
      },
    ],
  ])('%s', async (_name, extra) => {
    const name = `hw-${Math.random().toString(16).slice(2, 8)}`;
    // The HelloWorld exists only here: operators running against the same cluster must not reconcile
    // (and re-apply) these children. A ConfigMap stands in as their owner, so nothing collects them.
    const owner = await client.apply<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-owner`, namespace },
    });
    const hw: HelloWorld = {
      apiVersion: 'hello.dev/v1alpha1',
      kind: 'HelloWorld',
      metadata: { name, namespace, uid: owner.metadata!.uid!, generation: 1 },
      spec: { image: 'registry.example/hello:1', ...extra },
    };
    const resolved = resolveSpec(hw.spec);
    const desired = desiredState(hw, resolved, {
      redis: { password: 'not-a-real-password', checksum: 'checksum-1' },
      prometheusOperatorInstalled: false,
    });
    for (const child of desired.apply) {
      child.metadata = {
        ...child.metadata,
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: `${name}-owner`,
            uid: hw.metadata.uid!,
            controller: true,
          },
        ],
      };
    }
    expect(desired.apply.length).toBeGreaterThanOrEqual(6);

    for (const child of desired.apply) {
      const applied = await client.apply(withDesiredHash(child, CLIENT_OPTIONS.desiredHashAnnotation));
      const what = `${child.kind ?? ''} ${child.metadata?.name ?? ''}`;
      expect({
        what,
        difference: firstDifference(withDesiredHash(child, CLIENT_OPTIONS.desiredHashAnnotation), applied),
      }).toEqual({
        what,
        difference: undefined,
      });
    }

    // Controllers have defaulted and updated the children by now; the next reconcile still writes nothing.
    const before = client.writeCount();
    for (const child of desired.apply) {
      const live = await client.get(child.apiVersion!, child.kind!, namespace, child.metadata!.name!);
      const outcome = await client.applyIfNeeded(child, live);
      expect({ what: child.kind ?? '', applied: outcome.applied, reason: outcome.reason }).toEqual({
        what: child.kind ?? '',
        applied: false,
        reason: undefined,
      });
    }
    expect(client.writeCount() - before).toBe(0);
  });
});
