// Helpers for tests of the operator's RBAC: render the RBAC objects of an install, ask the API server
// what a ServiceAccount may do (`kubectl auth can-i` with impersonation), and run as that account.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kubeconfigPath, repoRoot } from './cluster.js';
import { kubectl } from './operator.js';

/**
 * What the operator's code calls, resource by resource, in a namespace it watches (config/rbac/role.yaml
 * must grant exactly this; docs/install.md says which call needs each verb).
 */
export const OPERATOR_RULES: Readonly<Record<string, readonly string[]>> = {
  'helloworlds.hello.dev': ['list', 'watch'],
  'helloworlds.hello.dev/status': ['patch'],
  'helloworlds.hello.dev/finalizers': ['update'],
  'deployments.apps': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  'statefulsets.apps': ['create', 'get', 'list', 'patch', 'watch'],
  services: ['create', 'get', 'list', 'patch', 'watch'],
  'poddisruptionbudgets.policy': ['create', 'get', 'list', 'patch', 'watch'],
  'networkpolicies.networking.k8s.io': ['create', 'get', 'list', 'patch', 'watch'],
  'horizontalpodautoscalers.autoscaling': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  'servicemonitors.monitoring.coreos.com': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  'prometheusrules.monitoring.coreos.com': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  secrets: ['create', 'get', 'list', 'patch', 'watch'],
  serviceaccounts: ['create', 'get', 'list', 'patch', 'watch'],
  persistentvolumeclaims: ['create', 'get', 'list', 'patch', 'watch'],
  'cronjobs.batch': ['create', 'delete', 'get', 'list', 'patch', 'watch'],
  'replicasets.apps': ['list', 'watch'],
  pods: ['list', 'watch'],
  'pods/proxy': ['create', 'delete', 'get', 'update'],
  events: ['create', 'patch'],
};

/** The leader-election Lease, in the operator's own namespace only. */
export const LEADER_ELECTION_RULES: Readonly<Record<string, readonly string[]>> = {
  'leases.coordination.k8s.io': ['create', 'get', 'update'],
};

export const serviceAccount = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;

/**
 * `kubectl auth can-i <verb> <resource>[/<subresource>] --as <user>` in `namespace` ('*': all
 * namespaces). Only the two answers count: exit 0 "yes", exit 1 "no", each with nothing on stderr.
 * Anything else (an unknown resource type, which kubectl warns about and then answers "no"; a
 * connection error or a kubeconfig that does not work, which also exit 1) throws, so a "cannot" check
 * never passes on a failure.
 */
export function canI(
  user: string,
  verb: string,
  resource: string,
  namespace: string,
  kubeconfig: string = kubeconfigPath(),
): boolean {
  const [name, subresource] = resource.split('/');
  const args = [
    'auth',
    'can-i',
    verb,
    name!,
    '--as',
    user,
    ...(namespace === '*' ? ['--all-namespaces'] : ['-n', namespace]),
    ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
  ];
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const answer = result.stdout.trim();
  const clean = !/warning|error/i.test(result.stderr);
  if (result.status === 0 && answer === 'yes' && clean) return true;
  if (result.status === 1 && answer === 'no' && clean) return false;
  throw new Error(
    `kubectl ${args.join(' ')} gave no yes/no answer (exit ${String(result.status)}): ` +
      `${result.stderr}${result.stdout}`,
  );
}

/** Every rule `user` has in `namespace` from `kubectl auth can-i --list`, as resource → sorted verbs. */
function listRules(user: string, namespace: string): Record<string, string[]> {
  const table = kubectl(['auth', 'can-i', '--list', '--as', user, '-n', namespace]);
  const rules: Record<string, string[]> = {};
  for (const line of table.split('\n').slice(1)) {
    // Resources   Non-Resource URLs   Resource Names   Verbs: `pods/proxy   []   []   [get create]`
    const row = /^(\S+)\s+\[[^\]]*\]\s+\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/.exec(line);
    if (row === null) continue; // a non-resource URL
    if (row[2] !== '') throw new Error(`a rule limited to resource names, not expected here: ${line}`);
    rules[row[1]!] = [...new Set([...(rules[row[1]!] ?? []), ...row[3]!.split(' ')])].sort();
  }
  return rules;
}

/**
 * The rules the ServiceAccount `namespace`/`name` has in `inNamespace` beyond those of any service
 * account of its namespace (its `default` one: self-reviews, trust-bundle discovery, and whatever the
 * cluster grants all service accounts), as resource → sorted verbs.
 */
export function grantedRules(namespace: string, name: string, inNamespace: string): Record<string, string[]> {
  const baseline = listRules(serviceAccount(namespace, 'default'), inNamespace);
  const extra: Record<string, string[]> = {};
  for (const [resource, verbs] of Object.entries(listRules(serviceAccount(namespace, name), inNamespace))) {
    const own = verbs.filter((verb) => !(baseline[resource] ?? []).includes(verb));
    if (own.length > 0) extra[resource] = own;
  }
  return extra;
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface RbacObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** Everything `kubectl kustomize <dir>` renders, as plain objects. */
export function render(dir: string): Record<string, unknown>[] {
  return parseAllDocuments(kubectl(['kustomize', dir])).map((doc) => doc.toJS() as Record<string, unknown>);
}

/** True for a ServiceAccount, role or binding. */
export function isRbac(obj: Record<string, unknown>): obj is Record<string, unknown> & RbacObject {
  return RBAC_KINDS.has(obj.kind as string);
}

export function applyObjects(objects: object[]): void {
  kubectl(
    ['apply', '--server-side', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
}

/**
 * A kubeconfig that authenticates as the ServiceAccount with a token, as a pod of the operator does: the
 * process gets exactly the account's permissions. Written to `dir`.
 */
export function serviceAccountKubeconfig(
  kc: KubeConfig,
  dir: string,
  namespace: string,
  name: string,
): string {
  const token = kubectl(['create', 'token', name, '-n', namespace, '--duration=1h']).trim();
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the test kubeconfig has no cluster CA data');
  // As in a pod: the CA in a file, the token in a header.
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, Buffer.from(cluster.caData, 'base64'));
  const path = join(dir, `${namespace}-${name}.kubeconfig`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: cluster.server, 'certificate-authority': caFile } }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'operator', context: { cluster: 'local', user: 'operator' } }],
      'current-context': 'operator',
    }),
  );
  return path;
}
