import { describe, expect, it } from '@jest/globals';
import type { ResolvedSmokeCheck } from '../crd/defaults.js';
import { VerificationPending, backgroundVerifier } from './background.js';
import type { HelloSample } from '../crd/types.js';
import type { PodRef, SmokeResult, Verifier } from './types.js';

const pod = (name: string): PodRef => ({ namespace: 'shop', name, port: 8080 });
const checks: ResolvedSmokeCheck[] = [
  {
    name: 'readiness',
    method: 'GET',
    path: '/readyz',
    expectStatus: 200,
    timeoutSeconds: 5,
    retries: 0,
    maxLatencyMs: 450,
  },
];
const passed: SmokeResult = { passed: true, message: 'ok' };

/** A verifier whose runs finish only when the test says so; counts the runs it was asked for. */
function controlled(): Verifier & { runs: number; finish(result?: SmokeResult | Error): void } {
  const pending: ((result: SmokeResult | Error) => void)[] = [];
  return {
    runs: 0,
    smoke() {
      this.runs += 1;
      return new Promise<SmokeResult>((resolve, reject) =>
        pending.push((r) => {
          if (r instanceof Error) reject(r);
          else resolve(r);
        }),
      );
    },
    sample(): Promise<HelloSample> {
      this.runs += 1;
      return new Promise(() => undefined);
    },
    finish(result = passed) {
      pending.shift()?.(result);
    },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('backgroundVerifier', () => {
  it('returns a result that comes within the inline wait, as if nothing were in between', async () => {
    const inner = controlled();
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 1000 });
    const result = verifier.smoke([pod('a')], checks);
    inner.finish();
    await expect(result).resolves.toEqual(passed);
    expect(verifier.running()).toBe(0);
  });

  it('answers VerificationPending while the run goes on, without starting it twice, then hands over its result once', async () => {
    const inner = controlled();
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 10 });
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(VerificationPending);
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(/still running/);
    expect(inner.runs).toBe(1);
    inner.finish({ passed: false, message: 'readiness failed' });
    await settle();
    await expect(verifier.smoke([pod('a')], checks)).resolves.toEqual({
      passed: false,
      message: 'readiness failed',
    });
    // Collected: the next call is a new run.
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(VerificationPending);
    expect(inner.runs).toBe(2);
  });

  it('hands over a failed run’s error', async () => {
    const inner = controlled();
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 10 });
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(VerificationPending);
    inner.finish(new Error('proxy refused'));
    await settle();
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow('proxy refused');
  });

  it('runs at most maxJobs at once; the others wait for a slot without starting', async () => {
    const inner = controlled();
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 1, maxJobs: 2, maxJobsPerNamespace: 2 });
    for (const name of ['a', 'b', 'c']) {
      await expect(verifier.sample([pod(name)])).rejects.toThrow(VerificationPending);
    }
    await expect(verifier.sample([pod('c')])).rejects.toThrow(/waiting for a free verification slot/);
    expect(inner.runs).toBe(2);
    expect(verifier.running()).toBe(2);
  });

  it('gives one namespace at most its share of the slots, so another tenant still gets one', async () => {
    const inner = controlled();
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 1, maxJobs: 4, maxJobsPerNamespace: 2 });
    const inNamespace = (namespace: string, name: string): PodRef[] => [{ namespace, name, port: 8080 }];
    for (const name of ['a', 'b', 'c']) {
      await expect(verifier.sample(inNamespace('hostile', name))).rejects.toThrow(VerificationPending);
    }
    await expect(verifier.sample(inNamespace('hostile', 'c'))).rejects.toThrow(
      /namespace hostile has 2 running/,
    );
    expect(verifier.running('hostile')).toBe(2);
    // Two slots remain, and they are another tenant's to take.
    await expect(verifier.sample(inNamespace('other', 'x'))).rejects.toThrow(/running in the background/);
    expect(verifier.running('other')).toBe(1);
    expect(inner.runs).toBe(3);
  });

  it('forgets a result nobody collects', async () => {
    const inner = controlled();
    let now = 0;
    const verifier = backgroundVerifier(inner, { inlineWaitMs: 1, resultTtlMs: 60_000, now: () => now });
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(VerificationPending);
    inner.finish();
    await settle();
    now = 61_000;
    await expect(verifier.smoke([pod('a')], checks)).rejects.toThrow(VerificationPending);
    expect(inner.runs).toBe(2);
  });
});
