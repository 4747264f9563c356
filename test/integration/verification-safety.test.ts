// A tenant's HelloWorld against the operator on the local cluster, playing the attacker: a smoke check
// whose path climbs out of the pod proxy (with the CRD's rules bypassed, as an old or edited CRD would)
// must create nothing in another namespace, and HelloWorlds whose pods never answer must not stall the
// reconciles of another HelloWorld.
import http from 'node:http';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { API_PORT } from '../../operator/src/crd/defaults.js';
import type { HelloWorld, HelloWorldSpec, SmokeCheck } from '../../operator/src/crd/types.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  repoRoot,
  waitFor,
} from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  conditionOf,
  helloWorld,
  installCrd,
  kubectl,
  metricValue,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorProcess,
} from '../support/operator.js';
import { pointPodAt, proxyableLocalAddress } from '../support/pods.js';

/** Few workers, so that as many hanging HelloWorlds as workers would stall an operator that waits on pods. */
const WORKERS = 2;

let kc: KubeConfig;
let core: CoreV1Api;
let tenant: string;
let victim: string;
let operator: OperatorProcess;

beforeAll(async () => {
  kc = loadKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  buildOnce();
  installCrd();
  tenant = await createTestNamespace('vs-tenant');
  victim = await createTestNamespace('vs-victim');
  operator = await startOperator({
    env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: tenant, WORKERS: String(WORKERS) },
  });
}, 180_000);

afterAll(async () => {
  await operator.stop();
  await deleteTestNamespace(tenant);
  await deleteTestNamespace(victim);
}, 60_000);

const verified = (checks: SmokeCheck[]): Partial<HelloWorldSpec> => ({
  replicas: 1,
  rollout: {
    progressDeadlineSeconds: 60,
    verification: { enabled: true, smoke: { defaultChecks: false, checks }, analysis: { enabled: false } },
  },
});

/** Whether the API server admits a smoke check with this path (asked with a dry run). */
async function admits(path: string): Promise<boolean> {
  const body = helloWorld(tenant, 'dry-run', verified([{ name: 'c', path }]));
  const custom = kc.makeApiClient(CustomObjectsApi);
  const request = { group: 'hello.dev', version: 'v1alpha1', plural: 'helloworlds', namespace: tenant };
  return custom.createNamespacedCustomObject({ ...request, dryRun: 'All', body }).then(
    () => true,
    () => false,
  );
}

/** The CRD without the smoke-check path rules: what a cluster with an old or edited CRD serves. */
function crdWithoutPathRules(): string {
  type Node = { properties?: Record<string, Node>; items?: Node } & Record<string, unknown>;
  const crd = parse(readFileSync(`${repoRoot}crds/hello.dev_helloworlds.yaml`, 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
  };
  let node: Node | undefined = crd.spec.versions[0]?.schema.openAPIV3Schema;
  for (const key of ['spec', 'rollout', 'verification', 'smoke', 'checks', 'path']) {
    node = (node?.items ?? node)?.properties?.[key];
  }
  if (node === undefined) throw new Error('the CRD has no smoke check path');
  delete node.pattern;
  delete node['x-kubernetes-validations'];
  return stringify(crd);
}

describe('a smoke check whose path leaves the pod proxy, with the CRD rules bypassed', () => {
  const spellings = [
    ['plain', '/../../../../../../../..'],
    ['encoded', '/%2e%2e/%2e%2E/%2e%2e/%2E%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e'],
  ] as const;

  it('creates nothing in another namespace, and the HelloWorld fails its smoke test saying why', async () => {
    // Kept short, and always restored: the CRD is shared with every test on this cluster.
    kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], crdWithoutPathRules());
    try {
      await waitFor(() => admits('/../x'), { describe: 'the CRD without the path rules', timeoutMs: 30_000 });
      for (const [spelling, climb] of spellings) {
        const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `stolen-${spelling}` } };
        const hw: HelloWorld = helloWorld(
          tenant,
          `attack-${spelling}`,
          verified([
            {
              name: 'create-configmap',
              method: 'POST',
              path: `${climb}/api/v1/namespaces/${victim}/configmaps`,
              body: JSON.stringify(configMap),
              expectStatus: 201,
              retries: 0,
            },
            { name: 'read-secrets', path: `${climb}/api/v1/namespaces/${victim}/secrets`, contains: 'items' },
          ]),
        );
        applyHelloWorld(hw);
      }
    } finally {
      installCrd();
    }
    await waitFor(async () => !(await admits('/../x')), {
      describe: 'the CRD with the path rules',
      timeoutMs: 30_000,
    });

    const ended: HelloWorld[] = [];
    for (const [spelling] of spellings) {
      const name = `attack-${spelling}`;
      ended.push(
        await waitForHelloWorld(
          kc,
          tenant,
          name,
          (h) => conditionOf(h, 'Degraded')?.status === 'True' || h.status?.phase === 'Available',
          `${name} to end its verification`,
          { operator, timeoutMs: 120_000 },
        ),
      );
    }
    // Nothing reached another namespace, through any spelling.
    const stolen = await core.listConfigMapForAllNamespaces({});
    expect(stolen.items.map((cm) => cm.metadata?.name).filter((n) => n?.startsWith('stolen-'))).toEqual([]);
    const inVictim = await core.listNamespacedConfigMap({ namespace: victim });
    expect(inVictim.items.map((cm) => cm.metadata?.name)).toEqual(['kube-root-ca.crt']);
    for (const hw of ended) {
      expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'SmokeTestFailed' });
      expect(JSON.stringify(hw.status)).toMatch(
        /smoke check \\"create-configmap\\": path .* refused: dot segments/,
      );
    }
  }, 240_000);
});

describe('HelloWorlds whose pods never answer', () => {
  const address = proxyableLocalAddress();
  /** HelloWorld names whose smoke check the hanging server is holding. */
  const held = new Set<string>();
  let hang: http.Server;

  beforeAll(async () => {
    // Takes every request and never answers; the path names the HelloWorld the check belongs to.
    hang = http.createServer((req) => held.add(req.url?.split('/')[2] ?? '?'));
    await new Promise<void>((resolve, reject) => {
      hang.once('error', reject);
      hang.listen(API_PORT, address, resolve);
    });
  });

  afterAll(async () => {
    hang.closeAllConnections();
    await new Promise((resolve) => hang.close(resolve));
  });

  /** Points every running pod of these HelloWorlds at the hanging server. */
  async function pointAtHangingServer(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const pods = await core.listNamespacedPod({
        namespace: tenant,
        labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`,
      });
      for (const pod of pods.items) {
        if (pod.status?.phase === 'Running' && pod.status.podIP !== address) {
          await pointPodAt(core, tenant, pod.metadata?.name ?? '', address).catch(() => undefined);
        }
      }
    }
  }

  it('do not stall a spec change of another HelloWorld', async () => {
    const steady = (image: string) => helloWorld(tenant, 'steady', simulatedSpec({ image, replicas: 1 }));
    const converged = (image: string) => (hw: HelloWorld) =>
      hw.status?.phase === 'Available' &&
      hw.status.observedGeneration === hw.metadata.generation &&
      hw.spec.image === image;
    applyHelloWorld(steady('hello/api:1.0.0'));
    await waitForHelloWorld(kc, tenant, 'steady', converged('hello/api:1.0.0'), 'steady to be Available', {
      operator,
    });

    // One more hanging HelloWorld than the operator has workers; each check may take 11 × 300 s.
    const stuck = Array.from({ length: WORKERS + 1 }, (_, i) => `stuck-${String(i + 1)}`);
    for (const name of stuck) {
      const check = { name: 'hang', path: `/hang/${name}`, timeoutSeconds: 300, retries: 10 };
      applyHelloWorld(helloWorld(tenant, name, verified([check])));
    }
    await waitFor(
      async () => {
        await pointAtHangingServer(stuck);
        return held.size >= WORKERS;
      },
      { describe: `smoke checks of ${WORKERS} HelloWorlds to hang`, timeoutMs: 90_000, intervalMs: 500 },
    );

    applyHelloWorld(steady('hello/api:1.0.1'));
    await waitForHelloWorld(kc, tenant, 'steady', converged('hello/api:1.0.1'), 'steady to roll out 1.0.1', {
      operator,
      timeoutMs: 90_000,
    });
    // Every hanging HelloWorld gets verified at once, more of them than workers, none holding one.
    await waitFor(
      async () => {
        await pointAtHangingServer(stuck);
        return held.size === stuck.length;
      },
      {
        describe: `smoke checks of all ${stuck.length} HelloWorlds to hang`,
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    );
    expect([...held].sort()).toEqual(stuck);
    const rss = metricValue(await operator.metrics(), 'process_resident_memory_bytes');
    console.log(`operator RSS with ${stuck.length} hanging verifications: ${(rss / 2 ** 20).toFixed(0)} MiB`);
  }, 300_000);
});
