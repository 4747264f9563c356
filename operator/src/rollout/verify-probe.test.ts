// Probe traffic as the rollout logic orders it: when an analysis interval is probed, what each order
// says, and that orders stop when the verdict is in (the prober itself is tested in verification/).
import { describe, expect, it } from '@jest/globals';
import type { HelloWorldSpec } from '../crd/types.js';
import type { Measurement, ProbeOrder, Prober } from '../verification/types.js';
import { REV2, Sim, ScriptedVerifier } from '../../../test/support/rollout-fixtures.js';
import { PROBE_GRACE_MS } from './verify.js';

/** Records every order; answers takeAnswered with what the test queues (then 0). */
class RecordingProber implements Prober {
  readonly orders: { key: string; order: ProbeOrder | undefined }[] = [];
  readonly answers: number[] = [];

  set(key: string, order: ProbeOrder | undefined): void {
    this.orders.push({ key, order });
  }

  takeAnswered(): number {
    return this.answers.shift() ?? 0;
  }

  last(): ProbeOrder | undefined {
    return this.orders.at(-1)?.order;
  }
}

class ProbingVerifier extends ScriptedVerifier {
  readonly prober = new RecordingProber();
}

/** Measurements that saw `requests` each, passing (or NoData for none). */
function measuring(requests: number[]): (prev: unknown, cur: unknown) => Measurement {
  return () => {
    const n = requests.shift() ?? 0;
    return n === 0
      ? { result: 'NoData', requests: 0, message: 'no /hello requests in the interval' }
      : { result: 'Pass', requests: n, message: `error rate 0.0% (0 of ${n} /hello requests)` };
  };
}

/** REV1 stable; REV2 rolled out, smoke passed, baseline taken with a prober attached. */
async function verifying(requests: number[], spec: Partial<HelloWorldSpec> = {}) {
  const sim = new Sim(spec);
  await sim.reachStable();
  const verifier = new ProbingVerifier();
  sim.verifier = verifier;
  sim.measure = measuring(requests);
  sim.changeSpec(REV2);
  sim.settle(REV2);
  await sim.step();
  return { sim, prober: verifier.prober };
}

async function interval(sim: Sim): Promise<void> {
  sim.advance(10);
  await sim.step();
}

describe('probe traffic during the analysis', () => {
  it('probes from the baseline on, until the next measurement and a grace, at the configured rate', async () => {
    const { sim, prober } = await verifying([]);
    expect(sim.status.verification?.probing).toBe(true);
    expect(sim.status.verification?.lastMessage).toBe(
      'analysis: baseline taken from 2 pod(s); first measurement in 10s; probing it at 2/s',
    );
    expect(prober.orders).toHaveLength(1);
    expect(prober.orders[0]?.key).toBe(`ns/${REV2}`);
    expect(prober.last()).toEqual({
      pods: sim.pods.map((p) => ({ namespace: 'ns', name: p.metadata?.name, port: 8080 })),
      ratePerSecond: 2,
      until: sim.now.getTime() + 10_000 + PROBE_GRACE_MS,
    });
  });

  it('keeps probing while the organic traffic is below minRequests, counting probes out', async () => {
    const { sim, prober } = await verifying([25, 0]);
    prober.answers.push(20); // 25 requests, 20 of them probes: 5 organic
    await interval(sim);
    expect(sim.status.verification?.probing).toBe(true);
    expect(sim.status.verification?.lastMessage).toBe(
      "analysis measurement 1: Pass: error rate 0.0% (0 of 25 /hello requests); 20 of the requests were the operator's probes; " +
        'probing the next interval at 2/s (5 organic requests, fewer than 20)',
    );
    await interval(sim); // the probes got no answer: NoData, and still probing
    expect(sim.status.verification?.probing).toBe(true);
    expect(prober.last()?.until).toBe(sim.now.getTime() + 10_000 + PROBE_GRACE_MS);
  });

  it('stops probing once organic traffic is enough to judge, and starts again when it drops', async () => {
    const { sim, prober } = await verifying([120, 3]);
    prober.answers.push(20); // 100 organic
    await interval(sim);
    expect(sim.status.verification?.probing).toBe(false);
    expect(prober.orders.at(-1)).toEqual({ key: `ns/${REV2}`, order: undefined });
    await interval(sim); // 3 organic requests
    expect(sim.status.verification?.probing).toBe(true);
    expect(prober.last()).toMatchObject({ ratePerSecond: 2 });
  });

  it('uses the HelloWorld’s rate and threshold', async () => {
    const spec = { rollout: { verification: { analysis: { probe: { ratePerSecond: 5, minRequests: 3 } } } } };
    const { sim, prober } = await verifying([3], spec);
    expect(prober.last()?.ratePerSecond).toBe(5);
    await interval(sim);
    expect(sim.status.verification?.probing).toBe(false);
  });

  it('never orders probes when they are disabled', async () => {
    const spec = { rollout: { verification: { analysis: { probe: { enabled: false } } } } };
    const { sim, prober } = await verifying([0, 0, 0, 0, 0, 0], spec);
    for (let i = 0; i < 6; i++) await interval(sim);
    expect(sim.status.phase).toBe('Available');
    expect(prober.orders.every(({ order }) => order === undefined)).toBe(true);
    expect(sim.status.verification?.probing).toBe(false);
  });

  it('stops probing when the window passes', async () => {
    const { sim, prober } = await verifying([5, 5, 5, 5, 5, 5]);
    for (let i = 0; i < 6; i++) await interval(sim);
    expect(sim.status.phase).toBe('Available');
    expect(prober.orders.at(-1)).toEqual({ key: `ns/${REV2}`, order: undefined });
  });

  it('stops probing when the analysis fails', async () => {
    const { sim, prober } = await verifying([]);
    sim.verifier.sampleScript.push(new Error('timeout'), new Error('timeout'));
    await interval(sim);
    await interval(sim);
    expect(sim.last?.rollback).toEqual({ reason: 'AnalysisFailed' });
    expect(prober.orders.at(-1)).toEqual({ key: `ns/${REV2}`, order: undefined });
  });

  it('resumes the probes of the current interval from status after an operator restart', async () => {
    const { sim } = await verifying([]);
    const restarted = new ProbingVerifier();
    sim.verifier = restarted;
    sim.advance(3); // a reconcile between two measurements
    await sim.step();
    expect(restarted.prober.orders).toHaveLength(1);
    expect(restarted.prober.last()?.until).toBe(sim.now.getTime() + 7_000 + PROBE_GRACE_MS);
  });
});
