// Split brain, played on the real API server: two operator processes share a Lease; the leader is frozen
// (SIGSTOP) past the lease duration, the standby takes over, a HelloWorld changes, and the old leader is
// resumed (SIGCONT). Each process talks through its own recording pass-through, so every request the old
// leader sends after it resumes is seen: it must send no write at all, and exit.
//
// The new leader is frozen too before the old one resumes, so the change is still undone work when the
// old leader wakes: whatever it would write, it has a reason to (with the new leader running, the old
// one could find the work already done and write nothing by luck).
import { AppsV1Api, CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startApiRecorder, type ApiRecorder } from '../support/api-recorder.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  helloWorld,
  installCrd,
  simulatedSpec,
  startOperator,
  type OperatorProcess,
} from '../support/operator.js';

// Short timings so the fault plays out in seconds (the same checks hold for the 15/10/2 s defaults),
// long enough that a leader on a busy machine keeps its lease until the test freezes it.
const TIMINGS = { LEASE_DURATION_MS: '8000', RENEW_DEADLINE_MS: '5000', RETRY_PERIOD_MS: '1000' };
const LEASE = 'helloworld-operator-failover';
const NAME = 'failover';

let kc: KubeConfig;
let namespace: string;
const recorders: ApiRecorder[] = [];
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  kc = loadKubeConfig();
  buildOnce();
  installCrd();
  namespace = await createTestNamespace('leader-failover');
}, 180_000);

afterAll(async () => {
  for (const operator of operators) {
    operator.child.kill('SIGCONT');
    await operator.kill();
  }
  await Promise.all(recorders.map((r) => r.close()));
  await deleteTestNamespace(namespace);
}, 60_000);

async function replica(): Promise<{ operator: OperatorProcess; recorder: ApiRecorder }> {
  const recorder = await startApiRecorder(kc, 'leader-failover');
  recorders.push(recorder);
  const operator = await startOperator({
    kubeconfig: recorder.kubeconfig,
    env: {
      ...TIMINGS,
      LEADER_ELECTION: 'true',
      LEASE_NAMESPACE: namespace,
      LEASE_NAME: LEASE,
      WATCH_NAMESPACE: namespace,
    },
  });
  operators.push(operator);
  return { operator, recorder };
}

/** The object, or undefined while it does not exist (or cannot be read). */
const orUndefined = <T>(read: Promise<T>): Promise<T | undefined> => read.catch(() => undefined);

const holder = async (): Promise<string | undefined> =>
  (await orUndefined(kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace })))
    ?.spec?.holderIdentity;

const deploymentReplicas = async (): Promise<number | undefined> =>
  (await orUndefined(kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: NAME, namespace })))?.spec
    ?.replicas;

const exited = (operator: OperatorProcess): Promise<boolean> =>
  operator.child.exitCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) =>
        operator.child.once('exit', () => {
          resolve(true);
        }),
      );

it('a leader frozen past its lease and resumed after a takeover makes no write', async () => {
  const old = await replica();
  const oldIdentity = await waitFor(holder, { describe: 'the first replica to take the lease' });
  const next = await replica();

  applyHelloWorld(helloWorld(namespace, NAME, simulatedSpec({ replicas: 2 })));
  await waitFor(async () => (await deploymentReplicas()) === 2, {
    describe: 'the leader to create the Deployment',
    timeoutMs: 60_000,
  });
  expect(old.recorder.writesSince(0).length).toBeGreaterThan(0); // the recorder does see its writes

  // Still the leader, alive, when it freezes: what follows is the fault, not an earlier step-down.
  expect(await holder()).toBe(oldIdentity);
  old.operator.child.kill('SIGSTOP');
  expect(old.operator.child.exitCode).toBeNull();
  const newIdentity = await waitFor(
    async () => {
      const now = await holder();
      return now !== undefined && now !== oldIdentity ? now : undefined;
    },
    { describe: 'the standby to take over the lease', timeoutMs: 30_000 },
  );
  next.operator.child.kill('SIGSTOP');

  applyHelloWorld(helloWorld(namespace, NAME, simulatedSpec({ replicas: 3 })));
  // The change waits, undone, in the frozen old leader's watch connections.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(await deploymentReplicas()).toBe(2);

  expect(old.operator.logs()).not.toContain('lost the leader lease');
  const resumedAt = old.recorder.mark();
  old.operator.child.kill('SIGCONT');
  const gone = await Promise.race([
    exited(old.operator),
    new Promise<false>((resolve) =>
      setTimeout(() => {
        resolve(false);
      }, 20_000),
    ),
  ]);

  const writes = old.recorder.writesSince(resumedAt).map((r) => `${r.method} ${r.path}`);
  expect({ writesAfterTakeover: writes, holder: await holder() }).toEqual({
    writesAfterTakeover: [],
    holder: newIdentity,
  });
  expect(await deploymentReplicas()).toBe(2);
  expect(gone).toBe(true);
  expect(old.operator.child.exitCode).toBe(1);
  expect(old.operator.logs()).toContain('lost the leader lease');

  // Work goes on: the new leader resumes (it may step down too, its own deadline having passed while
  // frozen) and a fresh replica stands by, so whoever leads applies the change.
  next.operator.child.kill('SIGCONT');
  await replica();
  await waitFor(async () => (await deploymentReplicas()) === 3, {
    describe: 'a leader to apply the change',
    timeoutMs: 60_000,
  });
}, 180_000);
