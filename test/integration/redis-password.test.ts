// The managed Redis password on the local cluster's API server, with the operator as a process: a cache
// miss (the Secret's label removed) keeps the password and rolls nothing; a deleted Secret gets a new
// password that Redis and the API pods both roll onto, and the data volume stays; an edited Secret that
// would inject Redis configuration is refused with nothing rolled.
import { createHash } from 'node:crypto';
import type { KubeConfig, V1Deployment, V1Secret, V1StatefulSet } from '@kubernetes/client-node';
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

const CHECKSUM = 'hello.dev/config-checksum';
const name = 'pw';
const secretName = `${name}-redis-auth`;

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: () => Promise<void>;

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');
const checksum = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
const secret = (): V1Secret => kubectlGet('secret', secretName, namespace);
const deployment = (): V1Deployment => kubectlGet('deployment', name, namespace);
const statefulSet = (): V1StatefulSet => kubectlGet('statefulset', `${name}-redis`, namespace);

/** What must not move when nothing really changed: the password and both pod templates. */
function snapshot() {
  const d = deployment();
  const s = statefulSet();
  return {
    password: decode(secret().data?.password),
    apiTemplate: JSON.stringify(d.spec?.template),
    apiGeneration: d.metadata?.generation,
    redisTemplate: JSON.stringify(s.spec?.template),
    redisGeneration: s.metadata?.generation,
  };
}

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('redis-password'));
  applyHelloWorld(helloWorld(namespace, name, simulatedSpec()));
  await waitForHelloWorld(
    kc,
    namespace,
    name,
    (hw) => conditionOf(hw, 'Available')?.status === 'True',
    'the HelloWorld to become Available',
    { operator, timeoutMs: 120_000 },
  );
}, 240_000);

afterAll(() => cleanup(), 60_000);

it('Redis and the API pods carry the checksum of the same password', () => {
  const password = decode(secret().data?.password);
  expect(deployment().spec?.template.metadata?.annotations?.[CHECKSUM]).toBe(checksum(password));
  expect(statefulSet().spec?.template.metadata?.annotations?.[CHECKSUM]).toBe(
    checksum(decode(secret().data?.['redis.conf'])),
  );
  expect(decode(secret().data?.['redis.conf'])).toContain(`requirepass ${password}\n`);
});

it('keeps the password and rolls nothing when the Secret drops out of the cache (label removed)', async () => {
  const before = snapshot();
  kubectl(['label', 'secret', secretName, '-n', namespace, 'app.kubernetes.io/managed-by-']);
  // The operator puts its label back: it has looked at the Secret again.
  await waitFor(() => secret().metadata?.labels?.['app.kubernetes.io/managed-by'] === 'helloworld-operator', {
    describe: 'the label to be restored',
    timeoutMs: 60_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(snapshot()).toEqual(before);
}, 90_000);

/** Writes `password` into the managed Secret, as a user editing it by hand would. */
function setStoredPassword(password: string): void {
  kubectl([
    'patch',
    'secret',
    secretName,
    '-n',
    namespace,
    '--type=merge',
    '-p',
    JSON.stringify({ data: { password: Buffer.from(password).toString('base64') } }),
  ]);
}

it('refuses a password that would inject Redis configuration, and rolls nothing', async () => {
  const before = snapshot();
  const config = secret().data?.['redis.conf'];
  const injected = `${before.password}\nrename-command CONFIG ""`;
  setStoredPassword(injected);
  const hw = await waitForHelloWorld(
    kc,
    namespace,
    name,
    (h) => conditionOf(h, 'Degraded')?.reason === 'RedisPasswordInvalid',
    'Degraded=RedisPasswordInvalid',
    { operator },
  );
  expect(hw.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toMatch(
    /may only contain letters, digits/,
  );
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(secret().data?.['redis.conf']).toBe(config);
  expect({ ...snapshot(), password: before.password }).toEqual(before);

  // Put the password back: the HelloWorld recovers by itself, still with nothing rolled.
  setStoredPassword(before.password);
  await waitForHelloWorld(
    kc,
    namespace,
    name,
    (h) => conditionOf(h, 'Degraded')?.status === 'False' && conditionOf(h, 'Reconciled')?.status === 'True',
    'recovered after the password was repaired',
    { operator, timeoutMs: 90_000 },
  );
  expect(snapshot()).toEqual(before);
}, 180_000);

it('a deleted Secret: a new password that Redis and the API roll onto together; the volume stays', async () => {
  const before = snapshot();
  const claim = kubectlGet('pvc', `data-${name}-redis-0`, namespace);
  kubectl(['delete', 'secret', secretName, '-n', namespace, '--wait=true']);
  const fresh = await waitFor(
    () => {
      try {
        const s = secret();
        return decode(s.data?.password) !== before.password ? s : false;
      } catch {
        return false;
      }
    },
    { describe: 'a new Secret', timeoutMs: 60_000 },
  );
  const password = decode(fresh.data?.password);
  expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  await waitFor(
    () =>
      deployment().spec?.template.metadata?.annotations?.[CHECKSUM] === checksum(password) &&
      statefulSet().spec?.template.metadata?.annotations?.[CHECKSUM] ===
        checksum(decode(fresh.data?.['redis.conf'])),
    { describe: 'both pod templates to carry the new checksums', timeoutMs: 60_000 },
  );
  expect(decode(fresh.data?.['redis.conf'])).toContain(`requirepass ${password}\n`);
  // The data's volume is the same claim.
  expect(kubectlGet('pvc', `data-${name}-redis-0`, namespace).metadata?.uid).toBe(claim.metadata?.uid);
  const events = JSON.parse(
    kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${name},reason=RedisPasswordRegenerated`,
      '-o',
      'json',
    ]),
  ) as { items: unknown[] };
  expect(events.items).toHaveLength(1);
}, 120_000);
