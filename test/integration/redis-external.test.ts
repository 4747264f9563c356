// redis.external on the local cluster's API server, with the operator as a process: a HelloWorld on a
// MemoryDB-like Redis (cluster mode, TLS with a CA from a ConfigMap, a server name, an ACL user whose
// password is in a Secret) becomes Available with the API container configured for it, the CA mounted
// read-only; dropping redis.external rolls the pods back onto the plain URL, with no CA volume left.
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import { Reason } from '../../operator/src/rollout/conditions.js';
import { loadKubeConfig, waitFor } from '../support/cluster.js';
import {
  applyHelloWorld,
  conditionOf,
  helloWorld,
  kubectl,
  kubectlGet,
  operatorInNamespace,
  type OperatorProcess,
  simulatedSpec,
  waitForHelloWorld,
} from '../support/operator.js';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const NAME = 'memorydb';
const urlSecretRef = { name: 'redis-url', key: 'url' };
const external = {
  topology: 'Cluster' as const,
  tls: {
    enabled: true,
    caFrom: { configMapKeyRef: { name: 'redis-ca', key: 'ca.pem' } },
    serverName: 'clustercfg.hello.example.com',
  },
  username: 'hello-api',
  passwordSecretRef: { name: 'redis-acl', key: 'password' },
};

const available = (generation: number) => (hw: HelloWorld) =>
  hw.status?.phase === 'Available' &&
  hw.metadata.generation === generation &&
  hw.status.observedGeneration === generation &&
  hw.status.currentRevision === hw.status.stableRevision;

function podSpec() {
  const template = (kubectlGet('deployment', NAME, namespace) as V1Deployment).spec?.template.spec;
  const api = template?.containers.find((c) => c.name === 'api');
  const redisEnv = (api?.env ?? []).filter((e) => e.name.startsWith('REDIS_'));
  return { template, api, redisEnv };
}

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('redis-external'));
  kubectl([
    'create',
    'secret',
    'generic',
    'redis-url',
    '-n',
    namespace,
    '--from-literal=url=redis://clustercfg.hello.example.com:6379',
  ]);
  kubectl([
    'create',
    'secret',
    'generic',
    'redis-acl',
    '-n',
    namespace,
    '--from-literal=password=acl-pw-not-in-the-spec',
  ]);
  kubectl([
    'create',
    'configmap',
    'redis-ca',
    '-n',
    namespace,
    '--from-literal=ca.pem=-----BEGIN CERTIFICATE-----',
  ]);
  // An updated CRD's schema is served a moment after it is established: until then the API server
  // refuses redis.external as an unknown field.
  const probe = helloWorld(namespace, 'schema-probe', {
    redis: { mode: 'External', urlSecretRef, external },
  });
  await waitFor(
    () => {
      try {
        kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], JSON.stringify(probe));
        return true;
      } catch {
        return false;
      }
    },
    { describe: 'the API server to serve the CRD with redis.external', timeoutMs: 30_000, intervalMs: 500 },
  );
}, 240_000);

afterAll(() => cleanup(), 60_000);

it('configures the API pods for the external Redis, and unconfigures them when the field goes', async () => {
  applyHelloWorld(
    helloWorld(namespace, NAME, simulatedSpec({ redis: { mode: 'External', urlSecretRef, external } })),
  );
  await waitForHelloWorld(kc, namespace, NAME, available(1), 'the HelloWorld to become Available', {
    operator,
    timeoutMs: 120_000,
  });
  const { template, api, redisEnv } = podSpec();
  expect(redisEnv).toEqual([
    { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'redis-url', key: 'url' } } },
    { name: 'REDIS_TOPOLOGY', value: 'cluster' },
    { name: 'REDIS_TLS', value: 'true' },
    { name: 'REDIS_TLS_CA_FILE', value: '/etc/hello/redis-ca/ca.crt' },
    { name: 'REDIS_TLS_SERVER_NAME', value: 'clustercfg.hello.example.com' },
    { name: 'REDIS_USERNAME', value: 'hello-api' },
    { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-acl', key: 'password' } } },
  ]);
  expect(api?.volumeMounts).toContainEqual({
    name: 'redis-ca',
    mountPath: '/etc/hello/redis-ca',
    readOnly: true,
  });
  expect(template?.volumes?.find((v) => v.name === 'redis-ca')?.configMap).toMatchObject({
    name: 'redis-ca',
    items: [{ key: 'ca.pem', path: 'ca.crt' }],
  });
  // The password itself is nowhere in the pod template.
  expect(JSON.stringify(template)).not.toContain('acl-pw-not-in-the-spec');

  kubectl([
    'patch',
    'helloworld',
    NAME,
    '-n',
    namespace,
    '--type=json',
    '-p',
    '[{"op":"remove","path":"/spec/redis/external"}]',
  ]);
  await waitForHelloWorld(kc, namespace, NAME, available(2), 'the HelloWorld to become Available again', {
    operator,
    timeoutMs: 120_000,
  });
  const after = podSpec();
  expect(after.redisEnv.map((e) => e.name)).toEqual(['REDIS_URL']);
  expect(after.template?.volumes?.map((v) => v.name)).toEqual(['tmp']);
  expect(after.api?.volumeMounts?.map((m) => m.name)).toEqual(['tmp']);
}, 300_000);

it('waits for the password Secret, then rolls the pods when the password changes', async () => {
  const name = 'acl';
  const spec = (image: string) =>
    simulatedSpec({
      image,
      redis: {
        mode: 'External',
        urlSecretRef,
        external: { passwordSecretRef: { name: 'acl-2', key: 'pw' } },
      },
    });
  applyHelloWorld(helloWorld(namespace, name, spec('hello/api:1.0.0')));
  const blocked = await waitForHelloWorld(
    kc,
    namespace,
    name,
    (hw) => conditionOf(hw, 'Degraded')?.reason === Reason.RedisSecretInvalid,
    'the HelloWorld to be blocked on its password Secret',
    { operator, timeoutMs: 60_000 },
  );
  expect(blocked.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(
    'Secret acl-2 (redis.external.passwordSecretRef) does not exist',
  );

  kubectl(['create', 'secret', 'generic', 'acl-2', '-n', namespace, '--from-literal=pw=first-password']);
  await waitForHelloWorld(kc, namespace, name, available(1), 'the HelloWorld to become Available', {
    operator,
    timeoutMs: 120_000,
  });
  const checksum = (): string | undefined =>
    (kubectlGet('deployment', name, namespace) as V1Deployment).spec?.template.metadata?.annotations?.[
      'hello.dev/config-checksum'
    ];
  const first = checksum();
  expect(first).toBeDefined();

  // The operator reads the Secret on each reconcile and does not watch it: the image change makes one.
  kubectl(['delete', 'secret', 'acl-2', '-n', namespace]);
  kubectl(['create', 'secret', 'generic', 'acl-2', '-n', namespace, '--from-literal=pw=second-password']);
  applyHelloWorld(helloWorld(namespace, name, spec('hello/api:1.0.1')));
  await waitForHelloWorld(kc, namespace, name, available(2), 'the HelloWorld to roll onto the new password', {
    operator,
    timeoutMs: 120_000,
  });
  expect(checksum()).not.toBe(first);
}, 400_000);
