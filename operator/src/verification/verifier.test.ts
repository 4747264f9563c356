import { describe, expect, it } from '@jest/globals';
import { PodHttpError, type PodHttp, type PodResponse } from './pod-http.js';
import type { PodRef } from './types.js';
import { SampleError, createVerifier } from './verifier.js';

const pod = (name: string): PodRef => ({ namespace: 'shop', name, port: 8080 });
const metrics = (requests: number): string =>
  `http_requests_total{method="GET",route="/hello/:username",status_code="200"} ${requests}\n`;

/** Answers /metrics per pod name; records the timeouts asked for. */
function fakeHttp(answers: Record<string, PodResponse | Error>): PodHttp & { timeouts: number[] } {
  const timeouts: number[] = [];
  return {
    timeouts,
    request(target, req) {
      timeouts.push(req.timeoutMs);
      expect(req).toMatchObject({ method: 'GET', path: '/metrics' });
      const answer = answers[target.name] ?? new Error(`unexpected pod ${target.name}`);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

describe('createVerifier().sample', () => {
  it('reads /metrics of every pod with a 5 s timeout and sums them, keyed by namespace/name', async () => {
    const http = fakeHttp({ a: { status: 200, body: metrics(3) }, b: { status: 200, body: metrics(4) } });
    const sample = await createVerifier(http).sample([pod('a'), pod('b')]);
    expect(sample).toMatchObject({ requests: 7, errors: 0, pods: { 'shop/a': 3, 'shop/b': 4 } });
    expect(http.timeouts).toEqual([5000, 5000]);
  });

  it.each<[string, PodResponse | Error, string]>([
    [
      'no answer',
      new PodHttpError('GET /metrics on pod shop/b', 'no answer within 5000 ms'),
      'pod shop/b did not answer /metrics: no answer within 5000 ms',
    ],
    ['a non-200 status', { status: 500, body: 'oops' }, 'pod shop/b answered /metrics with status 500'],
    [
      'the API server in the pod’s place',
      { status: 503, body: '', proxyError: 'error trying to reach service' },
      'pod shop/b answered /metrics with status 503 from the API server (error trying to reach service)',
    ],
    [
      'garbage',
      { status: 200, body: '<html></html>' },
      'metrics of pod shop/b: line 1 is not Prometheus text',
    ],
  ])('fails naming the pod on %s', async (_what, answer, message) => {
    const http = fakeHttp({ a: { status: 200, body: metrics(1) }, b: answer });
    const sampling = createVerifier(http).sample([pod('a'), pod('b')]);
    await expect(sampling).rejects.toThrow(SampleError);
    await expect(sampling).rejects.toThrow(message);
  });
});
