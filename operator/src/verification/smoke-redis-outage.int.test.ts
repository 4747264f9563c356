// The default smoke checks against the real API whose Redis is down: readiness no longer fails (it does
// not depend on Redis), so the PUT of a date of birth is what catches a release that cannot reach
// Redis. Real API, real redis-server; only the pod proxy is replaced by a direct request to the server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BirthdayStore } from '../../../api/src/store.js';
import { appOnRedis } from '../../../test/support/api-app.js';
import { startRedis, type RedisHandle } from '../../../test/support/redis.js';
import { defaultSmokeChecks } from '../crd/defaults.js';
import type { PodHttp } from './pod-http.js';
import { runSmokeChecks } from './smoke.js';
import type { PodRef } from './types.js';

let redis: RedisHandle;
let store: BirthdayStore;
let server: Server;
let http: PodHttp;
const pod: PodRef = { namespace: 'shop', name: 'hello-7d9-a', port: 8080 };
const noWait = { sleep: () => Promise.resolve() };

beforeAll(async () => {
  redis = await startRedis();
  const api = appOnRedis(redis.url);
  store = api.store;
  server = createServer(api.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  http = {
    async request(_pod, req) {
      const res = await fetch(base + req.path, {
        method: req.method,
        ...(req.body !== undefined && { body: req.body, headers: { 'content-type': 'application/json' } }),
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      return { status: res.status, body: await res.text() };
    },
  };
});

afterAll(async () => {
  await store.close();
  await new Promise((resolve) => server.close(resolve));
  await redis.stop();
});

it('pass while Redis answers', async () => {
  for (let i = 0; ; i++) {
    const result = await runSmokeChecks(http, [pod], defaultSmokeChecks(), noWait);
    if (result.passed) break;
    if (i > 100) throw new Error(`the smoke checks never passed: ${result.message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

it('fail on the PUT, with its 503, while Redis is down, though readiness passes', async () => {
  await redis.stop();
  const result = await runSmokeChecks(http, [pod], defaultSmokeChecks(), noWait);
  expect(result.passed).toBe(false);
  expect(result.message).toMatch(
    /^smoke check "store-date-of-birth" \(PUT \/hello\/smokecheck\) failed on pod .+ after 3 attempts: expected status 204; got status 503 with body \{"error":"The storage service is unavailable; please try again shortly\."\}$/,
  );
});
