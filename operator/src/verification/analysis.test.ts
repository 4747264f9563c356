import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloSample } from '../crd/types.js';
import {
  MetricsFormatError,
  deltaCounts,
  histogramQuantile,
  measure,
  measurementVerdict,
  parseHelloSample,
  sumSamples,
  type AnalysisPolicy,
} from './analysis.js';

const policy: AnalysisPolicy = resolveSpec({ image: 'hello:1' }).rollout.verification.analysis;
const BOUNDS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Series {
  method?: string;
  route?: string;
  status: number;
  /** Observed request durations in seconds, one per request. */
  durations: number[];
}

/** The exposition prom-client writes for the API's two HTTP metrics. */
function apiMetrics(series: Series[]): string {
  const lines = [
    '# HELP http_request_duration_seconds Time from receiving a request to finishing its response.',
    '# TYPE http_request_duration_seconds histogram',
  ];
  for (const { method = 'GET', route = '/hello/:username', status, durations } of series) {
    const labels = `method="${method}",route="${route}",status_code="${status}"`;
    for (const le of BOUNDS) {
      lines.push(
        `http_request_duration_seconds_bucket{le="${le}",${labels}} ${durations.filter((d) => d <= le).length}`,
      );
    }
    lines.push(`http_request_duration_seconds_bucket{le="+Inf",${labels}} ${durations.length}`);
    lines.push(`http_request_duration_seconds_sum{${labels}} ${durations.reduce((a, b) => a + b, 0)}`);
    lines.push(`http_request_duration_seconds_count{${labels}} ${durations.length}`);
  }
  lines.push('', '# HELP http_requests_total HTTP requests answered.', '# TYPE http_requests_total counter');
  for (const { method = 'GET', route = '/hello/:username', status, durations } of series) {
    lines.push(
      `http_requests_total{method="${method}",route="${route}",status_code="${status}"} ${durations.length}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const times = (n: number, seconds: number): number[] => Array.from({ length: n }, () => seconds);

describe('parseHelloSample', () => {
  it('counts /hello requests, their 5xx answers and their latency buckets, and nothing else', () => {
    const text = apiMetrics([
      { status: 200, durations: times(7, 0.002) },
      { method: 'PUT', status: 204, durations: times(3, 0.02) },
      { status: 500, durations: times(2, 0.3) },
      { status: 503, durations: times(1, 3) },
      { status: 404, durations: times(4, 0.001) },
      { route: '/hello', status: 400, durations: times(1, 0.001) },
      { route: '/readyz', status: 503, durations: times(50, 0.001) },
      { route: '/metrics', status: 200, durations: times(9, 0.001) },
    ]);
    const sample = parseHelloSample(text, 'pod-a');
    expect(sample.requests).toBe(18);
    expect(sample.errors).toBe(3);
    expect(sample.pods).toEqual({ 'pod-a': 18 });
    expect(sample.buckets).toEqual([
      { le: 0.005, count: 12 },
      { le: 0.01, count: 12 },
      { le: 0.05, count: 15 },
      { le: 0.1, count: 15 },
      { le: 0.25, count: 15 },
      { le: 0.5, count: 17 },
      { le: 1, count: 17 },
      { le: 2.5, count: 17 },
      { le: Infinity, count: 18 },
    ]);
    expect(sample.perPod).toEqual({ 'pod-a': { requests: 18, errors: 3, buckets: sample.buckets } });
  });

  it('reads any label order, spacing, escaped quotes, exponents, special values in any case, timestamps and CRLF', () => {
    const text = [
      '# a comment that is not HELP or TYPE',
      'http_requests_total{ status_code = "500" , route="/hello/:username",method="GET", } 1.2e1 1712345678000',
      'http_requests_total{path="say \\"hi\\" \\\\ there\\n",route="/hello/:username",status_code="200"} 3E0',
      'http_requests_total{route="/other \\"/hello\\"",status_code="500"} 99',
      'http_request_duration_seconds_bucket{route="/hello/:username",le="5e-3"} 10\r',
      'http_request_duration_seconds_bucket{le="+Inf",route="/hello/:username"} 15\r',
      'http_request_duration_seconds_bucket{le="0.5",route="/hello/:username"}\t15',
      'process_cpu_seconds_total 0.25',
      'weird_gauge NaN',
      'nodejs_eventloop_lag_mean_seconds Nan',
      'another_gauge -Inf',
    ].join('\n');
    const sample = parseHelloSample(text, 'pod-a');
    expect(sample.requests).toBe(15);
    expect(sample.errors).toBe(12);
    expect(sample.buckets).toEqual([
      { le: 0.005, count: 10 },
      { le: 0.5, count: 15 },
      { le: Infinity, count: 15 },
    ]);
  });

  it('reads metrics the API has not exported yet as zeros', () => {
    const fresh =
      '# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\n';
    for (const text of [fresh, '', '\n\n']) {
      expect(parseHelloSample(text, 'pod-a')).toEqual({
        requests: 0,
        errors: 0,
        buckets: [],
        pods: { 'pod-a': 0 },
        perPod: { 'pod-a': { requests: 0, errors: 0, buckets: [] } },
      });
    }
  });

  it.each([
    ['an HTML page', '<html><body>Not Found</body></html>', /line 2 is not Prometheus text/],
    ['an unterminated label value', 'http_requests_total{route="/hello} 1', /unterminated label value/],
    ['a value that is no number', 'http_requests_total{route="/hello"} lots', /bad value "lots"/],
    ['a hexadecimal value', 'http_requests_total{route="/hello"} 0x10', /bad value "0x10"/],
    ['text after the timestamp', 'http_requests_total 1 2 3', /unexpected text after the timestamp/],
    ['a missing value', 'http_requests_total{route="/hello"}', /expected a value/],
    ['a bad escape', 'x{a="\\t"} 1', /bad escape/],
    [
      'a negative counter',
      'http_requests_total{route="/hello/:username"} -1',
      /http_requests_total -1 is not a valid count/,
    ],
    ['an infinite counter', 'http_requests_total{route="/hello/:username"} +Inf', /is not a valid count/],
    ['a bucket without le', 'http_request_duration_seconds_bucket{route="/hello/:username"} 1', /le=null/],
    [
      'a bucket with a bad le',
      'http_request_duration_seconds_bucket{route="/hello/x",le="big"} 1',
      /le="big"/,
    ],
  ])('rejects %s with an error naming the pod', (_what, text, why) => {
    const parse = (): HelloSample => parseHelloSample(`# TYPE x counter\n${text}\n`, 'pod-a');
    expect(parse).toThrow(MetricsFormatError);
    expect(parse).toThrow(/^metrics of pod pod-a: /);
    expect(parse).toThrow(why);
  });

  it('names the offending line', () => {
    expect(() => parseHelloSample('ok_metric 1\n\nnot a sample line\n', 'pod-b')).toThrow(
      'metrics of pod pod-b: line 3 is not Prometheus text (bad value "a"): "not a sample line"',
    );
  });
});

describe('sumSamples', () => {
  it('adds requests, errors and buckets by bound, and keeps every pod', () => {
    const a = parseHelloSample(apiMetrics([{ status: 200, durations: times(4, 0.002) }]), 'pod-a');
    const b = parseHelloSample(apiMetrics([{ status: 500, durations: times(2, 0.7) }]), 'pod-b');
    const sum = sumSamples([a, b]);
    expect(sum.requests).toBe(6);
    expect(sum.errors).toBe(2);
    expect(sum.pods).toEqual({ 'pod-a': 4, 'pod-b': 2 });
    expect(sum.perPod).toEqual({ ...a.perPod, ...b.perPod });
    expect(sum.buckets.find((bucket) => bucket.le === 0.5)?.count).toBe(4);
    expect(sum.buckets.at(-1)).toEqual({ le: Infinity, count: 6 });
  });

  it('is all zeros for no pods, and drops per-pod detail unless every sample has it', () => {
    expect(sumSamples([])).toEqual({ requests: 0, errors: 0, buckets: [], pods: {}, perPod: {} });
    const a = parseHelloSample(apiMetrics([{ status: 200, durations: [0.001] }]), 'pod-a');
    const withoutDetail: HelloSample = {
      ...parseHelloSample(apiMetrics([{ status: 200, durations: [0.001] }]), 'pod-b'),
      perPod: undefined,
    };
    expect(sumSamples([a, withoutDetail]).perPod).toBeUndefined();
  });
});

describe('histogramQuantile', () => {
  const buckets = (counts: [number, number][]): { le: number; count: number }[] =>
    counts.map(([le, count]) => ({ le, count }));

  it('interpolates linearly inside the bucket that holds the rank, like histogram_quantile', () => {
    // rank 99 of 100: 50 below 0.5 s, 50 in (0.5, 1] → 0.5 + 0.5 × 49/50.
    expect(
      histogramQuantile(
        0.99,
        buckets([
          [0.1, 10],
          [0.5, 50],
          [1, 100],
          [Infinity, 100],
        ]),
      )?.seconds,
    ).toBeCloseTo(0.99);
    // The median of 100 observations in (0.1, 0.5], 0 below: 0.1 + 0.4 × 50/100.
    expect(
      histogramQuantile(
        0.5,
        buckets([
          [0.1, 0],
          [0.5, 100],
          [Infinity, 100],
        ]),
      )?.seconds,
    ).toBeCloseTo(0.3);
  });

  it('starts the first bucket at zero', () => {
    expect(
      histogramQuantile(
        0.99,
        buckets([
          [0.01, 100],
          [Infinity, 100],
        ]),
      ),
    ).toEqual({ seconds: 0.0099, aboveRange: false });
  });

  it('reports the highest finite bound when the quantile lies in +Inf', () => {
    expect(
      histogramQuantile(
        0.99,
        buckets([
          [1, 50],
          [2.5, 90],
          [Infinity, 100],
        ]),
      ),
    ).toEqual({ seconds: 2.5, aboveRange: true });
  });

  it('is undefined for an empty histogram or one with only +Inf', () => {
    expect(histogramQuantile(0.99, [])).toBeUndefined();
    expect(
      histogramQuantile(
        0.99,
        buckets([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeUndefined();
    expect(histogramQuantile(0.99, buckets([[Infinity, 10]]))).toBeUndefined();
  });

  it('irons out counts that fall, and accepts buckets out of order', () => {
    const estimate = histogramQuantile(
      0.5,
      buckets([
        [Infinity, 100],
        [0.5, 90],
        [0.1, 100],
      ]),
    );
    expect(estimate).toEqual({ seconds: 0.1 * 0.5, aboveRange: false });
  });
});

describe('measure', () => {
  const pod = (name: string, series: Series[]): HelloSample => parseHelloSample(apiMetrics(series), name);

  it('passes healthy traffic and reports the error rate and p99', () => {
    const prev = pod('pod-a', [{ status: 200, durations: times(10, 0.002) }]);
    const cur = pod('pod-a', [{ status: 200, durations: [...times(110, 0.002), ...times(100, 0.02)] }]);
    const m = measure(prev, cur, policy);
    expect(m).toMatchObject({ result: 'Pass', requests: 200, errorRate: 0 });
    // rank 198 of 200: 100 at or below 0.01 s, 100 in (0.01, 0.05] → 0.01 + 0.04 × 98/100.
    expect(m.p99Ms).toBe(49.2);
    expect(m.message).toBe('error rate 0.0% (0 of 200 /hello requests), p99 49 ms: within 5.0% and 500 ms');
  });

  it('fails when the error rate exceeds the limit', () => {
    const prev = pod('pod-a', [{ status: 200, durations: [] }]);
    const cur = pod('pod-a', [
      { status: 200, durations: times(48, 0.002) },
      { status: 500, durations: times(12, 0.002) },
    ]);
    const m = measure(prev, cur, policy);
    expect(m).toMatchObject({ result: 'Fail', requests: 60, errorRate: 0.2 });
    expect(m.message).toBe('error rate 20.0% (12 of 60 /hello requests) exceeds 5.0%');
  });

  it('passes an error rate exactly at the limit', () => {
    const cur = pod('pod-a', [
      { status: 200, durations: times(95, 0.002) },
      { status: 502, durations: times(5, 0.002) },
    ]);
    expect(measure(undefined, cur, policy).result).toBe('Pass');
  });

  it('fails when p99 exceeds the limit', () => {
    const cur = pod('pod-a', [{ status: 200, durations: [...times(50, 0.3), ...times(50, 0.8)] }]);
    const m = measure(undefined, cur, policy);
    expect(m).toMatchObject({ result: 'Fail', p99Ms: 990 });
    expect(m.message).toBe('p99 990 ms exceeds 500 ms');
  });

  it('says "> X ms" when p99 is beyond the highest finite bucket', () => {
    const cur = pod('pod-a', [{ status: 200, durations: times(100, 4) }]);
    const m = measure(undefined, cur, policy);
    expect(m).toMatchObject({ result: 'Fail', p99Ms: 2500 });
    expect(m.message).toBe('p99 > 2500 ms exceeds 500 ms');
  });

  it('reports both failures together', () => {
    const cur = pod('pod-a', [{ status: 500, durations: times(10, 0.9) }]);
    expect(measure(undefined, cur, policy).message).toBe(
      'error rate 100.0% (10 of 10 /hello requests) exceeds 5.0%; p99 995 ms exceeds 500 ms',
    );
  });

  it('is NoData, never a pass or a crash, when no /hello request arrived', () => {
    const idle = pod('pod-a', [{ status: 200, durations: times(10, 0.002) }]);
    expect(measure(idle, idle, policy)).toEqual({
      result: 'NoData',
      requests: 0,
      message: 'no /hello requests in the interval',
    });
    expect(measure(undefined, parseHelloSample('', 'pod-a'), policy).result).toBe('NoData');
    expect(measure(undefined, sumSamples([]), policy).result).toBe('NoData');
  });

  it('judges the error rate alone, and says so, when the histogram is missing', () => {
    const text = 'http_requests_total{route="/hello/:username",status_code="200"} 40\n';
    const m = measure(undefined, parseHelloSample(text, 'pod-a'), policy);
    expect(m.result).toBe('Pass');
    expect(m.p99Ms).toBeUndefined();
    expect(m.message).toContain('p99 unknown (no latency histogram for /hello)');
  });

  it('counts a restarted pod from zero without disturbing the other pods', () => {
    const prev = sumSamples([
      pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]),
      pod('pod-b', [{ status: 500, durations: times(50, 0.002) }]),
    ]);
    const cur = sumSamples([
      // pod-a restarted: 30 requests since, of which 3 failed.
      pod('pod-a', [
        { status: 200, durations: times(27, 0.002) },
        { status: 500, durations: times(3, 0.002) },
      ]),
      pod('pod-b', [
        { status: 500, durations: times(50, 0.002) },
        { status: 200, durations: times(70, 0.002) },
      ]),
    ]);
    expect(deltaCounts(prev, cur)).toMatchObject({ requests: 100, errors: 3 });
    expect(measure(prev, cur, policy)).toMatchObject({ result: 'Pass', requests: 100, errorRate: 0.03 });
  });

  it('counts a pod new since the previous sample from zero and forgets a pod that left', () => {
    const prev = sumSamples([
      pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]),
      pod('pod-gone', [{ status: 200, durations: times(500, 0.002) }]),
    ]);
    const cur = sumSamples([
      pod('pod-a', [{ status: 200, durations: times(110, 0.002) }]),
      pod('pod-new', [{ status: 500, durations: times(10, 0.002) }]),
    ]);
    expect(measure(prev, cur, policy)).toMatchObject({ result: 'Fail', requests: 20, errorRate: 0.5 });
  });

  it('counts from zero without a previous sample', () => {
    const cur = pod('pod-a', [{ status: 200, durations: times(42, 0.002) }]);
    expect(measure(undefined, cur, policy)).toMatchObject({ result: 'Pass', requests: 42 });
  });

  it('treats a bucket layout that changed as a restart', () => {
    const prev = pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]);
    const cur: HelloSample = {
      requests: 120,
      errors: 0,
      buckets: [{ le: Infinity, count: 120 }],
      pods: { 'pod-a': 120 },
      perPod: { 'pod-a': { requests: 120, errors: 0, buckets: [{ le: Infinity, count: 120 }] } },
    };
    expect(deltaCounts(prev, cur).requests).toBe(120);
  });

  describe('without per-pod detail', () => {
    const strip = ({ perPod: _perPod, ...sample }: HelloSample): HelloSample => sample;

    it('subtracts the sums when nothing restarted', () => {
      const prev = strip(pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]));
      const cur = strip(pod('pod-a', [{ status: 200, durations: times(130, 0.002) }]));
      expect(deltaCounts(prev, cur)).toMatchObject({ requests: 30, errors: 0 });
    });

    it('counts everything from zero when any pod restarted or is new', () => {
      const prev = strip(sumSamples([pod('pod-a', [{ status: 200, durations: times(100, 0.002) }])]));
      const restarted = strip(pod('pod-a', [{ status: 200, durations: times(5, 0.002) }]));
      expect(deltaCounts(prev, restarted).requests).toBe(5);
      const grown = strip(
        sumSamples([
          pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]),
          pod('pod-b', [{ status: 200, durations: times(7, 0.002) }]),
        ]),
      );
      expect(deltaCounts(prev, grown).requests).toBe(107);
    });
  });

  it('reads a previous sample that went through JSON (status), where +Inf became null', () => {
    const prev = pod('pod-a', [{ status: 200, durations: times(100, 0.002) }]);
    const stored = JSON.parse(JSON.stringify(prev)) as HelloSample;
    expect(stored.buckets.at(-1)?.le).toBeNull();
    const cur = pod('pod-a', [{ status: 200, durations: [...times(100, 0.002), ...times(20, 4)] }]);
    expect(measure(stored, cur, policy)).toMatchObject({ result: 'Fail', requests: 20, p99Ms: 2500 });
  });
});

describe('measurementVerdict', () => {
  const noData = { result: 'NoData', requests: 0, message: 'no /hello requests in the interval' } as const;

  it('applies the noData setting to NoData and keeps Pass and Fail', () => {
    expect(measurementVerdict(noData, { noData: 'Pass' })).toBe('Pass');
    expect(measurementVerdict(noData, { noData: 'Fail' })).toBe('Fail');
    expect(measurementVerdict({ result: 'Fail', requests: 1, message: '' }, { noData: 'Pass' })).toBe('Fail');
    expect(measurementVerdict({ result: 'Pass', requests: 1, message: '' }, { noData: 'Fail' })).toBe('Pass');
  });
});
