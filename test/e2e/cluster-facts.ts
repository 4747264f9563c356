// What the e2e suite learns from the test cluster before Jest registers any test: whether its nodes
// are real (kwok marks the nodes it simulates), and whether E2E_OPERATOR, the one setting the cluster
// cannot answer, fits the cluster. A contradiction stops the run with a message saying why.
import { spawnSync } from 'node:child_process';
import type { V1Node } from '@kubernetes/client-node';
import { kubeconfigPath, repoRoot } from '../support/cluster.js';

/** Where `make e2e` deploys the operator (config/default). */
export const systemNamespace = 'helloworld-system';

/** kubectl, synchronously: the suite asks the cluster what it is before Jest registers any test. */
function kubectlSync(args: string[]): string {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.error !== undefined) {
    throw new Error(`kubectl could not be run (${result.error.message}): the e2e suite needs it on PATH`);
  }
  if (result.status !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed (${String(result.status)}): ${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Whether kwok simulates this node: the annotation kwok manages its nodes by, or the label the local
 * cluster gives them (hack/cluster/nodes.yaml). kwok runs no container on such a node.
 */
export function isSimulatedNode(node: V1Node): boolean {
  return (
    node.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake' || node.metadata?.labels?.type === 'kwok'
  );
}

/**
 * Whether the test cluster's nodes are real (kind, the local cluster's real node), asked of the cluster
 * itself. A cluster with both kinds of node throws: where a pod lands, and so whether it runs, would be
 * left to the scheduler.
 */
export function clusterHasRealNodes(): boolean {
  const nodes = (JSON.parse(kubectlSync(['get', 'nodes', '-o', 'json'])) as { items: V1Node[] }).items;
  const names = (list: V1Node[]): string => list.map((n) => n.metadata?.name ?? '?').join(', ');
  const simulated = nodes.filter(isSimulatedNode);
  const real = nodes.filter((n) => !isSimulatedNode(n));
  if (nodes.length === 0) throw new Error('the test cluster has no nodes: nothing can run a pod');
  if (simulated.length > 0 && real.length > 0) {
    throw new Error(
      `the test cluster mixes simulated nodes (kwok: ${names(simulated)}) with real ones (${names(real)}); ` +
        'the e2e suite needs one or the other, to know whether its pods run',
    );
  }
  return real.length > 0;
}

/** Whether containers really run: HTTP traffic, Redis data and CPU load exist only then. Asked of the cluster. */
export const realPods: boolean = clusterHasRealNodes();

const nodesAre = realPods ? 'real' : 'simulated (kwok)';

/**
 * E2E_REAL_PODS is no longer read: the nodes tell. A value left in an environment must agree with
 * them, or the run stops here rather than test the wrong cluster.
 */
const claimedRealPods = process.env.E2E_REAL_PODS;
if (claimedRealPods !== undefined && claimedRealPods !== '' && (claimedRealPods === '1') !== realPods) {
  throw new Error(
    `E2E_REAL_PODS=${claimedRealPods}, but the nodes of the test cluster (${kubeconfigPath()}) are ${nodesAre}: ` +
      'unset it (the suite asks the cluster) or point KUBECONFIG_TEST at the cluster you mean',
  );
}

/**
 * Where the operator runs, which the cluster cannot say for itself: `local` (the default): the suite
 * runs dist/operator/main.js itself; `in-cluster`: `make e2e` deployed config/default.
 */
export const operatorMode: 'local' | 'in-cluster' = readOperatorMode();

function readOperatorMode(): 'local' | 'in-cluster' {
  const value = process.env.E2E_OPERATOR ?? '';
  if (value !== '' && value !== 'local' && value !== 'in-cluster') {
    throw new Error(`E2E_OPERATOR=${value}: expected local or in-cluster`);
  }
  const mode = value === 'in-cluster' ? 'in-cluster' : 'local';
  if (mode === 'in-cluster' && !realPods) {
    throw new Error(
      `E2E_OPERATOR=in-cluster, but the nodes of the test cluster are ${nodesAre}: no operator pod can run there`,
    );
  }
  if (mode === 'local') {
    // A deployed operator would reconcile the suite's HelloWorlds beside the suite's own processes.
    const deployed = kubectlSync([
      'get',
      'deployment',
      'helloworld-operator',
      '-n',
      systemNamespace,
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    if (deployed.trim() !== '') {
      throw new Error(
        `E2E_OPERATOR is ${value === '' ? 'unset (local)' : 'local'}, but the test cluster runs the operator ` +
          `(deployment/helloworld-operator in ${systemNamespace}): set E2E_OPERATOR=in-cluster, or remove it`,
      );
    }
  }
  return mode;
}
