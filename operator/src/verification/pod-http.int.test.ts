// apiServerProxy against the real API server of the test cluster (hack/cluster.sh, or KUBECONFIG_TEST):
// its pods are simulated, so no HTTP reaches them and the API server answers in their place; and, to see
// a real answer come back through the proxy, a pod whose status points at this machine, where a real API
// process listens.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  repoRoot,
  waitFor,
} from '../../../test/support/cluster.js';
import { createPodAt as createPodAtAddress, proxyableLocalAddress } from '../../../test/support/pods.js';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../../../test/support/api-process.js';
import { freePort } from '../../../test/support/ports.js';
import { startRedis, type RedisHandle } from '../../../test/support/redis.js';
import { defaultSmokeChecks } from '../crd/defaults.js';
import { apiServerProxy, type PodHttp } from './pod-http.js';
import { runSmokeChecks } from './smoke.js';
import type { PodRef } from './types.js';
import { createVerifier } from './verifier.js';

jest.setTimeout(120_000);

let kc: KubeConfig;
let core: CoreV1Api;
let ns: string;
let proxy: PodHttp;
let redis: RedisHandle;
let api: ApiProcess | undefined;

const readinessCheck = { ...defaultSmokeChecks()[0]!, retries: 0, timeoutSeconds: 20 };

/** A pod of the test namespace whose address is `address`, where the API server proxies to. */
function createPodAt(name: string, address: string, port: number): Promise<void> {
  return createPodAtAddress(core, ns, name, address, port);
}

beforeAll(async () => {
  kc = loadKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  proxy = apiServerProxy(kc);
  ns = await createTestNamespace('verification');
  execFileSync(process.execPath, [resolve(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'api'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  redis = await startRedis();
});

afterAll(async () => {
  if (api) await stopApiProcess(api);
  await redis.stop();
  await deleteTestNamespace(ns, { kc });
});

describe('apiServerProxy', () => {
  it('resolves with whatever answers for a simulated pod, and the smoke test fails saying what it saw', async () => {
    // kwok's pods have addresses nothing listens on. What answers depends on the network: the API server's
    // own 502/503 where the address is unreachable, or whatever intercepts that traffic. Either way the
    // request resolves and the smoke check fails with that status instead of throwing.
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'simulated' },
        spec: {
          containers: [{ name: 'api', image: 'registry.invalid/hello:1', ports: [{ containerPort: 8080 }] }],
        },
      },
    });
    await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ name: 'simulated', namespace: ns });
        return pod.status?.phase === 'Running' && pod.status.podIP !== undefined;
      },
      { describe: `pod ${ns}/simulated to run`, timeoutMs: 30_000 },
    );
    const pod: PodRef = { namespace: ns, name: 'simulated', port: 8080 };

    const response = await proxy.request(pod, { method: 'GET', path: '/readyz', timeoutMs: 20_000 });
    expect(response.status).toBeGreaterThanOrEqual(400);
    const smoke = await runSmokeChecks(proxy, [pod], [readinessCheck]);
    expect(smoke.passed).toBe(false);
    expect(smoke.message).toMatch(
      new RegExp(
        `^smoke check "readiness" \\(GET /readyz\\) failed on pod ${ns}/simulated after 1 attempt: ` +
          `expected status 200; got status ${response.status} `,
      ),
    );
  });

  it('returns the API server’s 502/503 for a pod it cannot reach, and the smoke test says who answered', async () => {
    // A pod whose address is this machine, on a port where nothing listens: the API server's dial is refused.
    const port = await freePort();
    await createPodAt('unreachable', proxyableLocalAddress(), port);
    const pod: PodRef = { namespace: ns, name: 'unreachable', port };

    const response = await proxy.request(pod, { method: 'GET', path: '/readyz', timeoutMs: 20_000 });
    expect([502, 503]).toContain(response.status);
    expect(response.proxyError).toMatch(/connection refused/);
    const smoke = await runSmokeChecks(proxy, [pod], [readinessCheck]);
    expect(smoke).toEqual({
      passed: false,
      message:
        `smoke check "readiness" (GET /readyz) failed on pod ${ns}/unreachable after 1 attempt: expected status 200; ` +
        `got status ${response.status} from the API server, which answered instead of the pod: ${response.proxyError ?? ''}`,
    });
  });

  it('returns the API server’s 404 for a pod that does not exist', async () => {
    const response = await proxy.request(
      { namespace: ns, name: 'missing', port: 8080 },
      { method: 'GET', path: '/readyz', timeoutMs: 10_000 },
    );
    expect(response.status).toBe(404);
    expect(response.proxyError).toBe('pods "missing" not found');
  });

  it('reaches a real API process through the proxy: smoke checks pass and metrics are sampled', async () => {
    api = await startApiProcess({ redisUrl: redis.url });
    const { port } = api;
    await createPodAt('local', proxyableLocalAddress(), port);
    const pod: PodRef = { namespace: ns, name: 'local', port };

    const smoke = await runSmokeChecks(proxy, [pod], defaultSmokeChecks());
    expect(smoke).toEqual({
      passed: true,
      message: 'smoke checks passed on 1 pod: readiness, store-date-of-birth, read-date-of-birth',
    });
    const sample = await createVerifier(proxy).sample([pod]);
    // The PUT and the GET of the smoke checks, counted by the API and read back through the proxy.
    expect(sample).toMatchObject({ requests: 2, errors: 0, pods: { [`${ns}/local`]: 2 } });
  });
});
