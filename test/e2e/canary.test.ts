// On a cluster whose pods really run: the Canary strategy under steady load through the Service. A good
// release goes through its steps (1 canary pod, verify, as many canary pods as stable ones, verify) and
// is promoted without a single failed request; a release that fails 30% of its requests is rolled back at
// its first verify step by removing the canary pods, while the stable pods, never touched, keep
// serving. On simulated nodes every test here is reported as skipped (test/integration/canary.test.ts
// covers the steps there).
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import {
  applyYaml,
  describeRealPods,
  eventReasons,
  eventually,
  exists,
  helloWorld,
  jsonpath,
  kubectl,
  realPodsContext,
  waitHelloWorld,
} from './harness.js';
import { startLoad } from './load.js';

const c = realPodsContext('canary');

const name = 'shop';
const STEPS = [{ canary: { replicas: 1 } }, { verify: {} }, { canary: { replicas: '100%' } }, { verify: {} }];

/** Redis gets 2 s per command, as in real-pods.test.ts: CI machines run everything on two cores. */
const spec = (
  env: Record<string, string>,
  verification: NonNullable<HelloWorldSpec['rollout']>['verification'] = {},
): Partial<HelloWorldSpec> => ({
  replicas: 3,
  env: Object.entries({ REDIS_COMMAND_TIMEOUT_MS: '2000', ...env }).map(([n, value]) => ({ name: n, value })),
  rollout: { strategy: 'Canary', steps: STEPS, verification },
});

/** `shop` on its first revision, promoted and settled (whatever an earlier test left). */
async function onFirstRevision(): Promise<void> {
  await applyYaml(c().namespace, helloWorld(c().namespace, name, spec({ E2E_REVISION: '1' })));
  await eventually(
    c(),
    name,
    'shop on its first revision, promoted and settled',
    async () => {
      const [generation, observed, phase, current, stable] = (
        await jsonpath(
          c().namespace,
          `hw/${name}`,
          '{.metadata.generation} {.status.observedGeneration} {.status.phase} {.status.currentRevision} {.status.stableRevision}',
        )
      ).split(' ');
      return generation === observed && phase === 'Available' && current === stable;
    },
    300_000,
  );
  await canaryGone();
  // A previous test's release may still be terminating its old pods.
  await eventually(
    c(),
    name,
    'only the 3 pods of the first revision',
    async () => (await allPodNames()).split(' ').length === 3,
    120_000,
  );
}

/** Until the canary Deployment is gone (deleted at a rollback or after a promotion). */
const canaryGone = (): Promise<boolean> =>
  eventually(
    c(),
    name,
    'the canary Deployment to go',
    async () => !(await exists(c().namespace, `deploy/${name}-canary`)),
    120_000,
  );

/** The names of the API pods (terminating ones too, until they are gone), `extra` narrowing the selector. */
const podNames = (extra = ''): Promise<string> =>
  kubectl([
    'get',
    'pods',
    '-n',
    c().namespace,
    '-l',
    `app.kubernetes.io/instance=${name},app.kubernetes.io/component=api${extra}`,
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]);
/** The stable Deployment's pods: those without the canary label. */
const stablePodNames = (): Promise<string> => podNames(',!hello.dev/track');
const allPodNames = (): Promise<string> => podNames();

describeRealPods('the Canary strategy under load', (realIt) => {
  realIt(
    'promotes a good release through every step without failing a single request',
    async () => {
      await onFirstRevision();
      const load = await startLoad(c(), { service: name, seconds: 400, concurrency: 4 });
      await applyYaml(c().namespace, helloWorld(c().namespace, name, spec({ E2E_REVISION: '2' })));
      await eventually(
        c(),
        name,
        'the canary Deployment',
        () => exists(c().namespace, `deploy/${name}-canary`),
        60_000,
      );
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=Available', 360);
      const report = await load.stop();
      console.log(
        `canary under load: ${String(report.ok + report.failed)} requests sent, ${String(report.failed)} failed`,
      );
      expect(report.ok).toBeGreaterThan(0);
      expect({ failed: report.failed, failures: report.failures }).toEqual({ failed: 0, failures: [] });
      expect(await jsonpath(c().namespace, `hw/${name}`, '{.status.history[0].outcome}')).toBe('Promoted');
      // Repeated events of one reason are counted on one Event object.
      expect(await eventReasons(c().namespace, name)).toEqual(
        expect.arrayContaining(['RolloutStarted', 'CanaryStepPassed', 'RolloutSucceeded']),
      );
    },
    900_000,
  );

  realIt(
    'rolls back a release that fails 30% of its requests at the first verify step; the stable pods keep serving',
    async () => {
      await onFirstRevision();
      const stableBefore = await stablePodNames();
      expect(stableBefore.split(' ')).toHaveLength(3);
      const load = await startLoad(c(), { service: name, seconds: 400, concurrency: 4 });
      await applyYaml(
        c().namespace,
        helloWorld(c().namespace, name, spec({ E2E_REVISION: '3', CHAOS_ERROR_RATE: '0.3' })),
      );
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=RolledBack', 360);
      const during = await load.stop();
      const rollback = await jsonpath(
        c().namespace,
        `hw/${name}`,
        '{.status.lastRollback.reason}: {.status.lastRollback.message}',
      );
      console.log(
        `bad canary under load: ${String(during.ok + during.failed)} requests sent, ${String(during.failed)} failed; ${rollback}`,
      );
      expect(rollback).toMatch(/^(SmokeTestFailed|AnalysisFailed): at step 2\/4: verify: /);
      expect(rollback).toContain('the 1 canary pods are removed, the 3 stable pods kept serving');
      // One pod in four answered 30% of its share with errors: a few percent of all requests at most.
      expect(during.failed).toBeLessThan((during.ok + during.failed) * 0.1);
      await canaryGone();
      // The stable pods never moved, and with the canary gone nothing fails any more.
      await eventually(
        c(),
        name,
        'only the stable pods',
        async () => (await allPodNames()) === stableBefore,
        120_000,
      );
      const after = await startLoad(c(), { service: name, seconds: 15, concurrency: 4 });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const report = await after.stop();
      expect(report.ok).toBeGreaterThan(0);
      expect({ failed: report.failed, failures: report.failures }).toEqual({ failed: 0, failures: [] });
    },
    900_000,
  );

  realIt(
    'rolls back a canary 300 ms slower than the stable pods on the comparison alone, fixed thresholds off',
    async () => {
      await onFirstRevision();
      // No user traffic: the operator probes the canary and the stable pods alike (5/s each, 50 requests
      // a side per 10 s interval), and only the comparison judges: the fixed p99 threshold is off.
      const verification = {
        smoke: { maxLatencyMs: 5000 },
        analysis: {
          windowSeconds: 20,
          intervalSeconds: 10,
          thresholds: { enabled: false },
          probe: { ratePerSecond: 5 },
        },
      };
      await applyYaml(
        c().namespace,
        helloWorld(c().namespace, name, spec({ E2E_REVISION: '4', CHAOS_LATENCY_MS: '300' }, verification)),
      );
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=RolledBack', 360);
      const rollback = await jsonpath(
        c().namespace,
        `hw/${name}`,
        '{.status.lastRollback.reason}: {.status.lastRollback.message}',
      );
      console.log(`slow canary: ${rollback}`);
      expect(rollback).toMatch(/^CanaryWorseThanStable: at step 2\/4: verify: /);
      await canaryGone();
    },
    900_000,
  );
});
