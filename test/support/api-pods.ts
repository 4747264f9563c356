// Real API processes of this repo on a real redis-server, each behind a pod of a test namespace that the
// API server proxies to: how the verification tests reach "pods" through the real pod proxy.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiServerProxy, type PodHttp } from '../../operator/src/verification/pod-http.js';
import type { PodRef } from '../../operator/src/verification/types.js';
import { startApiProcess, stopApiProcess, type ApiProcess } from './api-process.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig, repoRoot } from './cluster.js';
import { createPodAt, proxyableLocalAddress } from './pods.js';
import { startRedis, type RedisHandle } from './redis.js';

export interface ApiPods {
  kc: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  proxy: PodHttp;
  /** A real API process with `env`, behind a pod named `name`. */
  apiPod(name: string, env?: Record<string, string>): Promise<PodRef>;
  /** Stops every process and Redis, and deletes the namespace. */
  cleanup(): Promise<void>;
}

/** Compiles the API as shipped, starts Redis and creates a namespace `<prefix>-…`. */
export async function startApiPods(prefix: string): Promise<ApiPods> {
  const kc = loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = await createTestNamespace(prefix);
  execFileSync(process.execPath, [resolve(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'api'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  const redis: RedisHandle = await startRedis();
  const apis: ApiProcess[] = [];
  return {
    kc,
    core,
    namespace,
    proxy: apiServerProxy(kc),
    async apiPod(name, env = {}) {
      const api = await startApiProcess({ redisUrl: redis.url, env });
      apis.push(api);
      await createPodAt(core, namespace, name, proxyableLocalAddress(), api.port);
      return { namespace, name, port: api.port };
    },
    async cleanup() {
      await Promise.all(apis.map(stopApiProcess));
      await redis.stop();
      await deleteTestNamespace(namespace, { kc });
    },
  };
}
