import { V1ObjectMeta } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../crd/types.js';
import {
  BURN_RATE_ALERTS,
  buildPrometheusRule,
  buildServiceMonitor,
  monitoringChildren,
  monitoringWanted,
  promNumber,
  RUNBOOK_BASE_URL,
  type Rule,
} from './monitoring.js';

function hw(spec: Partial<HelloWorldSpec> = {}): HelloWorld {
  return {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: Object.assign(new V1ObjectMeta(), {
      name: 'demo',
      namespace: 'team-a',
      uid: 'uid-1',
      generation: 1,
    }),
    spec: { image: 'hello/api:1.0.0', ...spec },
  };
}

function rules(spec: Partial<HelloWorldSpec> = {}): Rule[] {
  const h = hw(spec);
  return buildPrometheusRule(h, resolveSpec(h.spec)).spec.groups.flatMap((g) => g.rules);
}

const alert = (all: Rule[], name: string): Rule => {
  const found = all.find((r) => r.alert === name);
  if (!found) throw new Error(`no alert ${name}`);
  return found;
};

describe('spec.monitoring defaults', () => {
  it('leaves enabled to run-time detection and applies the default SLOs', () => {
    expect(resolveSpec({ image: 'x' }).monitoring).toEqual({
      slo: { availability: 99.9, latencyP99Ms: 250 },
      labels: {},
    });
    expect(
      resolveSpec({
        image: 'x',
        monitoring: { enabled: false, slo: { latencyP99Ms: 100 }, labels: { a: 'b' } },
      }).monitoring,
    ).toEqual({ enabled: false, slo: { availability: 99.9, latencyP99Ms: 100 }, labels: { a: 'b' } });
  });
});

describe('monitoringWanted', () => {
  const monitoring = (enabled?: boolean) => resolveSpec({ image: 'x', monitoring: { enabled } }).monitoring;

  it.each([
    [undefined, true, true, 'MonitoringEnabled'],
    [undefined, false, false, 'PrometheusOperatorNotInstalled'],
    [true, true, true, 'MonitoringEnabled'],
    [true, false, false, 'PrometheusOperatorNotInstalled'],
    [false, true, false, 'MonitoringDisabled'],
    [false, false, false, 'MonitoringDisabled'],
  ] as const)('enabled=%s, CRDs present=%s → %s (%s)', (enabled, crds, wanted, reason) => {
    const decision = monitoringWanted(monitoring(enabled), crds);
    expect(decision).toMatchObject({ enabled: wanted, reason });
    expect(decision.message).not.toBe('');
  });

  it('says which CRDs are missing when monitoring was asked for explicitly', () => {
    expect(monitoringWanted(monitoring(true), false).message).toMatch(
      /^spec\.monitoring\.enabled is true, but .*servicemonitors\.monitoring\.coreos\.com/,
    );
  });
});

describe('ServiceMonitor', () => {
  it('scrapes the API Service of this HelloWorld only, and is owned by it', () => {
    const h = hw({ monitoring: { labels: { release: 'kube-prometheus', 'app.kubernetes.io/name': 'x' } } });
    const sm = buildServiceMonitor(h, resolveSpec(h.spec));
    expect(sm).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' });
    expect(sm.metadata).toMatchObject({
      name: 'demo',
      namespace: 'team-a',
      ownerReferences: [expect.objectContaining({ kind: 'HelloWorld', uid: 'uid-1', controller: true })],
    });
    // The user's labels are added, but never replace the operator's own.
    expect(sm.metadata.labels).toEqual({
      release: 'kube-prometheus',
      'app.kubernetes.io/name': 'helloworld',
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/component': 'api',
      'app.kubernetes.io/managed-by': 'helloworld-operator',
    });
    expect(sm.spec).toEqual({
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'helloworld',
          'app.kubernetes.io/instance': 'demo',
          'app.kubernetes.io/component': 'api',
        },
      },
      namespaceSelector: { matchNames: ['team-a'] },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
    });
  });

  it('lists both monitoring children for removal', () => {
    expect(monitoringChildren(hw()).map((c) => `${c.kind}/${c.name}`)).toEqual([
      'ServiceMonitor/demo',
      'PrometheusRule/demo',
    ]);
  });
});

describe('PrometheusRule', () => {
  it('is owned like every other child and carries the user labels', () => {
    const h = hw({ monitoring: { labels: { prometheus: 'main' } } });
    const rule = buildPrometheusRule(h, resolveSpec(h.spec));
    expect(rule.metadata.labels).toMatchObject({ prometheus: 'main', 'app.kubernetes.io/instance': 'demo' });
    expect(rule.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'HelloWorld', name: 'demo' });
  });

  it('records traffic, errors and latency percentiles over every window, for /hello only', () => {
    const all = rules();
    const recorded = all.flatMap((r) => (r.record ? [r.record] : []));
    for (const w of ['5m', '30m', '1h', '6h']) {
      expect(recorded).toContain(`helloworld:http_requests:rate${w}`);
      expect(recorded).toContain(`helloworld:http_request_errors:ratio_rate${w}`);
      expect(recorded).toContain(`helloworld:http_request_duration_seconds:p95_${w}`);
      expect(recorded).toContain(`helloworld:http_request_duration_seconds:p99_${w}`);
    }
    expect(recorded).toContain('helloworld:http_request_errors:ratio_rate3d');
    for (const r of all.filter((x) => x.record?.startsWith('helloworld:http_'))) {
      expect(r.expr).toContain('namespace="team-a",service="demo",route=~"/hello.*"');
    }
  });

  it('pages on the 14.4x and 6x burn rates and opens a ticket on 1x, from the SLO', () => {
    const all = rules({ monitoring: { slo: { availability: 99.5 } } });
    expect(BURN_RATE_ALERTS.map((b) => [b.factor, b.long, b.short, b.severity])).toEqual([
      [14.4, '1h', '5m', 'critical'],
      [6, '6h', '30m', 'critical'],
      [1, '3d', '6h', 'warning'],
    ]);
    const fast = alert(all, 'HelloWorldErrorBudgetFastBurn');
    expect(fast.expr).toBe(
      'helloworld:http_request_errors:ratio_rate1h{namespace="team-a",service="demo"} > (14.4 * 0.005)\n' +
        'and\nhelloworld:http_request_errors:ratio_rate5m{namespace="team-a",service="demo"} > (14.4 * 0.005)',
    );
    expect(fast.labels).toEqual({ severity: 'critical', slo: 'availability', helloworld: 'demo' });
    expect(alert(all, 'HelloWorldErrorBudgetSteadyBurn').expr).toContain('ratio_rate3d');
  });

  it('alerts on the p99 latency SLO in seconds', () => {
    const latency = alert(
      rules({ monitoring: { slo: { latencyP99Ms: 300 } } }),
      'HelloWorldLatencySLOBreach',
    );
    expect(latency.expr).toContain('p99_1h{namespace="team-a",service="demo"} > 0.3');
    expect(latency.expr).toContain('p99_5m{namespace="team-a",service="demo"} > 0.3');
  });

  it('watches the managed Redis volume, and no volume for an external Redis', () => {
    const managed = rules();
    expect(alert(managed, 'HelloWorldRedisStorageFilling').expr).toContain(
      'kubelet_volume_stats_used_bytes{namespace="team-a",persistentvolumeclaim="data-demo-redis-0"}',
    );
    expect(alert(managed, 'HelloWorldRedisStorageFullIn4Days').expr).toContain('predict_linear(');
    const external = rules({ redis: { mode: 'External', urlSecretRef: { name: 'r', key: 'url' } } });
    expect(external.filter((r) => r.alert?.startsWith('HelloWorldRedisStorage'))).toEqual([]);
  });

  it('gives every alert a severity, a summary, a description and a runbook anchor', () => {
    const alerts = rules().filter((r) => r.alert !== undefined);
    expect(alerts.map((r) => r.alert)).toEqual([
      'HelloWorldErrorBudgetFastBurn',
      'HelloWorldErrorBudgetSlowBurn',
      'HelloWorldErrorBudgetSteadyBurn',
      'HelloWorldLatencySLOBreach',
      'HelloWorldLatencyDegraded',
      'HelloWorldRolledBack',
      'HelloWorldRedisStorageFilling',
      'HelloWorldRedisStorageFullIn4Days',
    ]);
    for (const r of alerts) {
      expect(r.labels?.severity).toMatch(/^(critical|warning)$/);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
      expect(r.annotations?.runbook_url).toBe(`${RUNBOOK_BASE_URL}#${r.alert!.toLowerCase()}`);
    }
  });
});

describe('promNumber', () => {
  it('prints floats without binary noise', () => {
    expect(promNumber((100 - 99.9) / 100)).toBe('0.001');
    expect(promNumber(0.1 + 0.2)).toBe('0.3');
    expect(promNumber(14.4)).toBe('14.4');
    expect(promNumber(0.25)).toBe('0.25');
  });
});
