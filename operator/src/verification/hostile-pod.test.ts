// Verification against a real local HTTP server that plays a hostile pod (huge bodies, endless streams,
// a slow drip, thousands of histogram buckets) and, for apiServerProxy, a hostile API server in front of
// it: what a check reads stays small, every run ends by its deadline, and unsafe paths are never sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ResolvedSmokeCheck } from '../crd/defaults.js';
import { staticConnection } from '../runtime/connection.js';
import { API_DURATION_BUCKETS } from './analysis.js';
import {
  MAX_BODY_BYTES,
  MAX_PROXY_ERROR_CHARS,
  PodHttpError,
  RequestRefusedError,
  apiServerProxy,
  directHttp,
  type PodHttp,
} from './pod-http.js';
import { runSmokeChecks } from './smoke.js';
import { HOSTILE_PATHS } from '../../../test/support/hostile-paths.js';
import type { PodRef } from './types.js';
import { MAX_SAMPLED_PODS, SAMPLE_CONCURRENCY, createVerifier } from './verifier.js';

const pod: PodRef = { namespace: 'tenant-a', name: 'hello-7d9-a', port: 8080 };
const MiB = 1024 * 1024;

/** What the server saw: every request's URL, and the most requests it held open at once. */
const seen = { urls: [] as string[], open: 0, maxOpen: 0, closedEarly: 0 };

function histogram(bounds: number): string {
  const lines = ['http_requests_total{method="GET",route="/hello/:username",status_code="200"} 10'];
  for (let i = 0; i < bounds; i++) {
    lines.push(
      `http_request_duration_seconds_bucket{route="/hello/:username",le="${i / 1000 + 0.0001}"} ${i}`,
    );
  }
  for (const le of API_DURATION_BUCKETS) {
    lines.push(`http_request_duration_seconds_bucket{route="/hello/:username",le="${le}"} 10`);
  }
  lines.push('http_request_duration_seconds_bucket{route="/hello/:username",le="+Inf"} 10');
  return lines.join('\n');
}

const ANSWERS = new Set(['huge', 'endless', 'drip', 'hang', 'status-flood', 'metrics']);

/** Answers by the first path segment it knows, whether asked directly or through `/api/v1/.../proxy/`. */
function hostile(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '';
  seen.urls.push(url);
  seen.open += 1;
  seen.maxOpen = Math.max(seen.maxOpen, seen.open);
  res.on('close', () => {
    seen.open -= 1;
    if (!res.writableFinished) seen.closedEarly += 1;
  });
  const segments = url.replace(/\?.*$/, '').split('/');
  const what = segments.find((s) => ANSWERS.has(s)) ?? segments.at(-1);
  if (what === 'huge') {
    res.writeHead(200, { 'content-length': String(2 * MiB) }).end(Buffer.alloc(2 * MiB, 'a'));
  } else if (what === 'endless') {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 'b');
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  } else if (what === 'drip') {
    res.writeHead(200);
    const timer = setInterval(() => res.write('.'), 50);
    res.on('close', () => {
      clearInterval(timer);
    });
  } else if (what === 'hang') {
    // Never answers.
  } else if (what === 'status-flood') {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503 };
    res.writeHead(503).end(JSON.stringify({ ...status, message: 'x'.repeat(100_000) }));
  } else if (what === 'metrics') {
    setTimeout(() => res.writeHead(200).end(histogram(5000)), 20);
  } else {
    res.writeHead(200).end('ok');
  }
}

let server: http.Server;
let base: string;
let direct: PodHttp;
let proxied: PodHttp;

beforeAll(async () => {
  server = http.createServer(hostile);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  direct = directHttp(() => base);
  // The local server stands in for the API server, answering in the pod's place.
  proxied = apiServerProxy(staticConnection({ server: base, source: 'test' }));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, timeoutMs = 20_000, signal?: AbortSignal) => ({
  method: 'GET',
  path,
  timeoutMs,
  ...(signal && { signal }),
});

describe.each([
  ['directHttp', () => direct],
  ['apiServerProxy', () => proxied],
])('%s', (_name, client) => {
  it('stops reading a body larger than 1 MiB', async () => {
    const failure = client().request(pod, get('/huge'));
    await expect(failure).rejects.toThrow(PodHttpError);
    await expect(failure).rejects.toThrow(/larger than 1 MiB; reading stopped/);
  });

  it('stops reading an endless answer after 1 MiB, and closes the connection', async () => {
    const before = seen.closedEarly;
    await expect(client().request(pod, get('/endless'))).rejects.toThrow(/larger than 1 MiB/);
    for (let i = 0; i < 100 && seen.closedEarly === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.closedEarly).toBeGreaterThan(before);
  });

  it('gives up on a slow drip when the caller’s overall deadline passes', async () => {
    const failure = client().request(pod, get('/drip', 60_000, AbortSignal.timeout(300)));
    await expect(failure).rejects.toThrow(/overall deadline passed/);
  });

  it.each(HOSTILE_PATHS.slice(0, 12))('sends nothing for the path %j', async (path) => {
    const before = seen.urls.length;
    await expect(client().request(pod, get(path))).rejects.toThrow(RequestRefusedError);
    expect(seen.urls.length).toBe(before);
  });
});

describe('apiServerProxy', () => {
  it('keeps only the start of the API server’s own error message', async () => {
    const response = await proxied.request(pod, get('/status-flood'));
    expect(response.status).toBe(503);
    expect(response.proxyError?.length).toBe(MAX_PROXY_ERROR_CHARS + 1);
  });
});

describe('createVerifier over a hostile pod', () => {
  it('keeps only the API’s histogram bounds of a /metrics with thousands of them', async () => {
    const sample = await createVerifier(direct).sample([pod]);
    expect(sample.buckets.map((b) => b.le)).toEqual([...API_DURATION_BUCKETS, Infinity]);
    expect(sample.perPod?.[`${pod.namespace}/${pod.name}`]?.buckets).toHaveLength(
      API_DURATION_BUCKETS.length + 1,
    );
  });

  it(`reads /metrics of at most ${MAX_SAMPLED_PODS} pods, ${SAMPLE_CONCURRENCY} at a time`, async () => {
    const pods = Array.from({ length: 30 }, (_, i) => ({
      ...pod,
      name: `hello-7d9-${String(i).padStart(2, '0')}`,
    }));
    const before = seen.urls.length;
    seen.maxOpen = 0;
    const sample = await createVerifier(direct).sample(pods);
    expect(seen.urls.length - before).toBe(MAX_SAMPLED_PODS);
    expect(seen.maxOpen).toBeLessThanOrEqual(SAMPLE_CONCURRENCY);
    expect(Object.keys(sample.pods)).toHaveLength(MAX_SAMPLED_PODS);
  });

  it('ends a sample of hanging pods by its overall deadline', async () => {
    const hanging = directHttp(() => `${base}/hang`);
    const failure = createVerifier(hanging, {}, { deadlineMs: 300 }).sample([pod]);
    await expect(failure).rejects.toThrow(/overall deadline passed/);
  });
});

describe('runSmokeChecks against a hostile pod', () => {
  const check = (c: Partial<ResolvedSmokeCheck>): ResolvedSmokeCheck => ({
    name: 'hostile',
    method: 'GET',
    path: '/hang',
    expectStatus: 200,
    timeoutSeconds: 1,
    retries: 10,
    maxLatencyMs: 1000,
    ...c,
  });

  it('ends a run against a hanging pod by its overall deadline, whatever the retries add up to', async () => {
    const result = await runSmokeChecks(direct, [pod], [check({})], { deadlineMs: 1500 });
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/overall deadline of 1.5s/);
  });

  it('fails a huge answer with a short message', async () => {
    const result = await runSmokeChecks(direct, [pod], [check({ path: '/huge', retries: 0 })]);
    expect(result).toEqual({
      passed: false,
      message:
        'smoke check "hostile" (GET /huge) failed on pod tenant-a/hello-7d9-a after 1 attempt: expected status 200; ' +
        `got no answer (the answer is larger than ${MAX_BODY_BYTES / MiB} MiB; reading stopped there)`,
    });
  });

  it('refuses a check with an unsafe path before sending anything to any pod', async () => {
    const before = seen.urls.length;
    const path = '/../../../../api/v1/namespaces/kube-system/configmaps';
    const result = await runSmokeChecks(direct, [pod], [check({ path, method: 'POST', body: '{}' })]);
    expect(result).toEqual({
      passed: false,
      message: `smoke check "hostile": path "${path}" refused: dot segments (a . or .. segment)`,
    });
    expect(seen.urls.length).toBe(before);
  });
});
