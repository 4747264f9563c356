// The probe schedule on an injected clock: when to probe, at what rate, to which pods, and the hard bounds
// that keep one HelloWorld (or a pod that never answers) from making the operator flood the API server.
import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import { PROBE_LIMITS, ProbeSchedule, probeNextInterval, type DueProbe } from './probe-schedule.js';
import type { PodRef } from './types.js';

const policy = resolveSpec({ image: 'x' }).rollout.verification.analysis.probe;
const pods = (namespace: string, count: number): PodRef[] =>
  Array.from({ length: count }, (_, i) => ({
    namespace,
    name: `hello-${String(i).padStart(2, '0')}`,
    port: 8080,
  }));

/** Ticks every `tickMs` from `from` for `ms`; answers each probe at once unless `answer` says no. */
function run(
  schedule: ProbeSchedule,
  from: number,
  ms: number,
  answer: (probe: DueProbe) => boolean | 'hang' = () => true,
  tickMs = 100,
): DueProbe[] {
  const sent: DueProbe[] = [];
  for (let t = from; t < from + ms; t += tickMs) {
    for (const probe of schedule.due(t)) {
      sent.push(probe);
      const answered = answer(probe);
      if (answered !== 'hang') schedule.settled(probe.key, probe.pod, answered);
    }
  }
  return sent;
}

describe('probeNextInterval', () => {
  it('probes the first interval, and any interval after one with fewer organic requests than minRequests', () => {
    expect(policy).toEqual({ enabled: true, ratePerSecond: 2, minRequests: 20 });
    expect(probeNextInterval(policy, undefined)).toBe(true);
    expect(probeNextInterval(policy, { requests: 0, probes: 0 })).toBe(true);
    expect(probeNextInterval(policy, { requests: 39, probes: 20 })).toBe(true);
    expect(probeNextInterval(policy, { requests: 40, probes: 20 })).toBe(false);
    expect(probeNextInterval(policy, { requests: 500, probes: 0 })).toBe(false);
  });

  it('never probes when disabled', () => {
    expect(probeNextInterval({ ...policy, enabled: false }, undefined)).toBe(false);
    expect(probeNextInterval({ ...policy, enabled: false }, { requests: 0, probes: 0 })).toBe(false);
  });
});

describe('ProbeSchedule', () => {
  it('sends ratePerSecond probes, round robin over the pods, until the order ends', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 3), ratePerSecond: 2, until: 10_000 }, 0);
    const sent = run(schedule, 0, 20_000);
    expect(sent).toHaveLength(20);
    expect(sent.slice(0, 4).map((p) => p.pod.name)).toEqual(['hello-00', 'hello-01', 'hello-02', 'hello-00']);
    expect(schedule.takeAnswered('ns/rev')).toBe(20);
    expect(schedule.takeAnswered('ns/rev')).toBe(0);
  });

  it('probes only the pods the analysis samples (the first 10 by name)', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 15).reverse(), ratePerSecond: 10, until: 5_000 }, 0);
    const names = new Set(run(schedule, 0, 5_000).map((p) => p.pod.name));
    expect([...names].sort()).toEqual(pods('ns', 10).map((p) => p.name));
  });

  it('counts only answers from the pods, not the API server answering in their place', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 1), ratePerSecond: 2, until: 5_000 }, 0);
    let n = 0;
    run(schedule, 0, 5_000, () => n++ % 2 === 0);
    expect(schedule.takeAnswered('ns/rev')).toBe(5);
  });

  it('never has more than maxInFlightPerPod probes on a pod that does not answer: the rest are skipped', () => {
    const schedule = new ProbeSchedule(0);
    const [pod] = pods('ns', 1);
    schedule.set('ns/rev', { pods: [pod!], ratePerSecond: 10, until: 600_000 }, 0);
    const sent = run(schedule, 0, 600_000, () => 'hang');
    expect(sent).toHaveLength(PROBE_LIMITS.maxInFlightPerPod);
    expect(schedule.inFlight(pod)).toBe(2);
    expect(schedule.skipped('ns/rev')).toBe(6000 - 2);
  });

  it('moves to a pod with room when one hangs', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 2), ratePerSecond: 4, until: 10_000 }, 0);
    const sent = run(schedule, 0, 10_000, (p) => (p.pod.name === 'hello-00' ? 'hang' : true));
    expect(sent.filter((p) => p.pod.name === 'hello-00')).toHaveLength(2);
    expect(sent.filter((p) => p.pod.name === 'hello-01').length).toBeGreaterThanOrEqual(36);
  });

  it('holds a namespace to maxPerSecondPerNamespace, however many HelloWorlds it probes', () => {
    const schedule = new ProbeSchedule(0);
    for (let i = 0; i < 5; i++)
      schedule.set(`ns/rev${i}`, { pods: pods('ns', 10), ratePerSecond: 10, until: 60_000 }, 0);
    schedule.set('other/rev', { pods: pods('other', 1), ratePerSecond: 2, until: 60_000 }, 0);
    const sent = run(schedule, 0, 60_000);
    const inNs = sent.filter((p) => p.key.startsWith('ns/')).length;
    // One second's burst, then the rate.
    expect(inNs).toBeLessThanOrEqual(PROBE_LIMITS.maxPerSecondPerNamespace * 61);
    expect(inNs).toBeGreaterThan(PROBE_LIMITS.maxPerSecondPerNamespace * 55);
    // The other tenant keeps its own rate.
    expect(sent.filter((p) => p.key === 'other/rev')).toHaveLength(120);
  });

  it('holds the whole operator to maxPerSecond and maxInFlight', () => {
    const schedule = new ProbeSchedule(0);
    for (let i = 0; i < 20; i++)
      schedule.set(`ns${i}/rev`, { pods: pods(`ns${i}`, 10), ratePerSecond: 10, until: 60_000 }, 0);
    const sent = run(schedule, 0, 60_000);
    expect(sent.length).toBeLessThanOrEqual(PROBE_LIMITS.maxPerSecond * 61);
    // Every tenant gets a share: the first in line changes every tick.
    const perTenant = new Set(sent.map((p) => p.key));
    expect(perTenant.size).toBe(20);

    const hanging = new ProbeSchedule(0);
    for (let i = 0; i < 20; i++)
      hanging.set(`ns${i}/rev`, { pods: pods(`ns${i}`, 10), ratePerSecond: 10, until: 60_000 }, 0);
    expect(run(hanging, 0, 60_000, () => 'hang')).toHaveLength(PROBE_LIMITS.maxInFlight);
    expect(hanging.inFlight()).toBe(PROBE_LIMITS.maxInFlight);
  });

  it('does not make up for a late tick with a burst', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 10), ratePerSecond: 10, until: 60_000 }, 0);
    expect(schedule.due(0)).toHaveLength(1);
    expect(schedule.due(30_000)).toHaveLength(1); // the event loop was stuck for 30 s
  });

  it('stops when the order is withdrawn, keeping the answers for the sample that follows', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('ns/rev', { pods: pods('ns', 1), ratePerSecond: 2, until: 60_000 }, 0);
    expect(run(schedule, 0, 2_000)).toHaveLength(4);
    schedule.set('ns/rev', undefined, 2_000);
    expect(run(schedule, 2_000, 10_000)).toHaveLength(0);
    expect(schedule.takeAnswered('ns/rev')).toBe(4);
    run(schedule, 12_000, 200);
    expect(schedule.active()).toBe(0);
  });

  it('refuses orders without pods, with a rate of zero or already over', () => {
    const schedule = new ProbeSchedule(0);
    schedule.set('a', { pods: [], ratePerSecond: 2, until: 10_000 }, 0);
    schedule.set('b', { pods: pods('ns', 1), ratePerSecond: 0, until: 10_000 }, 0);
    schedule.set('c', { pods: pods('ns', 1), ratePerSecond: 2, until: 0 }, 0);
    expect(schedule.active()).toBe(0);
    expect(run(schedule, 0, 10_000)).toHaveLength(0);
  });
});
