// Probe traffic through the real API server's pod proxy (the test cluster, hack/cluster.sh) to real API
// processes of this repo on a real redis-server: with no traffic at all, the probes give the analysis data
// to judge (a slow revision fails on its p99, a healthy one passes) where it would otherwise see NoData;
// and a pod that never answers holds at most two probes, however long it hangs.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApiPods, type ApiPods } from '../../../test/support/api-pods.js';
import { waitFor } from '../../../test/support/cluster.js';
import { createPodAt, proxyableLocalAddress } from '../../../test/support/pods.js';
import { resolveSpec } from '../crd/defaults.js';
import { measure } from './analysis.js';
import type { PodHttp } from './pod-http.js';
import { PROBE_LIMITS } from './probe-schedule.js';
import { createProber, type RunningProber } from './prober.js';
import type { PodRef } from './types.js';
import { createVerifier } from './verifier.js';

jest.setTimeout(120_000);

const policy = resolveSpec({ image: 'hello:1' }).rollout.verification.analysis;
let pods: ApiPods | undefined;
let proxy: PodHttp;
const probers: RunningProber[] = [];
const apiPod = (name: string, env?: Record<string, string>): Promise<PodRef> => pods!.apiPod(name, env);

beforeAll(async () => {
  pods = await startApiPods('probes');
  proxy = pods.proxy;
});

afterAll(async () => {
  for (const prober of probers) prober.close();
  await pods?.cleanup();
});

/** Probes `pod` at `ratePerSecond` for `ms`, waits for the last answer, and returns how many came. */
async function probeFor(pod: PodRef, ratePerSecond: number, ms: number): Promise<number> {
  const prober = createProber(proxy);
  probers.push(prober);
  const key = `${pod.namespace}/${pod.name}`;
  const until = Date.now() + ms;
  prober.set(key, { pods: [pod], ratePerSecond, until });
  await waitFor(() => Date.now() > until && prober.inFlight() === 0, {
    describe: `the probes of ${key} to end`,
    timeoutMs: ms + 30_000,
  });
  return prober.takeAnswered(key);
}

describe('probe traffic through the API server proxy', () => {
  it('gives the analysis of an idle revision that adds 900 ms to every request data, and it fails on p99', async () => {
    const pod = await apiPod('slow', { CHAOS_LATENCY_MS: '900' });
    const verifier = createVerifier(proxy);
    // Without probes: no traffic, nothing to judge.
    const first = await verifier.sample([pod]);
    const idle = await verifier.sample([pod]);
    expect(measure(first, idle, policy).result).toBe('NoData');

    const answered = await probeFor(pod, 5, 4000);
    const after = await verifier.sample([pod]);
    const measurement = measure(idle, after, policy);
    expect(answered).toBeGreaterThanOrEqual(3);
    // Every request the pod counted is a probe: nothing else talks to it.
    expect(measurement).toMatchObject({ result: 'Fail', requests: answered, errorRate: 0 });
    expect(measurement.p99Ms).toBeGreaterThan(900);
    expect(measurement.message).toMatch(/^p99 \d+ ms exceeds 500 ms$/);
  });

  it('gives the analysis of an idle healthy revision data, and it passes', async () => {
    const pod = await apiPod('healthy');
    const verifier = createVerifier(proxy);
    const before = await verifier.sample([pod]);
    const answered = await probeFor(pod, 5, 3000);
    const after = await verifier.sample([pod]);
    expect(answered).toBeGreaterThanOrEqual(5);
    // The probes read a user nobody stored here: 404, which the analysis does not count as an error.
    expect(measure(before, after, policy)).toMatchObject({
      result: 'Pass',
      requests: answered,
      errorRate: 0,
    });
  });

  it('keeps at most two probes on a pod that accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket); // read nothing, answer nothing
    });
    await new Promise<void>((done) => silent.listen(0, '0.0.0.0', done));
    const port = (silent.address() as { port: number }).port;
    await createPodAt(pods!.core, pods!.namespace, 'silent', proxyableLocalAddress(), port);
    const pod: PodRef = { namespace: pods!.namespace, name: 'silent', port };
    try {
      const prober = createProber(proxy);
      probers.push(prober);
      prober.set('silent', { pods: [pod], ratePerSecond: 10, until: Date.now() + 4000 });
      let most = 0;
      await waitFor(
        () => {
          most = Math.max(most, prober.inFlight());
          return prober.skipped('silent') >= 20;
        },
        { describe: 'probes to the silent pod to be skipped', timeoutMs: 30_000, intervalMs: 20 },
      );
      expect(most).toBe(PROBE_LIMITS.maxInFlightPerPod);
      // Nothing answered, so nothing counts as probe traffic the pod served.
      expect(prober.takeAnswered('silent')).toBe(0);
      prober.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});
