// The generated ServiceMonitor and PrometheusRule on a real API server that has the Prometheus
// Operator's kinds (test/fixtures/prometheus-operator-crds.yaml): the operator's apply writes them,
// they are stored as built, owned by their HelloWorld, and garbage-collected with it.
import { readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import {
  createTestNamespace,
  deleteTestNamespace,
  isApiError,
  loadKubeConfig,
  repoRoot,
  waitFor,
} from '../../../test/support/cluster.js';
import { resolveSpec } from '../crd/defaults.js';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type HelloWorld } from '../crd/types.js';
import { CLIENT_OPTIONS } from '../controller/client-options.js';
import { KubeClient } from '../runtime/kube.js';
import {
  buildPrometheusRule,
  buildServiceMonitor,
  MONITORING_API_VERSION,
  PROMETHEUS_OPERATOR_CRDS,
  type PrometheusRule,
  type ServiceMonitor,
} from './monitoring.js';

const fieldManager = 'monitoring-int-test';

let kc: KubeConfig;
let extensions: ApiextensionsV1Api;
let custom: CustomObjectsApi;
let kube: KubeClient;
let namespace = '';
/** The fixture CRDs this run installed (and so removes again); ones that existed already are kept. */
const installed: string[] = [];

async function crdExists(name: string): Promise<boolean> {
  try {
    await extensions.readCustomResourceDefinition({ name });
    return true;
  } catch (error) {
    if (isApiError(error, 404)) return false;
    throw error;
  }
}

/** Server-side apply as raw JSON: client-node's typed serializer would drop the x-kubernetes-* keys. */
async function applyCrd(crd: V1CustomResourceDefinition): Promise<void> {
  const name = crd.metadata?.name ?? '';
  await kube.rest.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`, {
    query: { fieldManager, force: true },
    body: crd,
    contentType: 'application/apply-patch+yaml',
  });
  await waitFor(
    async () => {
      const stored = await extensions.readCustomResourceDefinition({ name });
      return stored.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { describe: `CRD ${name} to be established`, timeoutMs: 30_000 },
  );
}

beforeAll(async () => {
  kc = loadKubeConfig();
  extensions = kc.makeApiClient(ApiextensionsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  kube = KubeClient.fromKubeConfig(kc, CLIENT_OPTIONS);
  await applyCrd(
    parse(readFileSync(`${repoRoot}crds/hello.dev_helloworlds.yaml`, 'utf8')) as V1CustomResourceDefinition,
  );
  const fixtures = parseAllDocuments(
    readFileSync(`${repoRoot}test/fixtures/prometheus-operator-crds.yaml`, 'utf8'),
  );
  for (const doc of fixtures) {
    const crd = doc.toJS() as V1CustomResourceDefinition;
    const name = crd.metadata?.name ?? '';
    if (await crdExists(name)) continue;
    await applyCrd(crd);
    installed.push(name);
  }
  namespace = await createTestNamespace('monitoring', kc);
}, 120_000);

afterAll(async () => {
  if (namespace !== '') await deleteTestNamespace(namespace, { kc, wait: true });
  for (const name of installed) await extensions.deleteCustomResourceDefinition({ name });
}, 120_000);

async function createHelloWorld(name: string): Promise<HelloWorld> {
  const body = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: { image: 'hello-api:1.0.0', monitoring: { labels: { release: 'kube-prometheus' } } },
  };
  return (await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    body,
  })) as HelloWorld;
}

describe('monitoring children on the API server', () => {
  it('fixture CRDs are the kinds the operator looks for', () => {
    const names = parseAllDocuments(
      readFileSync(`${repoRoot}test/fixtures/prometheus-operator-crds.yaml`, 'utf8'),
    ).map((d) => (d.toJS() as V1CustomResourceDefinition).metadata?.name);
    expect(names).toEqual([...PROMETHEUS_OPERATOR_CRDS]);
  });

  it('applies the ServiceMonitor and PrometheusRule as built, owned by the HelloWorld', async () => {
    const hw = await createHelloWorld('demo');
    // The API server's defaulting fills spec.monitoring the way resolveSpec does.
    const spec = resolveSpec(hw.spec);
    expect(spec.monitoring).toEqual({
      slo: { availability: 99.9, latencyP99Ms: 250 },
      labels: { release: 'kube-prometheus' },
    });

    const desired = [buildServiceMonitor(hw, spec), buildPrometheusRule(hw, spec)];
    // As the reconciler writes children: stamped with the desired hash, applied when missing or changed.
    await waitFor(() => kube.applyIfNeeded(desired[0]!, undefined), {
      describe: 'the ServiceMonitor kind to be served',
    });
    await kube.applyIfNeeded(desired[1]!, undefined);

    const sm = await kube.get<ServiceMonitor>(MONITORING_API_VERSION, 'ServiceMonitor', namespace, 'demo');
    const rule = await kube.get<PrometheusRule>(MONITORING_API_VERSION, 'PrometheusRule', namespace, 'demo');
    expect(sm?.spec).toEqual(desired[0]!.spec);
    expect(rule?.spec).toEqual(desired[1]!.spec);
    for (const stored of [sm, rule]) {
      expect(stored?.metadata.labels).toMatchObject({
        release: 'kube-prometheus',
        'app.kubernetes.io/instance': 'demo',
        'app.kubernetes.io/managed-by': 'helloworld-operator',
      });
      expect(stored?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'HelloWorld', name: 'demo', uid: hw.metadata.uid, controller: true }),
      ]);
    }

    // The stored objects already hold what is desired: the steady state makes no writes.
    expect((await kube.applyIfNeeded(desired[0]!, sm)).applied).toBe(false);
    expect((await kube.applyIfNeeded(desired[1]!, rule)).applied).toBe(false);
  });

  it('garbage-collects both with their HelloWorld', async () => {
    const hw = await createHelloWorld('gone');
    const spec = resolveSpec(hw.spec);
    await waitFor(() => kube.apply(buildServiceMonitor(hw, spec)), {
      describe: 'the ServiceMonitor kind to be served',
    });
    await kube.apply(buildPrometheusRule(hw, spec));

    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name: 'gone',
      propagationPolicy: 'Foreground',
    });
    await waitFor(
      async () => {
        const left = await Promise.all(
          ['ServiceMonitor', 'PrometheusRule'].map((kind) =>
            kube.get(MONITORING_API_VERSION, kind, namespace, 'gone'),
          ),
        );
        return left.every((o) => o === undefined);
      },
      {
        describe: 'the ServiceMonitor and PrometheusRule of "gone" to be garbage-collected',
        timeoutMs: 60_000,
      },
    );
  }, 90_000);
});
