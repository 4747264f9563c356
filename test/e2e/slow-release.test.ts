// On a cluster whose pods really run: a release that adds 900 ms to every request (CHAOS_LATENCY_MS=900)
// and gets no user traffic at all is rolled back. Before latency budgets and probe traffic it passed:
// the smoke checks judged only status and body, and an analysis window without traffic is NoData, which
// passes by default. With the default settings the smoke checks' latency budget catches it
// (SmokeTestFailed); with that budget raised out of the way, the operator's probe traffic gives the
// analysis requests to measure and the p99 threshold catches it (AnalysisFailed). Nothing but the
// operator sends a request to these pods. On simulated nodes every test here is reported as skipped.
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import {
  applyYaml,
  describeRealPods,
  helloWorld,
  jsonpath,
  realPodsContext,
  waitHelloWorld,
} from './harness.js';

const c = realPodsContext('slow-release');

/** Redis gets 2 s per command, as in real-pods.test.ts: CI machines run everything on two cores. */
const spec = (env: Record<string, string>, extra: Partial<HelloWorldSpec> = {}): Partial<HelloWorldSpec> => ({
  replicas: 2,
  env: Object.entries({ REDIS_COMMAND_TIMEOUT_MS: '2000', ...env }).map(([name, value]) => ({ name, value })),
  ...extra,
});

/** A HelloWorld on a healthy first revision, promoted; then the slow release, and its rollback. */
async function rollOutSlowRelease(name: string, extra: Partial<HelloWorldSpec> = {}): Promise<string> {
  await applyYaml(c().namespace, helloWorld(c().namespace, name, spec({ E2E_REVISION: '1' }, extra)));
  await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=Available', 300);
  await applyYaml(
    c().namespace,
    helloWorld(c().namespace, name, spec({ E2E_REVISION: '2', CHAOS_LATENCY_MS: '900' }, extra)),
  );
  await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=RolledBack', 300);
  // The message comes along so that a failure says what caught the release instead.
  return jsonpath(
    c().namespace,
    `hw/${name}`,
    '{.status.lastRollback.reason}: {.status.lastRollback.message}',
  );
}

describeRealPods('a release that adds 900 ms to every request, with no user traffic', (realIt) => {
  realIt(
    'is rolled back by the smoke checks’ latency budget',
    async () => {
      // Below the 900 ms added, above what a healthy answer takes on a busy two-core CI machine (the
      // default, the p99 SLO plus 200 ms = 450 ms, is unit-tested in operator/src/crd).
      const rollback = await rollOutSlowRelease('slow-smoke', {
        rollout: { verification: { smoke: { maxLatencyMs: 700 } } },
      });
      expect(rollback).toMatch(
        /^SmokeTestFailed: smoke check "store-date-of-birth" \(PUT \/hello\/smokecheck\) failed on pod .* after 3 attempts: expected status 204; got status 204 after \d+ ms, over the latency budget of 700 ms$/,
      );
    },
    720_000,
  );

  realIt(
    'is rolled back by the analysis of the operator’s probe traffic when the smoke budget lets it through',
    async () => {
      const rollback = await rollOutSlowRelease('slow-analysis', {
        rollout: { verification: { smoke: { maxLatencyMs: 5000 } } },
      });
      expect(rollback).toMatch(/^AnalysisFailed: 2 consecutive failed measurements/);
      expect(rollback).toMatch(/p99 (> )?\d+ ms exceeds 500 ms/);
      expect(rollback).toContain("of the requests were the operator's probes");
    },
    720_000,
  );
});
