// Scenario 7: the operator dies in the middle of a rollout and the next one finishes it from the
// HelloWorld's status; with two replicas, killing the leader hands the work to the standby within
// the lease time. Locally the suite runs the operator processes itself (SIGKILL: no lease released);
// in the cluster it force-deletes the operator's pods.
import type { OperatorProcess } from '../support/operator.js';
import { metricValue } from '../support/operator.js';
import {
  applyYaml,
  eventually,
  helloWorld,
  jsonpath,
  kubectl,
  leaderPod,
  operatorMode,
  realPods,
  setUp,
  startLocalOperator,
  systemNamespace,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';

let ctx: E2eContext;
const running: OperatorProcess[] = [];
const leaseSeconds = 15;

async function startLocal(): Promise<OperatorProcess> {
  const operator = await startLocalOperator(ctx.namespace);
  running.push(operator);
  return operator;
}

/** Killed by a signal, a process has no exit code but a signal code. */
const alive = (operator: OperatorProcess): boolean =>
  operator.child.exitCode === null && operator.child.signalCode === null;

const isLeader = async (operator: OperatorProcess): Promise<boolean> =>
  alive(operator) && metricValue(await operator.metrics(), 'helloworld_leader') === 1;

/**
 * Exactly `count` local operator processes alive, whatever an earlier test left running: extra ones
 * are killed, missing ones started. Returns them.
 */
async function localOperators(count: number): Promise<OperatorProcess[]> {
  for (const extra of running.filter(alive).slice(count)) await extra.kill();
  while (running.filter(alive).length < count) await startLocal();
  return running.filter(alive);
}

beforeAll(async () => {
  ctx = await setUp('resilience', { startOperator: false });
  if (operatorMode === 'local') {
    ctx.operator = {
      tail: (lines = 40) =>
        Promise.resolve(
          running
            .map((o, i) => `--- operator ${String(i + 1)} (pid ${String(o.child.pid)}):\n${o.tail(lines)}`)
            .join('\n'),
        ),
      metrics: async () => {
        for (const o of running.filter(alive)) if (await isLeader(o)) return o.metrics();
        return '';
      },
      stop: async () => {
        await Promise.all(running.map((o) => o.stop()));
      },
    };
  }
}, 180_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

/** Waits for the in-cluster operator's Deployment: an earlier test may have deleted its pods. */
async function waitOperatorDeployment(condition: string): Promise<void> {
  await kubectl([
    'wait',
    `--for=${condition}`,
    '--timeout=180s',
    '-n',
    systemNamespace,
    'deployment/helloworld-operator',
  ]);
}

/**
 * A spec whose rollouts take a few steps (one pod at a time), so that there is a "middle". Simulated pods
 * are ready at once, which makes a four-step rollout last about a second: there they are ready 3 s
 * after they start (the kwok stage's delay annotation, hack/cluster/kwok-stages.yaml).
 */
const spec = (revision: string) => ({
  replicas: 4,
  rollout: { maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: realPods ? 180 : 60 },
  env: [{ name: 'E2E_REVISION', value: revision }],
  ...(!realPods && { podAnnotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '3s' } }),
});

/** Changes the pod template, waits until the operator has started the rollout, and returns its revision. */
async function startRollout(name: string, revision: string): Promise<string> {
  await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, spec(revision)));
  await eventually(ctx, name, 'the operator to start rolling out the new revision', async () => {
    const status = await jsonpath(
      ctx.namespace,
      `hw/${name}`,
      '{.status.phase} {.status.currentRevision} {.status.stableRevision}',
    );
    const [phase, current, stable] = status.split(' ');
    return (phase === 'Progressing' || phase === 'Verifying') && current !== stable && current;
  });
  return jsonpath(ctx.namespace, `hw/${name}`, '{.status.currentRevision}');
}

async function expectFinished(name: string, revision: string): Promise<void> {
  await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 300 : 150);
  expect(
    await jsonpath(ctx.namespace, `hw/${name}`, '{.status.stableRevision} {.status.readyReplicas}'),
  ).toBe(`${revision} 4`);
}

describe('an operator killed in the middle of a rollout', () => {
  it('is replaced, and the new one finishes the rollout from status', async () => {
    const name = 'resume';
    if (operatorMode === 'local') await localOperators(1);
    else await waitOperatorDeployment('condition=Available');
    await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, spec('1')));
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 300 : 150);

    const revision = await startRollout(name, '2');
    if (operatorMode === 'local') {
      await localOperators(0);
      // Nobody else writes this status: the rollout stays unfinished until an operator is back.
      expect(await jsonpath(ctx.namespace, `hw/${name}`, '{.status.phase}')).toMatch(
        /^(Progressing|Verifying)$/,
      );
      await startLocal();
    } else {
      await kubectl([
        'delete',
        'pods',
        '-n',
        systemNamespace,
        '-l',
        'app.kubernetes.io/name=helloworld-operator',
        '--force',
        '--grace-period=0',
      ]);
    }
    await expectFinished(name, revision);
  }, 420_000);
});

describe('two operator replicas', () => {
  it('hand the work over when the leader is killed', async () => {
    const name = 'failover';
    if (operatorMode === 'local') {
      const pair = await localOperators(2);
      await eventually(ctx, name, 'one of the two local operators to lead', async () => {
        const leaders = await Promise.all(pair.map(isLeader));
        return leaders.filter(Boolean).length === 1;
      });
    } else {
      await waitOperatorDeployment('jsonpath={.status.readyReplicas}=2');
    }
    await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, spec('1')));
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 300 : 150);

    const revision = await startRollout(name, '2');
    const killedAt = Date.now();
    let takeover: () => Promise<boolean>;
    if (operatorMode === 'local') {
      const candidates = running.filter(alive);
      const leader = (
        await Promise.all(candidates.map(async (o) => ((await isLeader(o)) ? o : undefined)))
      ).find(Boolean)!;
      const standby = candidates.find((o) => o !== leader)!;
      await leader.kill();
      takeover = () => isLeader(standby);
    } else {
      const leader = await leaderPod();
      await kubectl(['delete', 'pod', leader, '-n', systemNamespace, '--force', '--grace-period=0']);
      takeover = async () => {
        const holder = await leaderPod();
        return holder !== '' && holder !== leader;
      };
    }
    // The standby may take the lease once the dead leader has not renewed it for a lease duration;
    // the bound adds its retry period and the time to notice.
    await eventually(
      ctx,
      name,
      `the standby to take the lease within ${String(leaseSeconds)} s and some retries`,
      takeover,
      (leaseSeconds + 15) * 1000,
    );
    console.log(
      `e2e resilience: the standby led ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the leader was killed`,
    );
    await expectFinished(name, revision);
  }, 420_000);
});
