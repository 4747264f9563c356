// Scenario 6, on a cluster whose pods really run (make e2e on kind): the API answers through its
// Service; a rolling update under steady load fails no request; injected errors are caught by the
// smoke tests (every request fails) or by the analysis (one in five fails); the Redis data survives
// its pod. On simulated nodes every test here is reported as skipped, with the reason.
import type { HelloWorldSpec } from '../../operator/src/api/types.js';
import {
  applyYaml,
  describeRealPods,
  eventually,
  helloWorld,
  jsonpath,
  kubectl,
  realPods,
  setUp,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';
import { runClient, startLoad } from './load.js';

let ctx: E2eContext | undefined;
const c = (): E2eContext => ctx!;

beforeAll(async () => {
  if (realPods) ctx = await setUp('real-pods');
}, 180_000);

afterAll(async () => {
  await ctx?.cleanup();
}, 120_000);

// The API gives Redis 250 ms per command before answering 503. CI machines run the whole cluster, its
// pods and the load on two cores (load average 14 has been seen), where a command can wait longer than
// that; the rolling-update test is about the rollout losing no request, so Redis gets 2 s here.
const withEnv = (env: Record<string, string>): Partial<HelloWorldSpec> => ({
  replicas: 3,
  env: Object.entries({ REDIS_COMMAND_TIMEOUT_MS: '2000', ...env }).map(([name, value]) => ({ name, value })),
});

// Stores a date of birth, reads the greeting back, and prints both answers.
const putAndGet = `
const base = process.env.TARGET;
const put = await fetch(base + '/hello/alice', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"dateOfBirth":"1990-02-14"}' });
const get = await fetch(base + '/hello/alice');
console.log(JSON.stringify({ put: put.status, get: get.status, body: await get.json() }));
`;
// After a Redis restart: the API's pods are unready (the Service refuses connections) and then answer
// 503 until their Redis client has reconnected; this asks again every second for up to 80 s and
// prints the first other answer, and how long it took.
const getOnceRecovered = `
const started = Date.now();
let out = {};
for (;;) {
  try {
    const get = await fetch(process.env.TARGET + '/hello/alice');
    out = { get: get.status, body: await get.json() };
    if (get.status !== 503) break;
  } catch (error) {
    out = { error: String(error.cause ?? error) };
  }
  if (Date.now() - started > 80000) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
console.log(JSON.stringify({ ...out, waitedMs: Date.now() - started }));
`;

describeRealPods('the API through its Service', (realIt) => {
  const name = 'web';

  realIt(
    'answers PUT and GET /hello/<username>',
    async () => {
      await applyYaml(c().namespace, helloWorld(c().namespace, name, withEnv({ E2E_REVISION: '1' })));
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=Available', 240);
      const answer = JSON.parse(await runClient(c(), name, putAndGet)) as {
        put: number;
        get: number;
        body: { message: string };
      };
      expect(answer).toMatchObject({ put: 204, get: 200 });
      expect(answer.body.message).toMatch(/^Hello, alice! /);
    },
    360_000,
  );

  realIt(
    'rolls a new revision out under steady load without failing a single request',
    async () => {
      const load = await startLoad(c(), { service: name, seconds: 300, concurrency: 4 });
      await applyYaml(c().namespace, helloWorld(c().namespace, name, withEnv({ E2E_REVISION: '2' })));
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=Progressing', 60);
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=Available', 240);
      const report = await load.stop();
      console.log(
        `rolling update under load: ${String(report.ok + report.failed)} requests sent, ${String(report.failed)} failed`,
      );
      expect(report.ok).toBeGreaterThan(0);
      expect({ failed: report.failed, failures: report.failures }).toEqual({ failed: 0, failures: [] });
    },
    420_000,
  );

  realIt(
    'rolls back a revision whose every request fails: the smoke tests catch it',
    async () => {
      await applyYaml(
        c().namespace,
        helloWorld(c().namespace, name, withEnv({ E2E_REVISION: '2', CHAOS_ERROR_RATE: '1' })),
      );
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=RolledBack', 240);
      expect(await jsonpath(c().namespace, `hw/${name}`, '{.status.lastRollback.reason}')).toBe(
        'SmokeTestFailed',
      );
      await waitHelloWorld(c(), name, 'condition=Progressing=False', 180);
    },
    420_000,
  );

  realIt(
    'rolls back a revision that fails one request in five under traffic: the analysis catches it',
    async () => {
      const load = await startLoad(c(), { service: name, seconds: 300, concurrency: 4 });
      // Smoke checks on /readyz only, which chaos leaves alone: this revision must pass them and fail
      // the analysis of the traffic.
      const readyzOnly = { defaultChecks: false, checks: [{ name: 'readiness', path: '/readyz' }] };
      await applyYaml(
        c().namespace,
        helloWorld(c().namespace, name, {
          ...withEnv({ E2E_REVISION: '3', CHAOS_ERROR_RATE: '0.2' }),
          rollout: { verification: { smoke: readyzOnly } },
        }),
      );
      await waitHelloWorld(c(), name, 'jsonpath={.status.phase}=RolledBack', 300);
      await load.stop();
      expect(await jsonpath(c().namespace, `hw/${name}`, '{.status.lastRollback.reason}')).toBe(
        'AnalysisFailed',
      );
    },
    420_000,
  );

  realIt(
    'keeps the data written before the Redis pod was deleted',
    async () => {
      await waitHelloWorld(c(), name, 'condition=Progressing=False', 180);
      expect(JSON.parse(await runClient(c(), name, putAndGet))).toMatchObject({ put: 204, get: 200 });
      await kubectl(['delete', 'pod', `${name}-redis-0`, '-n', c().namespace, '--wait=true']);
      await eventually(
        c(),
        name,
        'the Redis pod to be back and ready',
        async () =>
          (await jsonpath(c().namespace, `statefulset/${name}-redis`, '{.status.readyReplicas}')) === '1',
        180_000,
      );
      await waitHelloWorld(c(), name, 'condition=Available', 120);
      const answer = JSON.parse(await runClient(c(), name, getOnceRecovered)) as {
        get?: number;
        body?: { message: string };
        error?: string;
        waitedMs: number;
      };
      console.log(
        `Redis pod deleted: the API answered ${JSON.stringify(answer.get ?? answer.error)} after ${String(answer.waitedMs / 1000)} s`,
      );
      expect(answer.get).toBe(200);
      expect(answer.body?.message).toMatch(/^Hello, alice! /);
    },
    420_000,
  );
});
