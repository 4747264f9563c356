// A release that adds 900 ms to every request, with no traffic at all, against the operator on the local
// cluster: the HelloWorld's pods (simulated) are pointed at a real API process of this repo started with
// CHAOS_LATENCY_MS=900 on a real redis-server, so every smoke check, probe and /metrics read goes
// through the API server's pod proxy to it. The smoke checks' latency budget fails it; with the budget
// raised, the operator's probe traffic gives the analysis data, and the p99 threshold fails it.
import { createServer } from 'node:net';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { API_PORT } from '../../operator/src/crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../support/api-process.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  metricValue,
  operatorInNamespace,
  waitForHelloWorld,
  type OperatorInNamespace,
} from '../support/operator.js';
import { pointPodAt, proxyableLocalAddress } from '../support/pods.js';
import { startRedis, type RedisHandle } from '../support/redis.js';

let kc: KubeConfig;
let core: CoreV1Api;
let setup: OperatorInNamespace | undefined;
const env = (): OperatorInNamespace => setup!;
let redis: RedisHandle | undefined;
let slow: ApiProcess | undefined;
const address = proxyableLocalAddress();

beforeAll(async () => {
  kc = loadKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  setup = await operatorInNamespace('verify-latency');
  redis = await startRedis();
  // The operator reaches pods on the API's port; another test may hold it for a while: wait for it.
  await waitFor(() => portIsFree(API_PORT), {
    describe: `port ${API_PORT} to be free for the slow API`,
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  slow = await startApiProcess({ redisUrl: redis.url, port: API_PORT, env: { CHAOS_LATENCY_MS: '900' } });
}, 240_000);

afterAll(async () => {
  // Whatever beforeAll got to start.
  if (slow !== undefined) await stopApiProcess(slow);
  await redis?.stop();
  await setup?.cleanup();
}, 60_000);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, () =>
      probe.close(() => {
        resolve(true);
      }),
    );
  });
}

/** Points every running API pod of the HelloWorld at the slow API process. */
async function pointAtSlowApi(name: string): Promise<void> {
  const pods = await core.listNamespacedPod({
    namespace: env().namespace,
    labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api`,
  });
  for (const pod of pods.items) {
    if (pod.status?.phase === 'Running' && pod.status.podIP !== address) {
      await pointPodAt(core, env().namespace, pod.metadata?.name ?? '', address).catch(() => undefined);
    }
  }
}

/**
 * One replica, verified. The one check reads a user nobody stored (404, which the slow API also takes
 * 900 ms for) and retries for long enough that the test can point the new pod at the slow API first.
 */
const slowRelease = (maxLatencyMs?: number): Partial<HelloWorldSpec> => ({
  replicas: 1,
  rollout: {
    progressDeadlineSeconds: 60,
    verification: {
      smoke: {
        defaultChecks: false,
        ...(maxLatencyMs !== undefined && { maxLatencyMs }),
        checks: [{ name: 'read-unknown-user', path: '/hello/nobody', expectStatus: 404, retries: 8 }],
      },
      analysis: { windowSeconds: 20, intervalSeconds: 5 },
    },
  },
});

/** Applies the HelloWorld and waits for it to fail, keeping its pod pointed at the slow API meanwhile. */
async function failedVerification(name: string, spec: Partial<HelloWorldSpec>): Promise<HelloWorld> {
  applyHelloWorld(helloWorld(env().namespace, name, spec));
  const pointing = setInterval(() => void pointAtSlowApi(name), 250);
  try {
    return await waitForHelloWorld(
      kc,
      env().namespace,
      name,
      (hw) => conditionOf(hw, 'Degraded')?.status === 'True' || hw.status?.phase === 'Available',
      `${name} to end its verification`,
      { operator: env().operator, timeoutMs: 150_000 },
    );
  } finally {
    clearInterval(pointing);
  }
}

describe('a release that adds 900 ms to every request, with no traffic', () => {
  it('fails its smoke test on the latency budget (p99 SLO plus the proxy allowance)', async () => {
    const hw = await failedVerification('slow-smoke', slowRelease());
    expect(conditionOf(hw, 'Degraded')).toMatchObject({ status: 'True', reason: 'SmokeTestFailed' });
    expect(conditionOf(hw, 'Degraded')?.message).toMatch(
      /smoke check "read-unknown-user" \(GET \/hello\/nobody\) failed on pod .* after 9 attempts: expected status 404; got status 404 after \d+ ms, over the latency budget of 450 ms/,
    );
  }, 240_000);

  it('fails its analysis on the probe traffic when the smoke budget lets it through', async () => {
    const hw = await failedVerification('slow-analysis', slowRelease(5000));
    const degraded = conditionOf(hw, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'AnalysisFailed' });
    expect(degraded?.message).toMatch(/2 consecutive failed measurements .*p99 (> )?\d+ ms exceeds 500 ms/);
    expect(degraded?.message).toContain("of the requests were the operator's probes");
    const metrics = await env().operator.metrics();
    expect(
      metricValue(metrics, 'helloworld_verification_probes_total', { outcome: 'answered' }),
    ).toBeGreaterThan(0);
  }, 240_000);
});
