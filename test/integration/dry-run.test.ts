// Dry-run verification on the local cluster, with the operator as a real process: a smoke check marked
// dryRun that fails (simulated pods answer nothing, so it cannot pass) is reported in status, in one
// DryRunWouldFail event and in helloworld_verification_dry_run_failures_total, and the revision is still
// promoted: a dry run never fails a rollout.
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../support/cluster.js';
import {
  applyHelloWorld,
  events,
  helloWorld,
  metricValue,
  operatorInNamespace,
  waitForHelloWorld,
  type OperatorInNamespace,
} from '../support/operator.js';

let kc: KubeConfig;
let setup: OperatorInNamespace | undefined;
const env = (): OperatorInNamespace => setup!;

beforeAll(async () => {
  kc = loadKubeConfig();
  setup = await operatorInNamespace('dry-run');
}, 180_000);

afterAll(() => setup?.cleanup(), 60_000);

describe('a dry-run smoke check', () => {
  it('is reported in status, an event and a metric, and the revision is promoted', async () => {
    const name = 'dry';
    applyHelloWorld(
      helloWorld(env().namespace, name, {
        replicas: 1,
        rollout: {
          progressDeadlineSeconds: 60,
          verification: {
            smoke: {
              defaultChecks: false,
              checks: [
                { name: 'new-feature', path: '/hello/nobody', dryRun: true, retries: 0, timeoutSeconds: 1 },
              ],
            },
            analysis: { enabled: false },
          },
        },
      }),
    );
    const hw = await waitForHelloWorld(
      kc,
      env().namespace,
      name,
      (h) =>
        h.status?.phase === 'Available' || h.status?.phase === 'RolledBack' || h.status?.phase === 'Failed',
      `${name} to end its verification`,
      { operator: env().operator, timeoutMs: 120_000 },
    );
    expect(hw.status?.phase).toBe('Available');
    expect(hw.status?.verification?.dryRunFailures).toMatchObject([{ check: 'smoke', count: 1 }]);
    expect(hw.status?.verification?.dryRunFailures?.[0]?.message).toMatch(
      /^smoke check "new-feature" \(GET \/hello\/nobody\) failed on pod /,
    );
    const dryRun = events(env().namespace, `involvedObject.name=${name},reason=DryRunWouldFail`);
    expect(dryRun).toHaveLength(1);
    expect(dryRun[0]).toMatchObject({ type: 'Warning' });
    expect(dryRun[0]?.message).toMatch(
      /^revision \w+: dry run, would have failed: smoke: smoke check "new-feature"/,
    );
    const metrics = await env().operator.metrics();
    expect(
      metricValue(metrics, 'helloworld_verification_dry_run_failures_total', {
        namespace: env().namespace,
        name,
        check: 'smoke',
      }),
    ).toBe(1);
  }, 180_000);
});
