// The Helm chart installed with `helm install` on the local cluster (hack/lib/deploy-operator.sh's
// helm_install_operator, the path `make e2e-real` deploys with), then the operator run as the chart's
// ServiceAccount: it authenticates with that account's token, so the chart's RBAC is all it has, and a
// HelloWorld becomes Available. Pods do not run on the simulated nodes, so the operator is a local
// process; the release's own Deployment only has to be accepted and rolled out. Each release has its own
// name and namespace (cluster-scoped objects are named after the release), and is uninstalled at the end.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { CHART_DIR, helm, helmResult, renderChart, renderKustomize } from '../support/chart.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  repoRoot,
} from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  helloWorld,
  installCrd,
  kubectl,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorProcess,
} from '../support/operator.js';
import {
  applyObjects,
  canI,
  grantedRules,
  LEADER_ELECTION_RULES,
  OPERATOR_RULES,
  serviceAccount,
  serviceAccountKubeconfig,
  type RbacObject,
} from '../support/rbac.js';

let kc: KubeConfig;
let tmp: string;
const namespaces: string[] = [];
const releases: { name: string; namespace: string }[] = [];
const operators: OperatorProcess[] = [];
const crds: string[] = [];

/** A namespace of this file's, deleted in afterAll. */
async function namespace(prefix: string): Promise<string> {
  const name = await createTestNamespace(prefix);
  namespaces.push(name);
  return name;
}

/**
 * `helm upgrade --install` through hack/lib/deploy-operator.sh, as `make e2e-real` runs it. The CRD is
 * cluster-wide and shared by every test on this cluster (installCrd() applies it): the release leaves it
 * alone (crds.install=false); the chart's CRD is crds/ field for field (hack/helm-chart.test.ts).
 */
function install(release: string, ns: string, values: string[] = []): void {
  if (!releases.some((r) => r.name === release)) releases.push({ name: release, namespace: ns });
  const result = spawnSync(
    'bash',
    [
      '-c',
      '. hack/lib/deploy-operator.sh && helm_install_operator "$@"',
      'helm_install_operator',
      release,
      ns,
      'helloworld-operator:dev',
      '--kubeconfig',
      kubeconfigPath(),
      '--set',
      'crds.install=false',
      ...values,
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`helm_install_operator ${release} failed:\n${result.stderr}`);
}

/** What the release installed, by kind and name (cluster-scoped objects included). */
function installedObjects(release: string, ns: string): string[] {
  const selector = `app.kubernetes.io/instance=${release}`;
  const inNamespace = kubectl([
    'get',
    'serviceaccounts,deployments,poddisruptionbudgets,roles,rolebindings',
    '-n',
    ns,
    '-l',
    selector,
    '-o',
    'name',
  ]);
  const clusterWide = kubectl(['get', 'clusterroles,clusterrolebindings', '-l', selector, '-o', 'name']);
  return `${inNamespace}${clusterWide}`.split('\n').filter(Boolean).sort();
}

/** The value of one environment variable of the release's operator container. */
function operatorEnv(ns: string, deployment: string, name: string): string {
  return kubectl([
    'get',
    'deployment',
    deployment,
    '-n',
    ns,
    '-o',
    `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="${name}")].value}`,
  ]);
}

beforeAll(() => {
  kc = loadKubeConfig();
  buildOnce();
  installCrd();
  tmp = mkdtempSync(join(tmpdir(), 'hw-helm-'));
}, 1_800_000);

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  for (const { name, namespace: ns } of releases) {
    // Left over only when a test failed before its own uninstall.
    helmResult(['uninstall', name, '-n', ns, '--kubeconfig', kubeconfigPath(), '--ignore-not-found']);
  }
  for (const ns of namespaces) await deleteTestNamespace(ns);
  for (const crd of crds) kubectl(['delete', 'crd', crd, '--ignore-not-found', '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('helm install of charts/helloworld-operator', () => {
  it('installs cluster-wide RBAC that is enough to make a HelloWorld Available, and uninstalls cleanly', async () => {
    const system = await namespace('helm-system');
    const apps = await namespace('helm-apps');
    const release = `hw-${system.slice(-6)}`;
    const account = `${release}-helloworld-operator`;
    install(release, system);

    const objects = [
      `clusterrole.rbac.authorization.k8s.io/${account}`,
      `clusterrolebinding.rbac.authorization.k8s.io/${account}`,
      `deployment.apps/${account}`,
      `poddisruptionbudget.policy/${account}`,
      `role.rbac.authorization.k8s.io/${account}-leader-election`,
      `rolebinding.rbac.authorization.k8s.io/${account}-leader-election`,
      `serviceaccount/${account}`,
    ];
    expect(installedObjects(release, system)).toEqual(objects);
    // The rules of config/rbac/role.yaml, in any namespace; the Lease in the release namespace only.
    expect(grantedRules(system, account, apps)).toEqual(OPERATOR_RULES);
    expect(grantedRules(system, account, system)).toEqual({ ...OPERATOR_RULES, ...LEADER_ELECTION_RULES });
    expect(canI(serviceAccount(system, account), 'update', 'leases.coordination.k8s.io', apps)).toBe(false);

    const operator = await startOperator({
      kubeconfig: serviceAccountKubeconfig(kc, tmp, system, account),
      env: { WATCH_NAMESPACE: apps, LEADER_ELECTION: 'true', LEASE_NAMESPACE: system },
    });
    operators.push(operator);
    applyHelloWorld(helloWorld(apps, 'charted', simulatedSpec()));
    await waitForHelloWorld(
      kc,
      apps,
      'charted',
      (hw) => hw.status?.phase === 'Available' && hw.status.observedGeneration === 1,
      'the HelloWorld to become Available under the chart’s RBAC',
      { operator, timeoutMs: 120_000 },
    );
    // The operator held the Lease through the chart's leader-election Role.
    expect(kubectl(['get', 'lease', 'helloworld-operator', '-n', system, '-o', 'name'])).toMatch(/lease/);
    expect(await operator.stop()).toBe(0);

    // An upgrade (the same call again, other values) changes the release in place.
    install(release, system, ['--set', 'logLevel=debug']);
    const logLevel = operatorEnv(system, account, 'LOG_LEVEL');
    expect(logLevel).toBe('debug');
    expect(helm(['history', release, '-n', system, '--kubeconfig', kubeconfigPath(), '-o', 'json'])).toMatch(
      /"revision":2/,
    );

    helm(['uninstall', release, '-n', system, '--kubeconfig', kubeconfigPath(), '--wait']);
    expect(installedObjects(release, system)).toEqual([]);
    expect(helm(['list', '-n', system, '--kubeconfig', kubeconfigPath(), '-q'])).toBe('');
    // The HelloWorld and the CRD stay: uninstalling the operator deletes no user data.
    expect(kubectl(['get', 'hw', 'charted', '-n', apps, '-o', 'name'])).toMatch(/charted/);
  }, 300_000);

  it('with watchNamespaces, grants the rules in those namespaces only', async () => {
    const system = await namespace('helm-ns-system');
    const watched = [await namespace('helm-team-a'), await namespace('helm-team-b')];
    const other = await namespace('helm-other');
    const release = `hw-${system.slice(-6)}`;
    const account = `${release}-helloworld-operator`;
    install(release, system, ['--set', `watchNamespaces={${watched.join(',')}}`]);

    for (const ns of watched) expect(grantedRules(system, account, ns)).toEqual(OPERATOR_RULES);
    expect(grantedRules(system, account, system)).toEqual(LEADER_ELECTION_RULES);
    expect(grantedRules(system, account, other)).toEqual({});
    expect(canI(serviceAccount(system, account), 'list', 'secrets', '*')).toBe(false);
    const env = operatorEnv(system, account, 'WATCH_NAMESPACE');
    expect(env).toBe(watched.join(','));

    helm(['uninstall', release, '-n', system, '--kubeconfig', kubeconfigPath(), '--wait']);
    expect(installedObjects(release, system)).toEqual([]);
    for (const ns of watched) expect(kubectl(['get', 'rolebindings', '-n', ns, '-o', 'name'])).toBe('');
  }, 300_000);

  it('adopts an install of config/default with --take-ownership, selectors and all', () => {
    const system = `helm-adopt-${randomBytes(3).toString('hex')}`;
    kubectl(['create', 'namespace', system]);
    namespaces.push(system);
    const release = `hw-${system.slice(-6)}`;
    const fullname = `${release}-helloworld-operator`;
    // config/default as kubectl applies it, moved to this test's namespace and the release's names.
    const rename = (name: string): string => name.replace(/^helloworld-operator/, fullname);
    const objects = renderKustomize('config/default')
      .map((r) => r.object as Record<string, unknown> & RbacObject & { spec?: { template?: unknown } })
      .filter((obj) => obj.kind !== 'Namespace' && obj.kind !== 'CustomResourceDefinition')
      .map((obj) => {
        const moved = structuredClone(obj);
        moved.metadata.name = rename(obj.metadata.name);
        if (obj.metadata.namespace !== undefined) moved.metadata.namespace = system;
        if (moved.roleRef) moved.roleRef.name = rename(moved.roleRef.name);
        for (const subject of moved.subjects ?? [])
          Object.assign(subject, { name: fullname, namespace: system });
        return moved;
      });
    const deployment = objects.find((obj) => obj.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    deployment.spec.template.spec.serviceAccountName = fullname;
    applyObjects(objects);

    install(release, system, ['--take-ownership', '--force-conflicts']);
    expect(installedObjects(release, system)).toHaveLength(objects.length);
    expect(
      kubectl(['get', 'deployment', fullname, '-n', system, '-o', 'jsonpath={.metadata.annotations}']),
    ).toContain(`"meta.helm.sh/release-name":"${release}"`);
    helm(['uninstall', release, '-n', system, '--kubeconfig', kubeconfigPath(), '--wait']);
    expect(installedObjects(release, system)).toEqual([]);
  }, 300_000);

  it("renders a CRD that the API server accepts as the cluster's (server-side dry run)", () => {
    const crd = renderChart().find((r) => r.object.kind === 'CustomResourceDefinition')!.object;
    const out = kubectl(
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'],
      JSON.stringify(crd),
    );
    expect(out).toMatch(
      /customresourcedefinition.apiextensions.k8s.io\/helloworlds.hello.dev serverside-applied \(server dry run\)/,
    );
  });

  it('upgrades its CRD with the release, and keeps it on uninstall', () => {
    // The shared CRD must not change under other tests: a copy of the chart whose CRD has a group of its
    // own, so that this release owns it from the start.
    const chart = join(tmp, 'chart');
    cpSync(join(repoRoot, CHART_DIR), chart, { recursive: true });
    const crdFile = join(chart, 'files/crds/hello.dev_helloworlds.yaml');
    const group = `t${randomBytes(4).toString('hex')}.hello.dev`;
    const crdName = `helloworlds.${group}`;
    crds.push(crdName);
    const crd = parse(readFileSync(crdFile, 'utf8')) as {
      metadata: { name: string };
      spec: {
        group: string;
        versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: object } } } } }[];
      };
    };
    crd.metadata.name = crdName;
    crd.spec.group = group;
    writeFileSync(crdFile, stringify(crd));
    const system = `helm-crd-${group.slice(1, 9)}`;
    kubectl(['create', 'namespace', system]);
    namespaces.push(system);
    const release = `crd-${group.slice(1, 9)}`;
    releases.push({ name: release, namespace: system });
    const upgrade = (): string =>
      helm(['upgrade', '--install', release, chart, '-n', system, '--kubeconfig', kubeconfigPath()]);
    const probe = (): string =>
      kubectl([
        'get',
        'crd',
        crdName,
        '-o',
        'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.upgradeProbe.type}',
      ]);

    upgrade();
    expect(probe()).toBe('');
    // The next version of the operator adds a field: `helm upgrade` applies it (a crds/ folder would not).
    crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties = {
      ...crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties,
      upgradeProbe: { type: 'string' },
    };
    writeFileSync(crdFile, stringify(crd));
    upgrade();
    expect(probe()).toBe('string');

    const uninstall = helm(['uninstall', release, '-n', system, '--kubeconfig', kubeconfigPath(), '--wait']);
    expect(uninstall).toMatch(/kept due to the resource policy/);
    expect(kubectl(['get', 'crd', crdName, '-o', 'name'])).toMatch(crdName);
  }, 300_000);
});
