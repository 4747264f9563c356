// Notifications on the local cluster (docs/notifications.md), with the operator as a real process and a
// real HTTP receiver started here (node:http on 127.0.0.1, which the operator process reaches; the test
// lifts the default loopback block with NOTIFY_BLOCKED_CIDRS). Each HelloWorld's webhook URL is in a
// Secret of its namespace. Verification is off on simulated nodes, so a good release notifies
// RolloutStarted then RolloutSucceeded, and a crash-looping one RolloutStarted then CrashLooping.
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { HelloWorld } from '../../operator/src/crd/types.js';
import type { JsonMessage } from '../../operator/src/notify/message.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  repoRoot,
} from '../support/cluster.js';
import {
  applyHelloWorld,
  buildOnce,
  conditionOf,
  helloWorld,
  installCrd,
  kubectl,
  metricValue,
  simulatedSpec,
  startOperator,
  waitForHelloWorld,
  type OperatorProcess,
} from '../support/operator.js';
import { waitFor } from '../support/wait.js';

type Behaviour = 'ok' | 'failOnce' | 'fail' | 'hang';
interface Delivery {
  hook: string;
  id: string;
  body: Record<string, unknown>;
  answered: boolean;
}

const TOKEN = 'tok-3f9c1e77'; // in every URL path: must never reach the operator's log
const behaviours = new Map<string, Behaviour>();
const deliveries: Delivery[] = [];
let receiver: Server;
let port: number;

function receive(req: IncomingMessage, res: ServerResponse): void {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    const hook = /^\/hook\/([a-z-]+)\//.exec(req.url ?? '')?.[1] ?? '';
    const id = String(req.headers['x-helloworld-notification-id'] ?? '');
    const delivery = { hook, id, body: JSON.parse(text) as Record<string, unknown>, answered: false };
    deliveries.push(delivery);
    const behaviour = behaviours.get(hook) ?? 'ok';
    if (behaviour === 'hang') return; // never answers; the operator's deadline ends it
    const first = deliveries.filter((d) => d.hook === hook && d.id === id).length === 1;
    const fail = behaviour === 'fail' || (behaviour === 'failOnce' && first);
    delivery.answered = true;
    res.writeHead(fail ? 500 : 204).end();
  });
}

let kc: KubeConfig;
let ns: string; // most HelloWorlds
let otherNs: string; // the one whose receiver never answers
let operator: OperatorProcess;

const GOOD = 'hello/api:1.0.0';
const CRASHING = 'crashloop.invalid/api:2.0.0';
const OPERATOR_ENV = (): Record<string, string> => ({
  LEADER_ELECTION: 'false',
  WATCH_NAMESPACE: `${ns},${otherNs}`,
  NOTIFY_BLOCKED_CIDRS: '169.254.0.0/16',
  NOTIFY_TIMEOUT_MS: '60000',
  NOTIFY_MAX_ATTEMPTS: '3',
  NOTIFY_RETRY_BASE_MS: '200',
  NOTIFY_RETRY_MAX_MS: '1000',
});

/** A HelloWorld whose own webhook (a Secret in its namespace) is the receiver's hook `name`. */
function release(namespace: string, name: string, image: string, format: 'Json' | 'Slack' = 'Json'): void {
  const url = `http://127.0.0.1:${String(port)}/hook/${name}/${TOKEN}`;
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-hook`, namespace } };
  kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ ...secret, stringData: { url } }));
  const spec = simulatedSpec({ image, rollout: { progressDeadlineSeconds: 600 } });
  const notifications = { webhook: { secretRef: { name: `${name}-hook`, key: 'url' }, format } };
  applyHelloWorld(helloWorld(namespace, name, { ...spec, notifications }));
}

const received = (hook: string): Delivery[] => deliveries.filter((d) => d.hook === hook);
const reasons = (hook: string): string[] => {
  const firstOfEach = received(hook).filter((d, i, all) => all.findIndex((x) => x.id === d.id) === i);
  return firstOfEach.map((d) => String(d.body.reason));
};
/** The message of the transition `transition` for revision image `image`. */
const message = (hook: string, transition: string, image: string): JsonMessage | undefined =>
  received(hook)
    .map((d) => d.body as unknown as JsonMessage)
    .find((m) => m.transition === transition && m.image === image);

/** Waits until the HelloWorld's status records `count` notifications delivered and none pending. */
function recorded(namespace: string, name: string, count: number): Promise<HelloWorld> {
  return waitForHelloWorld(
    kc,
    namespace,
    name,
    (hw) => hw.status?.notifications?.sent === count && (hw.status.notifications.pending ?? []).length === 0,
    `${name}: ${String(count)} notifications delivered and recorded`,
    { operator, timeoutMs: 120_000 },
  );
}

beforeAll(async () => {
  receiver = createServer(receive);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
  kc = loadKubeConfig();
  buildOnce();
  installCrd();
  ns = await createTestNamespace('notify');
  otherNs = await createTestNamespace('notify-slow');
  operator = await startOperator({ env: OPERATOR_ENV() });
}, 180_000);

afterAll(async () => {
  const code = await operator.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await Promise.all([deleteTestNamespace(ns), deleteTestNamespace(otherNs)]);
  expect(code).toBe(0);
}, 60_000);

describe('notifications to a webhook', () => {
  it('sends one message per transition of real rollouts, none twice across an operator restart', async () => {
    release(ns, 'rollouts', GOOD);
    const good = await recorded(ns, 'rollouts', 2);
    expect(good.status?.phase).toBe('Available');
    // Two transitions recorded at once may be sent side by side: their order of arrival is not asserted.
    expect(reasons('rollouts').sort()).toEqual(['RolloutStarted', 'RolloutSucceeded']);
    const [started, succeeded] = [
      message('rollouts', 'Started', GOOD),
      message('rollouts', 'Promoted', GOOD),
    ];
    expect(started).toMatchObject({
      helloWorld: { namespace: ns, name: 'rollouts' },
      transition: 'Started',
      image: GOOD,
      revision: good.status?.stableRevision,
    });
    expect(succeeded).toMatchObject({ transition: 'Promoted', severity: 'info' });
    expect(good.status?.notifications?.recent?.sort()).toEqual([started?.id, succeeded?.id].sort());
    expect(conditionOf(good, 'Notifications')).toMatchObject({
      status: 'True',
      reason: 'NotificationsDelivered',
    });

    // A crash-looping release: its start is delivered and recorded, then the operator dies mid-rollout.
    release(ns, 'rollouts', CRASHING);
    await recorded(ns, 'rollouts', 3);
    await operator.kill();
    operator = await startOperator({ env: OPERATOR_ENV() });
    const rolledBack = await waitForHelloWorld(
      kc,
      ns,
      'rollouts',
      (hw) => hw.status?.phase === 'RolledBack' && hw.status.notifications?.sent === 4,
      'the crash-looping release rolled back and notified',
      { operator, timeoutMs: 120_000 },
    );
    const all = reasons('rollouts');
    expect(all.slice(2).sort()).toEqual(['CrashLooping', 'RolloutStarted']);
    expect(all).toHaveLength(4);
    const ids = received('rollouts').map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length); // nothing sent twice, before or after the restart
    const last = message('rollouts', 'RolledBack', CRASHING);
    expect(last).toMatchObject({ transition: 'RolledBack', severity: 'warning', image: CRASHING });
    expect(last?.rollback).toEqual({
      ...rolledBack.status?.lastRollback,
      message: expect.any(String) as unknown,
    });
    expect(last?.rollback).toMatchObject({ fromImage: CRASHING, toImage: GOOD, reason: 'CrashLooping' });
  }, 300_000);

  it('retries a receiver that answers 500, then records the delivery (Slack shape)', async () => {
    behaviours.set('retried', 'failOnce');
    release(ns, 'retried', GOOD, 'Slack');
    const hw = await recorded(ns, 'retried', 2);
    // Each notification was answered 500 once, then tried again under the same id and taken.
    const attempts = received('retried');
    const ids = [...new Set(attempts.map((a) => a.id))];
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(attempts.filter((a) => a.id === id)).toHaveLength(2);
    for (const attempt of attempts) expect(attempt.body).toHaveProperty('blocks');
    const texts = attempts.map((a) => String(a.body.text));
    expect(texts.some((t) => t.includes(`HelloWorld ${ns}/retried: rollout started`))).toBe(true);
    expect(conditionOf(hw, 'Notifications')?.status).toBe('True');
    const metrics = await operator.metrics();
    expect(
      metricValue(metrics, 'helloworld_notifications_total', { outcome: 'retried' }),
    ).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it("a receiver that never answers does not delay another HelloWorld's rollout or notifications", async () => {
    behaviours.set('stuck', 'hang');
    release(otherNs, 'stuck', GOOD);
    await waitFor(() => received('stuck').length > 0, {
      describe: 'the stuck receiver to get a request',
      timeoutMs: 120_000,
    });
    release(ns, 'prompt', GOOD);
    const prompt = await recorded(ns, 'prompt', 2);
    expect(prompt.status?.phase).toBe('Available');
    // Delivered while the stuck receiver still holds its requests open (the deadline is 60 s).
    expect(received('stuck').every((d) => !d.answered)).toBe(true);
    expect(received('stuck').length).toBeLessThanOrEqual(2);
    const stuck = await waitForHelloWorld(
      kc,
      otherNs,
      'stuck',
      (h) => h.status?.phase === 'Available',
      'stuck Available',
      { operator },
    );
    expect((stuck.status?.notifications?.pending ?? []).length).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('shows a receiver that keeps failing in the Notifications condition and the metric', async () => {
    behaviours.set('failing', 'fail');
    release(ns, 'failing', GOOD);
    const hw = await waitForHelloWorld(
      kc,
      ns,
      'failing',
      (h) =>
        (h.status?.notifications?.failures ?? 0) >= 1 && conditionOf(h, 'Notifications')?.status === 'False',
      'the failing webhook to be given up and shown',
      { operator, timeoutMs: 120_000 },
    );
    expect(conditionOf(hw, 'Notifications')).toMatchObject({ reason: 'WebhookFailed' });
    // The last error may be another notification's earlier attempt, still being retried.
    expect(hw.status?.notifications?.lastError).toMatch(
      /^webhook of Secret failing-hook: attempt [1-3] of 3: the webhook answered HTTP 500$/,
    );
    const byId = new Map<string, number>();
    for (const d of received('failing')) byId.set(d.id, (byId.get(d.id) ?? 0) + 1);
    expect(Math.max(...byId.values())).toBe(3); // the one given up: 3 attempts, no more
    const metrics = await operator.metrics();
    expect(
      metricValue(metrics, 'helloworld_notifications_total', { outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(operator.logs()).not.toContain(TOKEN);
  }, 180_000);

  it('refuses to start with a default webhook file that does not exist, saying which', () => {
    const env = {
      ...OPERATOR_ENV(),
      NOTIFY_WEBHOOK_URL_FILE: '/nonexistent/url',
      PATH: process.env.PATH ?? '',
    };
    const result = spawnSync(process.execPath, ['dist/operator/main.js'], {
      cwd: repoRoot,
      env: { ...env, KUBECONFIG: kubeconfigPath(), METRICS_PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'NOTIFY_WEBHOOK_URL_FILE: cannot read /nonexistent/url (ENOENT); mount the Secret holding the webhook URL there, or unset it',
    );
  }, 60_000);
});
