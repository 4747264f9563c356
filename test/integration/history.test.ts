// status.history on the local cluster, with the operator as a real process (docs/rollouts.md, "History"):
// a good release, a crash-looping one rolled back, and a good one again after an operator restart leave
// three outcomes, newest first, each recorded once; lowering rollout.historyLimit keeps the newest only.
// Verification is off on simulated nodes, so a good image is promoted once its pods are ready.
import type { KubeConfig } from '@kubernetes/client-node';
import type { HelloWorld, HistoryEntry } from '../../operator/src/crd/types.js';
import { loadKubeConfig } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  kubectl,
  operatorInNamespace,
  type OperatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: OperatorInNamespace['cleanup'];

const NAME = 'history';
const GOOD = 'hello/api:1.0.0';
const CRASHING = 'crashloop.invalid/api:2.0.0';
const GOOD_AGAIN = 'hello/api:3.0.0';

const settled = (hw: HelloWorld, phase: string): boolean =>
  hw.status?.phase === phase &&
  hw.status.observedGeneration === hw.metadata.generation &&
  conditionOf(hw, 'Progressing')?.status === 'False';

/** Applies `image` (and any historyLimit) and waits until its rollout has settled in `phase`. */
async function release(image: string, phase: string, historyLimit?: number): Promise<HelloWorld> {
  const rollout = { progressDeadlineSeconds: 600, ...(historyLimit && { historyLimit }) };
  applyHelloWorld(helloWorld(namespace, NAME, simulatedSpec({ image, rollout })));
  return waitForHelloWorld(kc, namespace, NAME, (hw) => settled(hw, phase), `${image} to end ${phase}`, {
    operator,
    timeoutMs: 90_000,
  });
}

const brief = (history: HistoryEntry[] | undefined): string[] =>
  (history ?? []).map((e) => `${e.image} ${e.outcome} ${e.reason}`);

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('history'));
}, 180_000);

afterAll(() => cleanup(operator), 60_000); // the one running now: the test restarts it

describe('status.history', () => {
  it('keeps each outcome once, newest first, across an operator restart, bounded by historyLimit', async () => {
    const first = await release(GOOD, 'Available');
    expect(brief(first.status?.history)).toEqual([`${GOOD} Promoted RolloutSucceeded`]);

    const rolledBack = await release(CRASHING, 'RolledBack');
    expect(brief(rolledBack.status?.history)).toEqual([
      `${CRASHING} RolledBack CrashLooping`,
      `${GOOD} Promoted RolloutSucceeded`,
    ]);
    const failed = rolledBack.status?.history?.[0];
    expect(failed?.endTime).toBe(rolledBack.status?.lastRollback?.time);
    expect(failed?.summary).toMatch(/restarted \d+ times/);

    // What is recorded lives in status: a new operator process carries on from it.
    await operator.kill();
    operator = await startOperator({ env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: namespace } });
    const last = await release(GOOD_AGAIN, 'Available');
    const history = last.status?.history ?? [];
    expect(brief(history)).toEqual([
      `${GOOD_AGAIN} Promoted RolloutSucceeded`,
      `${CRASHING} RolledBack CrashLooping`,
      `${GOOD} Promoted RolloutSucceeded`,
    ]);
    expect(history.slice(1)).toEqual(rolledBack.status?.history);
    expect(history[0]?.revision).toBe(last.status?.stableRevision);
    for (const entry of history) expect(entry.startTime <= entry.endTime).toBe(true);
    expect(history.map((e) => e.endTime)).toEqual(
      history
        .map((e) => e.endTime)
        .sort()
        .reverse(),
    );

    // kubectl reads it as docs/rollouts.md shows.
    const printed = kubectl([
      'get',
      'hw',
      NAME,
      '-n',
      namespace,
      '-o',
      'jsonpath={range .status.history[*]}{.outcome}{" "}{.reason}{"\\n"}{end}',
    ]);
    expect(printed.trim().split('\n')).toEqual([
      'Promoted RolloutSucceeded',
      'RolledBack CrashLooping',
      'Promoted RolloutSucceeded',
    ]);

    // A lower limit keeps the newest entries; the image is unchanged, so nothing rolls out.
    applyHelloWorld(
      helloWorld(
        namespace,
        NAME,
        simulatedSpec({ image: GOOD_AGAIN, rollout: { progressDeadlineSeconds: 600, historyLimit: 2 } }),
      ),
    );
    const bounded = await waitForHelloWorld(
      kc,
      namespace,
      NAME,
      (hw) => hw.status?.observedGeneration === hw.metadata.generation && hw.status?.history?.length === 2,
      'the history to keep the newest 2 entries',
      { operator },
    );
    expect(bounded.status?.history).toEqual(history.slice(0, 2));
    expect(bounded.status?.phase).toBe('Available');
  }, 300_000);
});
