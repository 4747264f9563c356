// The prober's I/O glue on real timers with a fake PodHttp: what it sends, what counts as answered, the
// outcome counts for the metric, and that it stops. The schedule's arithmetic is in probe-schedule.test.ts.
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitFor } from '../../../test/support/wait.js';
import type { PodHttp, PodRequest, PodResponse } from './pod-http.js';
import {
  PROBE_PATH,
  PROBE_TIMEOUT_MS,
  createProber,
  type ProbeOutcome,
  type RunningProber,
} from './prober.js';
import type { PodRef } from './types.js';

const pod: PodRef = { namespace: 'shop', name: 'hello-7d9-a', port: 8080 };
const probers: RunningProber[] = [];

afterEach(() => {
  for (const prober of probers.splice(0)) prober.close();
});

function start(answer: (n: number) => PodResponse | Error | 'hang') {
  const requests: PodRequest[] = [];
  const outcomes: Record<ProbeOutcome, number> = { answered: 0, unanswered: 0, skipped: 0 };
  const http: PodHttp = {
    request(_pod, req) {
      requests.push(req);
      const a = answer(requests.length);
      if (a === 'hang') return new Promise<PodResponse>(() => undefined);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
  const prober = createProber(http, {
    tickMs: 5,
    onProbe: (outcome, n) => {
      outcomes[outcome] += n;
    },
  });
  probers.push(prober);
  return { prober, requests, outcomes };
}

describe('createProber', () => {
  it('sends GET /hello/smokecheck with its timeout, and counts only the pod’s own answers', async () => {
    const { prober, requests, outcomes } = start((n) => {
      if (n % 3 === 0) return new Error('no answer within 5000 ms');
      if (n % 3 === 1) return { status: 404, body: '{"error":"No date of birth"}' };
      return { status: 503, body: '{}', proxyError: 'no endpoints available' };
    });
    prober.set('shop/rev', { pods: [pod], ratePerSecond: 10, until: Date.now() + 60_000 });
    await waitFor(() => requests.length >= 6, { describe: 'six probes', timeoutMs: 30_000, intervalMs: 10 });
    prober.set('shop/rev', undefined);
    await waitFor(() => prober.inFlight() === 0, { describe: 'the probes to settle', intervalMs: 10 });
    expect(requests[0]).toEqual({ method: 'GET', path: PROBE_PATH, timeoutMs: PROBE_TIMEOUT_MS });
    const sent = requests.length;
    expect(prober.takeAnswered('shop/rev')).toBe(Math.ceil(sent / 3));
    expect(outcomes.answered + outcomes.unanswered).toBe(sent);
    expect(outcomes.answered).toBe(Math.ceil(sent / 3));
  });

  it('skips, and counts as skipped, what a pod that never answers cannot take', async () => {
    const { prober, requests, outcomes } = start(() => 'hang');
    prober.set('shop/rev', { pods: [pod], ratePerSecond: 10, until: Date.now() + 60_000 });
    await waitFor(() => outcomes.skipped >= 3, {
      describe: 'skipped probes',
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    expect(requests).toHaveLength(2);
    expect(prober.inFlight()).toBe(2);
    expect(prober.skipped('shop/rev')).toBe(outcomes.skipped);
  });
});
