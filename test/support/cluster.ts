// Helpers for tests that run against the local Kubernetes cluster (hack/cluster.sh,
// docs/local-cluster.md). The Jest globalSetup (cluster-global-setup.ts) starts or reuses the
// cluster and exports KUBECONFIG_TEST; these helpers never fall back to the user's own KUBECONFIG.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, Health, KubeConfig } from '@kubernetes/client-node';
import { clusterStateDir } from './cluster-state.js';

/** The repository's root directory (with a trailing slash): the nearest one up from the working
 * directory that holds hack/cluster.sh. Jest runs with the repository as its working directory. */
export const repoRoot: string = findRepoRoot(process.cwd());

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'hack', 'cluster.sh'))) {
      return dir.endsWith('/') ? dir : `${dir}/`;
    }
    if (dirname(dir) === dir) {
      throw new Error(`no hack/cluster.sh in ${start} or above: run the tests from the repository`);
    }
  }
}

/** The admin kubeconfig that `hack/cluster.sh up` writes (into CLUSTER_STATE_DIR when set, as it does). */
export const localKubeconfigPath: string = `${clusterStateDir(repoRoot)}/kubeconfig`;

/**
 * The kubeconfig of the test cluster: KUBECONFIG_TEST when set (a cluster you point the tests at),
 * else the local cluster's kubeconfig (.cluster/kubeconfig, or under CLUSTER_STATE_DIR).
 */
export function kubeconfigPath(): string {
  const explicit = process.env.KUBECONFIG_TEST;
  return explicit !== undefined && explicit !== '' ? explicit : localKubeconfigPath;
}

/** Loads the test cluster's kubeconfig. Throws when the file does not exist. */
export function loadKubeConfig(path: string = kubeconfigPath()): KubeConfig {
  if (!existsSync(path)) {
    throw new Error(
      `no kubeconfig at ${path}: start the local cluster with \`make cluster-up\`, or run the tests ` +
        'through Jest so that its globalSetup starts it',
    );
  }
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** True when the API server of `kc` answers /readyz within `timeoutMs`. */
export async function isClusterReady(kc: KubeConfig, timeoutMs = 3000): Promise<boolean> {
  try {
    return await new Health(kc).readyz({ timeout: timeoutMs });
  } catch {
    return false;
  }
}

import { waitFor } from './wait.js';

export { describeError, waitFor, type WaitForOptions } from './wait.js';

/** True when `error` is an API error with the given HTTP status (e.g. 404). */
export function isApiError(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

/** Label put on every namespace that createTestNamespace creates. */
export const testNamespaceLabel = 'helloworld-operator.test/namespace';

/**
 * Creates a namespace named `<prefix>-<random>` and returns its name once its `default` service
 * account exists (pods are refused until then). Delete it with deleteTestNamespace in
 * afterEach/afterAll.
 */
export async function createTestNamespace(
  prefix: string,
  kc: KubeConfig = loadKubeConfig(),
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await core.createNamespace({
    body: { metadata: { name, labels: { [testNamespaceLabel]: 'true' } } },
  });
  await waitFor(
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    },
    { describe: `the default service account of namespace ${name}`, timeoutMs: 30_000, intervalMs: 100 },
  );
  return name;
}

/**
 * Deletes a namespace. With `wait`, resolves only when it is gone (the namespace controller has
 * deleted everything in it); a missing namespace is not an error.
 */
export async function deleteTestNamespace(
  name: string,
  options: { kc?: KubeConfig; wait?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const core = (options.kc ?? loadKubeConfig()).makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name, propagationPolicy: 'Background' });
  } catch (error) {
    if (isApiError(error, 404)) {
      return;
    }
    throw error;
  }
  if (options.wait === true) {
    await waitFor(
      async () => {
        try {
          await core.readNamespace({ name });
          return false;
        } catch (error) {
          if (isApiError(error, 404)) {
            return true;
          }
          throw error;
        }
      },
      {
        describe: `namespace ${name} to be deleted`,
        timeoutMs: options.timeoutMs ?? 60_000,
        intervalMs: 500,
      },
    );
  }
}
