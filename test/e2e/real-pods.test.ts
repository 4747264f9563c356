// Scenario 6, on a cluster whose pods really run (make e2e on kind): the API answers through its
// Service; a rolling update under steady load fails no request; injected errors are caught by the
// smoke tests (every request fails) or by the analysis (one in five fails); the Redis data survives
// its pod, and while Redis is away the API answers 503 through its Service, never refusing. Each test
// puts the HelloWorld on its first revision before it starts, so none depends on another having run.
// On simulated nodes every test here is reported as skipped, with the reason.
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import {
  applyYaml,
  describeRealPods,
  eventually,
  helloWorld,
  jsonpath,
  kubectl,
  realPodsContext,
  waitHelloWorld,
} from './harness.js';
import { runClient, startLoad } from './load.js';

const c = realPodsContext('real-pods');

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
// Through a Redis restart: asks every 200 ms until it has seen a 503 and then a 200 again (at most
// 110 s, within runClient's 120 s), counting the answers by status and every request that got no HTTP answer at all (refused,
// reset, timed out). The API's pods stay ready while Redis is away (readiness does not depend on it),
// so the Service keeps endpoints and every answer is HTTP: 503 JSON during the outage, never a refusal.
const getThroughOutage = `
const started = Date.now();
const counts = {};
let noAnswer = 0, firstNoAnswer, odd503, last = {}, outage = false;
for (;;) {
  try {
    const res = await fetch(process.env.TARGET + '/hello/alice', { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    counts[res.status] = (counts[res.status] ?? 0) + 1;
    last = { get: res.status, body: text };
    if (res.status === 503) {
      outage = true;
      if (!/^[{]"error":"[^"]+"[}]$/.test(text) || res.headers.get('retry-after') !== '1') odd503 ??= text;
    }
    if (outage && res.status === 200) break;
  } catch (error) {
    noAnswer += 1;
    firstNoAnswer ??= String(error.cause ?? error);
  }
  if (Date.now() - started > 110000) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.log(JSON.stringify({ ...last, counts, noAnswer, firstNoAnswer, odd503, outage, waitedMs: Date.now() - started }));
`;

describeRealPods('the API through its Service', (realIt) => {
  const name = 'web';

  /**
   * What each test starts from, whatever an earlier one left (or none ran): `web` on its first
   * revision, promoted, nothing rolling out. Most often that is no change, or the spec going back to
   * the stable revision; after the rolling-update test it is a rollout of its own.
   */
  async function onFirstRevision(): Promise<void> {
    await applyYaml(c().namespace, helloWorld(c().namespace, name, withEnv({ E2E_REVISION: '1' })));
    await eventually(
      c(),
      name,
      'web on its first revision, promoted and settled',
      async () => {
        const [generation, observed, phase, current, stable, progressing] = (
          await jsonpath(
            c().namespace,
            `hw/${name}`,
            '{.metadata.generation} {.status.observedGeneration} {.status.phase} {.status.currentRevision} ' +
              '{.status.stableRevision} {.status.conditions[?(@.type=="Progressing")].status}',
          )
        ).split(' ');
        return (
          generation === observed && phase === 'Available' && current === stable && progressing === 'False'
        );
      },
      300_000,
    );
  }

  realIt(
    'answers PUT and GET /hello/<username>',
    async () => {
      await onFirstRevision();
      const answer = JSON.parse(await runClient(c(), name, putAndGet)) as {
        put: number;
        get: number;
        body: { message: string };
      };
      expect(answer).toMatchObject({ put: 204, get: 200 });
      expect(answer.body.message).toMatch(/^Hello, alice! /);
    },
    660_000,
  );

  realIt(
    'rolls a new revision out under steady load without failing a single request',
    async () => {
      await onFirstRevision();
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
    720_000,
  );

  realIt(
    'rolls back a revision whose every request fails: the smoke tests catch it',
    async () => {
      await onFirstRevision();
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
    720_000,
  );

  realIt(
    'rolls back a revision that fails one request in five under traffic: the analysis catches it',
    async () => {
      await onFirstRevision();
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
      // The message comes along so that a failure says what caught the revision instead.
      const rollback = await jsonpath(
        c().namespace,
        `hw/${name}`,
        '{.status.lastRollback.reason}: {.status.lastRollback.message}',
      );
      expect(rollback).toMatch(/^AnalysisFailed: /);
    },
    720_000,
  );

  realIt(
    'keeps the data written before the Redis pod was deleted, answering 503 (never refusing) meanwhile',
    async () => {
      await onFirstRevision();
      expect(JSON.parse(await runClient(c(), name, putAndGet))).toMatchObject({ put: 204, get: 200 });
      // The client asks through the whole outage; Redis goes only once it is running.
      const watching = runClient(c(), name, getThroughOutage);
      void watching.catch(() => undefined); // awaited below; a failure before that must not go unhandled
      await eventually(
        c(),
        name,
        'the outage client to run',
        async () =>
          (
            await kubectl([
              'get',
              'pods',
              '-n',
              c().namespace,
              '-l',
              'app.kubernetes.io/name=e2e-client',
              '-o',
              'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}',
            ])
          )
            .split('\n')
            .some((line) => line.startsWith(`client-${name}-`) && line.endsWith(' Running')),
        120_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await kubectl(['delete', 'pod', `${name}-redis-0`, '-n', c().namespace, '--wait=true']);
      await eventually(
        c(),
        name,
        'the Redis pod to be back and ready',
        async () =>
          (await jsonpath(c().namespace, `statefulset/${name}-redis`, '{.status.readyReplicas}')) === '1',
        180_000,
      );
      const answer = JSON.parse(await watching) as {
        get?: number;
        body?: string;
        counts: Record<string, number>;
        noAnswer: number;
        firstNoAnswer?: string;
        odd503?: string;
        outage: boolean;
        waitedMs: number;
      };
      console.log(
        `Redis pod deleted: answers by status ${JSON.stringify(answer.counts)}, ${String(answer.noAnswer)} without an answer` +
          `${answer.firstNoAnswer === undefined ? '' : ` (first: ${answer.firstNoAnswer})`}, back after ${String(answer.waitedMs / 1000)} s`,
      );
      expect({ noAnswer: answer.noAnswer, firstNoAnswer: answer.firstNoAnswer }).toEqual({
        noAnswer: 0,
        firstNoAnswer: undefined,
      });
      expect(answer.outage).toBe(true);
      expect(answer.odd503).toBeUndefined();
      expect(answer.get).toBe(200);
      expect((JSON.parse(answer.body ?? '{}') as { message?: string }).message).toMatch(/^Hello, alice! /);
      await waitHelloWorld(c(), name, 'condition=Available', 120);
    },
    720_000,
  );
});
