// The guardrails of config/policy on the local cluster's API server: a tenant's HelloWorld that names
// an image from elsewhere, exposes the Service outside, sets pod labels or annotations other controllers
// act on, or takes env values from Secrets is refused with the policy's message; a conforming one is
// admitted. The policy is bound by a label only this test's namespace carries, so other tests on the
// shared cluster are not affected, and it is removed afterwards.
import { spawnSync } from 'node:child_process';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  repoRoot,
  waitFor,
} from '../support/cluster.js';
import { helloWorld, installCrd, kubectl } from '../support/operator.js';
import { applyObjects, render } from '../support/rbac.js';
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';

interface Named {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    policyName?: string;
    paramRef?: { name: string; namespace?: string };
    matchResources?: { namespaceSelector?: unknown };
  };
}

let tenant: string; // guarded
let other: string; // not guarded
let params: string; // holds the parameter ConfigMap
let name: string;

/**
 * Creates a HelloWorld as a tenant would (`kubectl create`; with `dryRun`, the API server admits or
 * refuses it but stores nothing): the refusal by a ValidatingAdmissionPolicy, or undefined when admitted.
 */
function create(
  namespace: string,
  hwName: string,
  spec: Partial<HelloWorldSpec>,
  dryRun = true,
): string | undefined {
  const args = ['create', '-f', '-', ...(dryRun ? ['--dry-run=server'] : [])];
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], {
    cwd: repoRoot,
    input: JSON.stringify(helloWorld(namespace, hwName, spec)),
    encoding: 'utf8',
  });
  if (result.status === 0) return undefined;
  if (/ValidatingAdmissionPolicy/.test(result.stderr)) return result.stderr.trim();
  throw new Error(`kubectl create failed for another reason: ${result.stderr}`);
}

const conforming: Partial<HelloWorldSpec> = {
  image: 'registry.example.com/hello/api:1.0.0',
  redis: { image: 'registry.example.com/redis:7.4' },
  service: { type: 'ClusterIP' },
  podLabels: { team: 'a', 'example.com/tier': 'web' },
  podAnnotations: { note: 'x', 'prometheus.io/scrape': 'true', 'example.com/owner': 'team-a' },
  env: [
    { name: 'PLAIN', value: 'x' },
    { name: 'FROM_CONFIG', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } },
    { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
  ],
};

beforeAll(async () => {
  installCrd();
  tenant = await createTestNamespace('guarded');
  other = await createTestNamespace('unguarded');
  params = await createTestNamespace('guardrails');
  name = `helloworld-guardrails-${tenant}`;
  kubectl(['label', 'namespace', tenant, `hello.dev/guardrails-test=${tenant}`]);

  // The shipped sample, with this test's names, parameter namespace and namespace selector.
  const objects = render('config/policy') as unknown as Named[];
  for (const obj of objects) {
    obj.metadata.name = name;
    if (obj.kind === 'ConfigMap') obj.metadata.namespace = params;
    if (obj.kind === 'ValidatingAdmissionPolicyBinding') {
      obj.spec!.policyName = name;
      obj.spec!.paramRef = { ...obj.spec!.paramRef!, name, namespace: params };
      obj.spec!.matchResources = {
        namespaceSelector: { matchLabels: { 'hello.dev/guardrails-test': tenant } },
      };
    }
  }
  expect(objects.map((obj) => obj.kind).sort()).toEqual([
    'ConfigMap',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ]);
  applyObjects(objects);
  // Policies reach the admission chain through an informer: wait until the binding takes effect.
  await waitFor(
    () => create(tenant, 'probe', { ...conforming, image: 'docker.io/evil/api:1' }) !== undefined,
    {
      describe: 'the policy to refuse a foreign image',
      timeoutMs: 30_000,
      intervalMs: 500,
    },
  );
}, 120_000);

afterAll(async () => {
  kubectl(['delete', 'validatingadmissionpolicybinding', name, '--ignore-not-found']);
  kubectl(['delete', 'validatingadmissionpolicy', name, '--ignore-not-found']);
  for (const ns of [tenant, other, params]) await deleteTestNamespace(ns);
}, 60_000);

describe('config/policy', () => {
  it('compiles without type-checking warnings', () => {
    const policy = JSON.parse(kubectl(['get', 'validatingadmissionpolicy', name, '-o', 'json'])) as {
      status?: { typeChecking?: { expressionWarnings?: unknown[] } };
    };
    expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it('admits a conforming HelloWorld', () => {
    expect(create(tenant, 'conforming', conforming, false)).toBeUndefined();
  });

  it.each<[string, Partial<HelloWorldSpec>, string]>([
    [
      'an image from another registry',
      { image: 'docker.io/evil/api:1' },
      'image docker.io/evil/api:1 is not from an allowed registry; images must start with one of: registry.example.com/',
    ],
    [
      'a registry that only starts like the allowed one',
      { image: 'registry.example.com.attacker.io/api:1' },
      'image registry.example.com.attacker.io/api:1 is not from an allowed registry',
    ],
    ['an image without a registry', { image: 'api:1' }, 'image api:1 is not from an allowed registry'],
    [
      'a managed Redis image from another registry',
      { redis: { image: 'docker.io/library/redis:7' } },
      'image docker.io/library/redis:7 is not from an allowed registry',
    ],
    [
      'a LoadBalancer Service',
      { service: { type: 'LoadBalancer' } },
      'spec.service.type LoadBalancer is not allowed in this namespace; allowed: ClusterIP',
    ],
    ['a NodePort Service', { service: { type: 'NodePort' } }, 'spec.service.type NodePort is not allowed'],
    [
      'a pod label that steers sidecar injection',
      { podLabels: { 'sidecar.istio.io/inject': 'false' } },
      'spec.podLabels key sidecar.istio.io/inject has a prefix tenants may not set; allowed prefixes: example.com',
    ],
    [
      'a pod label under a subdomain of an allowed prefix',
      { podLabels: { 'evil.example.com/tier': 'web' } },
      'spec.podLabels key evil.example.com/tier has a prefix tenants may not set',
    ],
    [
      'a pod annotation that blocks node scale-down',
      { podAnnotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' } },
      'spec.podAnnotations key cluster-autoscaler.kubernetes.io/safe-to-evict has a prefix tenants may not set',
    ],
    [
      'an env value read from a Secret',
      { env: [{ name: 'STOLEN', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] },
      'spec.env STOLEN takes its value from a source tenants may not use (secretKeyRef); allowed valueFrom ' +
        'sources: configMapKeyRef, fieldRef, resourceFieldRef',
    ],
  ])('refuses %s', (_what, change, message) => {
    const refusal = create(tenant, 'hostile', { ...conforming, ...change });
    expect(refusal).toContain(message);
  });

  it('refuses a spec change that breaks the rules, and lets metadata-only updates through', () => {
    expect(create(tenant, 'updated', conforming, false)).toBeUndefined();
    const patch = (body: object): string => {
      const result = spawnSync(
        'kubectl',
        [
          '--kubeconfig',
          kubeconfigPath(),
          'patch',
          'helloworld',
          'updated',
          '-n',
          tenant,
          '--type=merge',
          '-p',
          JSON.stringify(body),
        ],
        { cwd: repoRoot, encoding: 'utf8' },
      );
      return `${String(result.status)} ${result.stderr}`;
    };
    expect(patch({ spec: { service: { type: 'LoadBalancer' } } })).toMatch(
      /^1 .*spec\.service\.type LoadBalancer is not allowed/s,
    );
    expect(patch({ metadata: { annotations: { 'hello.dev/retry': '1' } } })).toBe('0 ');
  });

  it('leaves namespaces without the label alone', () => {
    expect(
      create(other, 'hostile', {
        ...conforming,
        image: 'docker.io/evil/api:1',
        service: { type: 'LoadBalancer' },
      }),
    ).toBeUndefined();
  });

  it('refuses everything when its parameters are missing, rather than admitting unchecked', async () => {
    kubectl(['delete', 'configmap', name, '-n', params]);
    await waitFor(() => create(tenant, 'unchecked', conforming) !== undefined, {
      describe: 'a refusal without parameters',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });
});
