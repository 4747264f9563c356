// An external Redis (redis.mode External) on the local cluster's API server, with the operator as a
// process: a user's Secret that is missing, lacks the named key, or holds no redis:// URL blocks the
// HelloWorld with RedisSecretInvalid (Degraded and Reconciled, one Warning event) and leaves the API
// pods as they are; once the Secret is fixed the pods roll onto it by themselves. The operator reads
// the user's Secret on each reconcile and does not watch it: a change of the Secret alone is seen on
// the next reconcile, so each case also changes the image, which must not roll out while blocked.
import type { KubeConfig, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { Reason } from '../../operator/src/rollout/conditions.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  events,
  helloWorld,
  kubectl,
  kubectlGet,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';

const CHECKSUM = 'hello.dev/config-checksum';
const SECRET = 'redis-url';
const KEY = 'url';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const external = { mode: 'External' as const, urlSecretRef: { name: SECRET, key: KEY } };
const spec = (image: string) => simulatedSpec({ image, redis: external });
const deployment = (name: string): V1Deployment => kubectlGet('deployment', name, namespace);

/** Replaces the user's Secret by one holding exactly `data` (plain text values). */
function writeSecret(data: Record<string, string>): void {
  kubectl(['delete', 'secret', SECRET, '-n', namespace, '--ignore-not-found']);
  const literals = Object.entries(data).map(([key, value]) => `--from-literal=${key}=${value}`);
  kubectl(['create', 'secret', 'generic', SECRET, '-n', namespace, ...literals]);
}

/** The names of the ReplicaSets of the HelloWorld's Deployment. */
function replicaSets(name: string): string[] {
  const list = JSON.parse(kubectl(['get', 'replicasets', '-n', namespace, '-o', 'json'])) as {
    items: V1ReplicaSet[];
  };
  return list.items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name))
    .map((rs) => rs.metadata?.name ?? '')
    .sort();
}

/** What must not move while the Secret is unusable: the pod template and the ReplicaSets. */
function pods(name: string) {
  const d = deployment(name);
  return {
    template: d.spec?.template,
    generation: d.metadata?.generation,
    replicaSets: replicaSets(name),
  };
}

const warningEvents = (name: string, reason: string): number =>
  events(namespace, `involvedObject.name=${name},reason=${reason},type=Warning`).length;

const promoted = (hw: HelloWorld): boolean =>
  hw.status?.phase === 'Available' &&
  hw.status.observedGeneration === hw.metadata.generation &&
  hw.status.currentRevision === hw.status.stableRevision &&
  conditionOf(hw, 'Degraded')?.status === 'False' &&
  conditionOf(hw, 'Reconciled')?.status === 'True';

const blocked = (hw: HelloWorld): boolean =>
  hw.status?.observedGeneration === hw.metadata.generation &&
  conditionOf(hw, 'Degraded')?.reason === Reason.RedisSecretInvalid &&
  conditionOf(hw, 'Reconciled')?.reason === Reason.RedisSecretInvalid;

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('redis-secret'));
}, 240_000);

afterAll(() => cleanup(), 60_000);

describe('a running HelloWorld whose Redis Secret becomes unusable', () => {
  const name = 'ext';
  let version = 0;

  beforeAll(async () => {
    writeSecret({ [KEY]: 'redis://redis-0.example:6379/0' });
    applyHelloWorld(helloWorld(namespace, name, spec('hello/api:1.0.0')));
    await waitForHelloWorld(kc, namespace, name, promoted, 'the HelloWorld to become Available', {
      operator,
      timeoutMs: 120_000,
    });
  }, 180_000);

  it.each([
    ['is deleted', 'does not exist', () => kubectl(['delete', 'secret', SECRET, '-n', namespace])],
    [
      'lacks the key',
      `has no key ${KEY}`,
      () => {
        writeSecret({ other: 'redis://redis.example:6379/0' });
      },
    ],
    [
      'holds a URL that is not Redis',
      `key ${KEY} is not a redis:// or rediss:// URL`,
      () => {
        writeSecret({ [KEY]: 'http://redis.example:6379/0' });
      },
    ],
  ])(
    '%s: RedisSecretInvalid and the pods untouched; fixed, the pods roll',
    async (_case, problem, breakSecret) => {
      version += 1;
      const before = pods(name);
      const eventsBefore = warningEvents(name, Reason.RedisSecretInvalid);
      breakSecret();
      // A spec change makes the operator look again; the new image must not roll out while blocked.
      applyHelloWorld(helloWorld(namespace, name, spec(`hello/api:1.0.${String(version)}`)));
      const hw = await waitForHelloWorld(kc, namespace, name, blocked, 'Degraded=RedisSecretInvalid', {
        operator,
      });
      expect(conditionOf(hw, 'Degraded')?.status).toBe('True');
      expect(hw.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toBe(
        `Secret ${SECRET} ${problem}; the API pods and Redis are not changed until the Redis URL is ` +
          'available (see the runbook)',
      );
      await waitFor(() => warningEvents(name, Reason.RedisSecretInvalid) > eventsBefore, {
        describe: 'a RedisSecretInvalid Warning event',
        timeoutMs: 10_000,
      });
      // Give a wrong reconcile time to act: the template and the ReplicaSets stay as they were.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(pods(name)).toEqual(before);

      // Fixed with a URL of another server: the pods roll onto it, and the image asked for meanwhile.
      writeSecret({ [KEY]: `redis://redis-${String(version)}.example:6379/0` });
      const fixed = await waitForHelloWorld(
        kc,
        namespace,
        name,
        promoted,
        'a rollout once the Secret is fixed',
        {
          operator,
          timeoutMs: 120_000,
        },
      );
      const after = deployment(name).spec?.template;
      expect(after?.spec?.containers[0]?.image).toBe(`hello/api:1.0.${String(version)}`);
      expect(after?.metadata?.annotations?.[CHECKSUM]).not.toBe(
        before.template?.metadata?.annotations?.[CHECKSUM],
      );
      expect(replicaSets(name)).toEqual(expect.arrayContaining(before.replicaSets));
      expect(replicaSets(name).length).toBeGreaterThan(before.replicaSets.length);
      expect(fixed.status?.stableRevision).toBe(after?.metadata?.annotations?.['hello.dev/revision']);
    },
    240_000,
  );
});

describe('a new HelloWorld whose Redis Secret does not exist yet', () => {
  const name = 'waiting';
  const secretName = 'redis-url-later';

  it('waits in Pending with no Deployment, and rolls out once the Secret is created', async () => {
    const ref = { mode: 'External' as const, urlSecretRef: { name: secretName, key: KEY } };
    applyHelloWorld(helloWorld(namespace, name, simulatedSpec({ redis: ref })));
    const hw = await waitForHelloWorld(kc, namespace, name, blocked, 'Degraded=RedisSecretInvalid', {
      operator,
    });
    expect(hw.status?.phase).toBe('Pending');
    expect(() => kubectl(['get', 'deployment', name, '-n', namespace])).toThrow(/NotFound/);

    const url = `--from-literal=${KEY}=rediss://redis.example:6380`;
    kubectl(['create', 'secret', 'generic', secretName, '-n', namespace, url]);
    await waitForHelloWorld(kc, namespace, name, promoted, 'Available once the Secret exists', {
      operator,
      timeoutMs: 120_000,
    });
    expect(deployment(name).spec?.template.spec?.containers[0]?.env).toContainEqual({
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: secretName, key: KEY } },
    });
  }, 180_000);
});
