// Smoke checks and metrics analysis against real processes of this repo's API (dist/api/main.js) on a real
// redis-server: a healthy one, one failing every /hello request, one failing a fifth of them, a slow one.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../../../test/support/api-process.js';
import { freePort } from '../../../test/support/ports.js';
import { startRedis, type RedisHandle } from '../../../test/support/redis.js';
import { defaultSmokeChecks, resolveSpec } from '../crd/defaults.js';
import { measure, measurementVerdict } from './analysis.js';
import { directHttp } from './pod-http.js';
import type { PodRef, Verifier } from './types.js';
import { SampleError, createVerifier } from './verifier.js';

jest.setTimeout(120_000);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const policy = resolveSpec({ image: 'hello:1' }).rollout.verification.analysis;

/** An API process as the verifier sees a pod. */
interface NamedApi extends ApiProcess {
  readonly pod: PodRef;
}

const running = new Set<NamedApi>();
const urls = new Map<string, string>();
let redis: RedisHandle;
let verifier: Verifier;

async function startApi(name: string, env: Record<string, string> = {}, port?: number): Promise<NamedApi> {
  const api = await startApiProcess({ redisUrl: redis.url, env, ...(port === undefined ? {} : { port }) });
  const named: NamedApi = { ...api, pod: { namespace: 'test', name, port: api.port } };
  running.add(named);
  urls.set(name, api.base);
  return named;
}

async function stopApi(named: NamedApi): Promise<void> {
  running.delete(named);
  await stopApiProcess(named);
}

/** `total` /hello requests, `concurrency` at a time: PUT a user's birthday, then GET it, alternately. */
async function driveTraffic(api: NamedApi, total: number, concurrency = 10): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const user = `user${String.fromCharCode(97 + (Math.floor(n / 2) % 26))}`;
      const init: RequestInit =
        n % 2 === 0 ? { method: 'PUT', body: '{"dateOfBirth":"1990-04-01"}' } : { method: 'GET' };
      const response = await fetch(`${api.base}/hello/${user}`, init);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

let healthy: NamedApi;
let failing: NamedApi;
let flaky: NamedApi;
let slow: NamedApi;

beforeAll(async () => {
  // The program as shipped: compile the API (and common) first.
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'api'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  redis = await startRedis();
  [healthy, failing, flaky, slow] = await Promise.all([
    startApi('healthy'),
    startApi('failing', { CHAOS_ERROR_RATE: '1' }),
    startApi('flaky', { CHAOS_ERROR_RATE: '0.2' }),
    startApi('slow', { CHAOS_LATENCY_MS: '800' }),
  ]);
  verifier = createVerifier(
    directHttp((pod) => {
      const url = urls.get(pod.name);
      if (url === undefined) throw new Error(`no test process named ${pod.name}`);
      return url;
    }),
  );
});

afterAll(async () => {
  await Promise.all([...running].map(stopApi));
  await redis.stop();
});

/** Smoke checks, then a sample, `total` requests of traffic, a second sample and the measurement. */
async function smokeAndMeasure(api: NamedApi, total: number, retries?: number, maxLatencyMs?: number) {
  const checks = defaultSmokeChecks(maxLatencyMs).map((check) => ({
    ...check,
    retries: retries ?? check.retries,
  }));
  const smoke = await verifier.smoke([api.pod], checks);
  const before = await verifier.sample([api.pod]);
  await driveTraffic(api, total);
  const after = await verifier.sample([api.pod]);
  return { smoke, measurement: measure(before, after, policy) };
}

describe('verification of a real API process', () => {
  it('passes a healthy revision: smoke checks and analysis', async () => {
    const { smoke, measurement } = await smokeAndMeasure(healthy, 200);
    expect(smoke).toEqual({
      passed: true,
      message: 'smoke checks passed on 1 pod: readiness, store-date-of-birth, read-date-of-birth',
    });
    expect(measurement).toMatchObject({ result: 'Pass', requests: 200, errorRate: 0 });
    expect(measurement.message).toMatch(
      /^error rate 0\.0% \(0 of 200 \/hello requests\), p99 .* ms: within 5\.0% and 500 ms$/,
    );
  });

  it('fails the smoke test of a revision that answers every /hello request with 500', async () => {
    const smoke = await verifier.smoke(
      [failing.pod],
      resolveSpec({ image: 'x' }).rollout.verification.smoke.checks,
    );
    expect(smoke.passed).toBe(false);
    expect(smoke.message).toMatch(
      /^smoke check "store-date-of-birth" \(PUT \/hello\/smokecheck\) failed on pod test\/failing after 3 attempts: expected status 204; got status 500 with body .*Injected failure/,
    );
  });

  // With 20% of /hello requests failing at random, a check with 6 retries fails only if 7 attempts in a
  // row fail: 0.2^7 ≈ 1.3e-5 per check. The 200 requests of the analysis hold ~40 errors (20%, σ ≈ 2.8%),
  // far beyond the 5% limit.
  it('passes the smoke test of a revision failing a fifth of /hello requests, then fails its analysis', async () => {
    const { smoke, measurement } = await smokeAndMeasure(flaky, 200, 6);
    expect(smoke.passed).toBe(true);
    expect(measurement.result).toBe('Fail');
    expect(measurement.requests).toBe(200);
    expect(measurement.errorRate).toBeGreaterThan(policy.maxErrorRate);
    expect(measurement.message).toMatch(
      /^error rate \d+\.\d% \(\d+ of 200 \/hello requests\) exceeds 5\.0%$/,
    );
  });

  it('fails the smoke test of a revision that takes 800 ms per /hello request, on its latency', async () => {
    const smoke = await verifier.smoke([slow.pod], defaultSmokeChecks());
    expect(smoke.passed).toBe(false);
    // /readyz is not slowed down; the first /hello check is, on every attempt.
    expect(smoke.message).toMatch(
      /^smoke check "store-date-of-birth" \(PUT \/hello\/smokecheck\) failed on pod test\/slow after 3 attempts: expected status 204; got status 204 after (\d+) ms, over the latency budget of 450 ms$/,
    );
    const measured = Number(/after (\d+) ms/.exec(smoke.message)?.[1]);
    expect(measured).toBeGreaterThanOrEqual(800);
  });

  it('fails the analysis of a revision that takes 800 ms per /hello request', async () => {
    // A smoke budget above the added latency, so the analysis gets to judge it.
    const { smoke, measurement } = await smokeAndMeasure(slow, 40, undefined, 5000);
    expect(smoke.passed).toBe(true);
    expect(measurement).toMatchObject({ result: 'Fail', requests: 40, errorRate: 0 });
    // Every observation lies in the (0.5 s, 1 s] bucket, so p99 interpolates to 995 ms.
    expect(measurement.p99Ms).toBe(995);
    expect(measurement.message).toBe('p99 995 ms exceeds 500 ms');
  });

  it('reports no traffic as NoData, which counts as the noData setting says', async () => {
    const before = await verifier.sample([healthy.pod]);
    const after = await verifier.sample([healthy.pod]);
    const measurement = measure(before, after, policy);
    expect(measurement).toEqual({
      result: 'NoData',
      requests: 0,
      message: 'no /hello requests in the interval',
    });
    expect(measurementVerdict(measurement, { noData: 'Pass' })).toBe('Pass');
    expect(measurementVerdict(measurement, { noData: 'Fail' })).toBe('Fail');
  });

  it('samples several pods as one and counts a restarted pod from zero', async () => {
    const restarting = await startApi('restarting');
    const pods = [healthy.pod, restarting.pod];
    const before = await verifier.sample(pods);
    await Promise.all([driveTraffic(healthy, 20), driveTraffic(restarting, 50)]);
    await stopApi(restarting);
    const restarted = await startApi('restarting', {}, restarting.pod.port);
    await driveTraffic(restarted, 30);
    const after = await verifier.sample(pods);
    expect(Object.keys(after.pods).sort()).toEqual(['test/healthy', 'test/restarting']);
    // 20 on the healthy pod, and the 30 since the restart; the 50 before it are lost with the process.
    expect(measure(before, after, policy)).toMatchObject({ result: 'Pass', requests: 50 });
  });

  it('names the pod whose metrics cannot be read', async () => {
    const gone: PodRef = { namespace: 'test', name: 'gone', port: await freePort() };
    urls.set(gone.name, `http://127.0.0.1:${gone.port}`);
    const sampling = verifier.sample([healthy.pod, gone]);
    await expect(sampling).rejects.toThrow(SampleError);
    await expect(sampling).rejects.toThrow(/^pod test\/gone did not answer \/metrics: /);
  });

  it('fails the smoke test of a pod that does not answer, saying so', async () => {
    const gone: PodRef = { namespace: 'test', name: 'gone', port: 1 };
    urls.set(gone.name, 'http://127.0.0.1:1');
    const smoke = await verifier.smoke([gone], defaultSmokeChecks().slice(0, 1));
    expect(smoke.passed).toBe(false);
    expect(smoke.message).toMatch(
      /^smoke check "readiness" \(GET \/readyz\) failed on pod test\/gone after 3 attempts: expected status 200; got no answer \(.+\)$/,
    );
  });
});
