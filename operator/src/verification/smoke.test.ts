import { describe, expect, it } from '@jest/globals';
import { defaultSmokeChecks, type ResolvedSmokeCheck } from '../crd/defaults.js';
import { PodHttpError, type PodHttp, type PodRequest, type PodResponse } from './pod-http.js';
import { evaluateResponse, overBudget, retryBackoffMs, runSmokeChecks } from './smoke.js';
import type { PodRef } from './types.js';

const podA: PodRef = { namespace: 'shop', name: 'hello-7d9-a', port: 8080 };
const podB: PodRef = { namespace: 'shop', name: 'hello-7d9-b', port: 8080 };

type Answer = PodResponse | Error;
type Responder = (pod: PodRef, req: PodRequest, attempt: number) => Answer;

/** A PodHttp that answers from a function and records every request, so tests see order and timeouts. */
function fakeHttp(respond: Responder): PodHttp & { calls: { pod: string; req: PodRequest }[] } {
  const calls: { pod: string; req: PodRequest }[] = [];
  const attempts = new Map<string, number>();
  return {
    calls,
    request(pod, req) {
      calls.push({ pod: pod.name, req });
      const key = `${pod.name} ${req.method} ${req.path}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const answer = respond(pod, req, attempt);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

/** What a healthy API answers to the default checks. */
const healthy: Responder = (_pod, req) => {
  if (req.path === '/readyz') return { status: 200, body: '{"status":"ready"}' };
  if (req.method === 'PUT') return { status: 204, body: '' };
  return { status: 200, body: '{"message":"Hello, smokecheck! Your birthday is in 42 day(s)"}' };
};

function recordSleeps(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return { sleeps, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) };
}

const check = (c: Partial<ResolvedSmokeCheck>): ResolvedSmokeCheck => ({
  name: 'custom',
  method: 'GET',
  path: '/custom',
  expectStatus: 200,
  timeoutSeconds: 5,
  retries: 0,
  maxLatencyMs: 5000,
  ...c,
});

describe('runSmokeChecks', () => {
  it('runs every check on every pod, in order, with each check’s timeout and body', async () => {
    const http = fakeHttp(healthy);
    const checks = defaultSmokeChecks().map((c, i) => ({ ...c, timeoutSeconds: i + 1 }));
    const result = await runSmokeChecks(http, [podA, podB], checks, recordSleeps());
    expect(result).toEqual({
      passed: true,
      message: 'smoke checks passed on 2 pods: readiness, store-date-of-birth, read-date-of-birth',
    });
    expect(http.calls.map(({ pod, req }) => `${pod} ${req.method} ${req.path} ${req.timeoutMs}`)).toEqual([
      'hello-7d9-a GET /readyz 1000',
      'hello-7d9-a PUT /hello/smokecheck 2000',
      'hello-7d9-a GET /hello/smokecheck 3000',
      'hello-7d9-b GET /readyz 1000',
      'hello-7d9-b PUT /hello/smokecheck 2000',
      'hello-7d9-b GET /hello/smokecheck 3000',
    ]);
    expect(http.calls[1]?.req.body).toBe('{"dateOfBirth":"2000-01-01"}');
    expect(http.calls[0]?.req.body).toBeUndefined();
  });

  it('retries a failing check with a doubling backoff and passes when it recovers', async () => {
    const http = fakeHttp((pod, req, attempt) =>
      req.path === '/readyz' && attempt <= 3 ? { status: 503, body: 'not yet' } : healthy(pod, req, attempt),
    );
    const { sleeps, sleep } = recordSleeps();
    const checks = defaultSmokeChecks().map((c) => ({ ...c, retries: 5 }));
    const result = await runSmokeChecks(http, [podA], checks, { sleep });
    expect(result.passed).toBe(true);
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(http.calls.filter(({ req }) => req.path === '/readyz')).toHaveLength(4);
  });

  it('stops at the first failure and says which check, which pod, what was expected and what was seen', async () => {
    const http = fakeHttp((pod, req, attempt) =>
      pod.name === podB.name && req.method === 'GET' && req.path === '/hello/smokecheck'
        ? { status: 500, body: '{"error":"Injected failure"}' }
        : healthy(pod, req, attempt),
    );
    const { sleeps, sleep } = recordSleeps();
    const result = await runSmokeChecks(http, [podA, podB], defaultSmokeChecks(), { sleep });
    expect(result).toEqual({
      passed: false,
      message:
        'smoke check "read-date-of-birth" (GET /hello/smokecheck) failed on pod shop/hello-7d9-b after 3 attempts: ' +
        'expected status 200 and a body containing "Hello, smokecheck!"; got status 500 with body {"error":"Injected failure"}',
    });
    expect(sleeps).toEqual([250, 500]);
    expect(http.calls.at(-1)?.pod).toBe(podB.name);
    expect(http.calls).toHaveLength(3 + 2 + 3);
  });

  it('reports a timeout or an unreachable pod as no answer', async () => {
    const http = fakeHttp(
      (pod, req) =>
        new PodHttpError(`GET /custom on pod ${pod.name}`, `no answer within ${req.timeoutMs} ms`),
    );
    const result = await runSmokeChecks(http, [podA], [check({ timeoutSeconds: 2 })], recordSleeps());
    expect(result.message).toBe(
      'smoke check "custom" (GET /custom) failed on pod shop/hello-7d9-a after 1 attempt: ' +
        'expected status 200; got no answer (no answer within 2000 ms)',
    );
  });

  it('says when the API server answered in the pod’s place', async () => {
    const http = fakeHttp(() => ({
      status: 502,
      body: '{"kind":"Status","apiVersion":"v1","status":"Failure","code":502}',
      proxyError: 'error trying to reach service: dial tcp 10.0.0.7:8080: connect: connection refused',
    }));
    const result = await runSmokeChecks(http, [podA], defaultSmokeChecks().slice(0, 1), recordSleeps());
    expect(result.passed).toBe(false);
    expect(result.message).toContain(
      'expected status 200; got status 502 from the API server, which answered instead of the pod: ' +
        'error trying to reach service: dial tcp 10.0.0.7:8080: connect: connection refused',
    );
  });

  it('shows at most 200 characters of the body, on one line', async () => {
    const body = `line one\n${'x'.repeat(300)}`;
    const http = fakeHttp(() => ({ status: 404, body }));
    const { message } = await runSmokeChecks(http, [podA], [check({})], recordSleeps());
    expect(message).toContain(`got status 404 with body line one ${'x'.repeat(191)}…`);
    expect(message).not.toContain('x'.repeat(192));
  });

  it('fails when there is no pod to check, and passes when no check is configured', async () => {
    const http = fakeHttp(healthy);
    expect(await runSmokeChecks(http, [], defaultSmokeChecks())).toEqual({
      passed: false,
      message: 'no pods of the new revision to run smoke checks against',
    });
    expect(await runSmokeChecks(http, [podA], [])).toEqual({
      passed: true,
      message: 'no smoke checks configured',
    });
    expect(http.calls).toHaveLength(0);
  });

  it('treats an unexpected exception of the transport as no answer and retries it', async () => {
    const http = fakeHttp((_pod, _req, attempt) =>
      attempt === 1 ? new Error('socket hang up') : { status: 200, body: '' },
    );
    const result = await runSmokeChecks(http, [podA], [check({ retries: 1 })], recordSleeps());
    expect(result.passed).toBe(true);
  });
});

describe('the latency budget of a smoke check', () => {
  /** A PodHttp on a fake clock: each answer takes the milliseconds `took` says, and the clock moves so. */
  function timedHttp(took: (attempt: number) => number): { http: PodHttp; now: () => number } {
    let clock = 1_000;
    let attempt = 0;
    return {
      now: () => clock,
      http: {
        request() {
          attempt += 1;
          clock += took(attempt);
          return Promise.resolve({ status: 200, body: 'ok' });
        },
      },
    };
  }

  it('fails an answer slower than the budget like a wrong status, naming both milliseconds', async () => {
    const { http, now } = timedHttp(() => 903.4);
    const { sleeps, sleep } = recordSleeps();
    const result = await runSmokeChecks(http, [podA], [check({ retries: 2, maxLatencyMs: 450 })], {
      sleep,
      now,
    });
    expect(result).toEqual({
      passed: false,
      message:
        'smoke check "custom" (GET /custom) failed on pod shop/hello-7d9-a after 3 attempts: ' +
        'expected status 200; got status 200 after 903 ms, over the latency budget of 450 ms',
    });
    expect(sleeps).toEqual([250, 500]);
  });

  it('passes an answer that takes exactly the budget, and retries a slow one', async () => {
    const exact = timedHttp(() => 450);
    expect(
      (await runSmokeChecks(exact.http, [podA], [check({ maxLatencyMs: 450 })], { now: exact.now })).passed,
    ).toBe(true);
    const slowOnce = timedHttp((attempt) => (attempt === 1 ? 2_000 : 20));
    const result = await runSmokeChecks(slowOnce.http, [podA], [check({ retries: 1, maxLatencyMs: 450 })], {
      now: slowOnce.now,
      ...recordSleeps(),
    });
    expect(result.passed).toBe(true);
  });

  it('reports a wrong status rather than the time when an answer is both wrong and slow', async () => {
    let clock = 0;
    const http: PodHttp = {
      request() {
        clock += 5_000;
        return Promise.resolve({ status: 500, body: 'boom' });
      },
    };
    const result = await runSmokeChecks(http, [podA], [check({ maxLatencyMs: 100 })], { now: () => clock });
    expect(result.message).toMatch(/expected status 200; got status 500 with body boom$/);
  });

  it('is overBudget only past the budget', () => {
    expect(overBudget({ maxLatencyMs: 250 }, { status: 204 }, 250)).toBeUndefined();
    expect(overBudget({ maxLatencyMs: 250 }, { status: 204 }, 251)).toBe(
      'status 204 after 251 ms, over the latency budget of 250 ms',
    );
  });
});

describe('evaluateResponse', () => {
  const json = check({ jsonField: { name: 'status', equals: 'ready' } });

  it.each<[string, ResolvedSmokeCheck, PodResponse, string | undefined]>([
    ['a matching status', check({}), { status: 200, body: '' }, undefined],
    ['another status', check({ expectStatus: 204 }), { status: 200, body: '' }, 'status'],
    ['a body with the substring', check({ contains: 'ell' }), { status: 200, body: 'hello' }, undefined],
    [
      'a body without it',
      check({ contains: 'bye' }),
      { status: 200, body: 'hello' },
      'the body does not contain "bye"',
    ],
    ['the JSON field', json, { status: 200, body: '{"status":"ready"}' }, undefined],
    [
      'another JSON value',
      json,
      { status: 200, body: '{"status":"starting"}' },
      'JSON field "status" is "starting"',
    ],
    [
      'no such JSON field',
      json,
      { status: 200, body: '{"state":"ready"}' },
      'JSON field "status" is missing',
    ],
    ['a body that is not JSON', json, { status: 200, body: 'ready' }, 'the body is not JSON'],
    ['a JSON array', json, { status: 200, body: '["ready"]' }, 'the body is not a JSON object'],
    [
      'a number compared as text',
      check({ jsonField: { name: 'days', equals: '42' } }),
      { status: 200, body: '{"days":42}' },
      undefined,
    ],
    [
      'an inherited property',
      check({ jsonField: { name: 'constructor', equals: 'x' } }),
      { status: 200, body: '{}' },
      'JSON field "constructor" is missing',
    ],
  ])('judges %s', (_what, c, response, expected) => {
    expect(evaluateResponse(c, response)).toBe(expected);
  });
});

describe('retryBackoffMs', () => {
  it('starts at 250 ms, doubles and stops at 4 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(retryBackoffMs)).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });
});

describe('dry-run smoke checks', () => {
  it('report a failure without failing the smoke test, run once, and let the next checks run', async () => {
    const http = fakeHttp((_pod, req) =>
      req.path === '/new-feature' ? { status: 500, body: 'not yet' } : { status: 200, body: 'ok' },
    );
    const checks = [
      check({ name: 'new-feature', path: '/new-feature', dryRun: true }),
      check({ name: 'root', path: '/' }),
    ];
    const result = await runSmokeChecks(http, [podA, podB], checks, recordSleeps());
    const failure =
      'smoke check "new-feature" (GET /new-feature) failed on pod shop/hello-7d9-a after 1 attempt: expected status 200; got status 500 with body not yet';
    expect(result).toEqual({
      passed: true,
      message: `smoke checks passed on 2 pods: new-feature, root; dry run, would have failed: ${failure}`,
      dryRunFailures: [failure],
    });
    expect(http.calls.map(({ pod, req }) => `${pod} ${req.path}`)).toEqual([
      'hello-7d9-a /new-feature',
      'hello-7d9-a /',
      'hello-7d9-b /',
    ]);
  });

  it('never send a dry-run check with an unsafe path, and report it', async () => {
    const http = fakeHttp(() => ({ status: 200, body: 'ok' }));
    const checks = [
      check({ name: 'odd', path: '/../../api/v1/secrets', dryRun: true }),
      check({ name: 'root', path: '/' }),
    ];
    const result = await runSmokeChecks(http, [podA], checks, recordSleeps());
    expect(result.passed).toBe(true);
    expect(result.dryRunFailures?.[0]).toMatch(/^smoke check "odd": path .* refused: dot segments/);
    expect(http.calls.map(({ req }) => req.path)).toEqual(['/']);
  });

  it('a failing check that is not a dry run still fails the smoke test', async () => {
    const http = fakeHttp(() => ({ status: 500, body: '' }));
    const result = await runSmokeChecks(http, [podA], [check({ name: 'root', path: '/' })], recordSleeps());
    expect(result.passed).toBe(false);
  });
});
