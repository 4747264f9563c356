/**
 * Monitoring of one HelloWorld through the Prometheus Operator: a ServiceMonitor for its API pods and a
 * PrometheusRule with SLO recording rules and alerts. The rules are generated here and nowhere else;
 * config/monitoring/tests/ unit-tests the rendering of a sample with promtool. See docs/monitoring.md.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { ResolvedMonitoring, ResolvedSpec } from '../crd/defaults.js';
import { crdName, KINDS, typeMeta } from '../crd/kinds.js';
import { selectorLabels } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { MonitoringReason } from '../rollout/conditions.js';
import { childMeta, redisName, type AbsentChild } from './meta.js';

export const MONITORING_API_VERSION = KINDS.ServiceMonitor.apiVersion;
/** The Prometheus Operator's kinds the operator creates. */
export const MONITORING_KINDS = [KINDS.ServiceMonitor, KINDS.PrometheusRule] as const;
/** The CRDs whose presence turns monitoring on when `spec.monitoring.enabled` is unset. */
export const PROMETHEUS_OPERATOR_CRDS = MONITORING_KINDS.map(crdName);
export const RUNBOOK_BASE_URL =
  'https://github.com/helloworld-operator/helloworld-operator/blob/main/docs/runbooks.md';

export interface ServiceMonitor extends KubernetesObject {
  apiVersion: typeof MONITORING_API_VERSION;
  kind: 'ServiceMonitor';
  metadata: V1ObjectMeta;
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[];
  };
}

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export interface PrometheusRule extends KubernetesObject {
  apiVersion: typeof MONITORING_API_VERSION;
  kind: 'PrometheusRule';
  metadata: V1ObjectMeta;
  spec: { groups: RuleGroup[] };
}

export interface MonitoringDecision {
  enabled: boolean;
  reason: MonitoringReason;
  message: string;
}

/** Whether to generate the monitoring objects; a missing Prometheus Operator is never an error. */
export function monitoringWanted(monitoring: ResolvedMonitoring, crdsPresent: boolean): MonitoringDecision {
  if (monitoring.enabled === false) {
    return {
      enabled: false,
      reason: MonitoringReason.MonitoringDisabled,
      message: 'spec.monitoring.enabled is false',
    };
  }
  if (!crdsPresent) {
    const wanted = monitoring.enabled === true ? 'spec.monitoring.enabled is true, but ' : '';
    return {
      enabled: false,
      reason: MonitoringReason.PrometheusOperatorNotInstalled,
      message: `${wanted}the Prometheus Operator's CRDs (${PROMETHEUS_OPERATOR_CRDS.join(', ')}) are not installed; no ServiceMonitor or PrometheusRule was created`,
    };
  }
  return {
    enabled: true,
    reason: MonitoringReason.MonitoringEnabled,
    message:
      monitoring.enabled === true
        ? 'ServiceMonitor and PrometheusRule generated (spec.monitoring.enabled is true)'
        : "ServiceMonitor and PrometheusRule generated (the Prometheus Operator's CRDs are installed)",
  };
}

/** The monitoring children, for deletion after monitoring was switched off. */
export function monitoringChildren(hw: HelloWorld): AbsentChild[] {
  const name = hw.metadata.name;
  return [
    { ...typeMeta(KINDS.ServiceMonitor), name },
    { ...typeMeta(KINDS.PrometheusRule), name },
  ];
}

function monitoringMeta(hw: HelloWorld, monitoring: ResolvedMonitoring): V1ObjectMeta {
  const meta = childMeta(hw, hw.metadata.name, 'api');
  // The operator's labels win: they are how the operator finds its children.
  meta.labels = { ...monitoring.labels, ...meta.labels };
  return meta;
}

/** Scrapes /metrics of every API pod behind the HelloWorld's Service (port `http`). */
export function buildServiceMonitor(hw: HelloWorld, spec: ResolvedSpec): ServiceMonitor {
  return {
    ...typeMeta(KINDS.ServiceMonitor),
    metadata: monitoringMeta(hw, spec.monitoring),
    spec: {
      selector: { matchLabels: selectorLabels(hw, 'api') },
      namespaceSelector: { matchNames: [hw.metadata.namespace] },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
    },
  };
}

export function buildPrometheusRule(hw: HelloWorld, spec: ResolvedSpec): PrometheusRule {
  return {
    ...typeMeta(KINDS.PrometheusRule),
    metadata: monitoringMeta(hw, spec.monitoring),
    spec: { groups: ruleGroups(hw, spec) },
  };
}

/** Windows of the recorded SLIs: each burn-rate alert pairs a long window with a short one. */
export const SLI_WINDOWS = ['5m', '30m', '1h', '6h'] as const;

/** The multi-window, multi-burn-rate alerts of the SRE workbook, for a 30-day error budget. */
export const BURN_RATE_ALERTS = [
  {
    alert: 'HelloWorldErrorBudgetFastBurn',
    factor: 14.4,
    long: '1h',
    short: '5m',
    for: '2m',
    severity: 'critical',
  },
  {
    alert: 'HelloWorldErrorBudgetSlowBurn',
    factor: 6,
    long: '6h',
    short: '30m',
    for: '15m',
    severity: 'critical',
  },
  {
    alert: 'HelloWorldErrorBudgetSteadyBurn',
    factor: 1,
    long: '3d',
    short: '6h',
    for: '1h',
    severity: 'warning',
  },
] as const;

/** A float as PromQL text without binary noise (0.1 + 0.2 → 0.3). */
export function promNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** What every rule of one HelloWorld is templated with. */
interface Instance {
  namespace: string;
  name: string;
  /** `namespace/name`, for humans. */
  shown: string;
  /** Selects the HelloWorld's API series (target labels of its ServiceMonitor). */
  target: string;
  /** The SLI: the API's own routes only; probes and scrapes would dilute it. */
  requests: string;
  availability: number;
  /** The error budget as a ratio, e.g. 0.001. */
  budget: string;
  latencyP99Ms: number;
  latencySeconds: string;
}

function instance(hw: HelloWorld, spec: ResolvedSpec): Instance {
  const { namespace, name } = hw.metadata;
  const { availability, latencyP99Ms } = spec.monitoring.slo;
  const target = `namespace="${namespace}",service="${name}"`;
  return {
    namespace,
    name,
    shown: `${namespace}/${name}`,
    target,
    requests: `${target},route=~"/hello.*"`,
    availability,
    budget: promNumber((100 - availability) / 100),
    latencyP99Ms,
    latencySeconds: promNumber(latencyP99Ms / 1000),
  };
}

/** An alert with the labels and annotations every alert has; its runbook is its section of runbooks.md. */
function alertRule(
  i: Instance,
  alert: string,
  rule: { expr: string; for?: string; severity: 'critical' | 'warning'; slo?: string },
  text: { summary: string; description: string },
): Rule {
  return {
    alert,
    expr: rule.expr,
    ...(rule.for !== undefined && { for: rule.for }),
    labels: { severity: rule.severity, ...(rule.slo !== undefined && { slo: rule.slo }), helloworld: i.name },
    annotations: { ...text, runbook_url: `${RUNBOOK_BASE_URL}#${alert.toLowerCase()}` },
  };
}

/** The recording and alerting rules of one HelloWorld, as Prometheus rule groups. */
export function ruleGroups(hw: HelloWorld, spec: ResolvedSpec): RuleGroup[] {
  const i = instance(hw, spec);
  const prefix = `helloworld-${i.namespace}-${i.name}`;
  return [
    { name: `${prefix}.sli`, rules: sliRules(i) },
    { name: `${prefix}.latency`, rules: latencyRules(i) },
    {
      name: `${prefix}.alerts`,
      rules: [
        ...burnRateAlerts(i),
        ...latencyAlerts(i),
        rollbackAlert(i),
        ...(spec.redis.mode === 'Managed' ? storageAlerts(i, `data-${redisName(hw)}-0`) : []),
      ],
    },
  ];
}

function sliRules(i: Instance): Rule[] {
  const by = 'sum by (namespace, service)';
  const total = (w: string): string => `${by} (rate(http_requests_total{${i.requests}}[${w}]))`;
  const errors = (w: string): string =>
    `${by} (rate(http_requests_total{${i.requests},status_code=~"5.."}[${w}]))`;
  return [
    ...SLI_WINDOWS.map((w) => ({ record: `helloworld:http_requests:rate${w}`, expr: total(w) })),
    // `or ... * 0` records 0 rather than nothing while there are requests but no 5xx series yet.
    ...[...SLI_WINDOWS, '3d'].map((w) => ({
      record: `helloworld:http_request_errors:ratio_rate${w}`,
      expr: `(${errors(w)} or ${total(w)} * 0)\n/\n${total(w)}`,
    })),
  ];
}

function latencyRules(i: Instance): Rule[] {
  const quantile = (percentile: 50 | 95 | 99, w: string): Rule => ({
    record: `helloworld:http_request_duration_seconds:p${String(percentile)}_${w}`,
    expr: `histogram_quantile(${promNumber(percentile / 100)}, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket{${i.requests}}[${w}])))`,
  });
  // The objectives as series, so dashboards can draw them next to the measurements.
  const labels = (): Record<string, string> => ({ namespace: i.namespace, service: i.name });
  return [
    ...SLI_WINDOWS.flatMap((w) => [quantile(50, w), quantile(95, w), quantile(99, w)]),
    { record: 'helloworld:slo_error_budget:ratio', expr: `vector(${i.budget})`, labels: labels() },
    { record: 'helloworld:slo_latency_p99:seconds', expr: `vector(${i.latencySeconds})`, labels: labels() },
  ];
}

function burnRateAlerts(i: Instance): Rule[] {
  return BURN_RATE_ALERTS.map((b) => {
    const factor = promNumber(b.factor);
    const above = (w: string): string =>
      `helloworld:http_request_errors:ratio_rate${w}{${i.target}} > (${factor} * ${i.budget})`;
    return alertRule(
      i,
      b.alert,
      {
        expr: `${above(b.long)}\nand\n${above(b.short)}`,
        for: b.for,
        severity: b.severity,
        slo: 'availability',
      },
      {
        summary: `${i.shown} is burning its error budget at ${factor}x the sustainable rate`,
        description:
          `{{ $value | humanizePercentage }} of /hello requests of ${i.shown} failed with a 5xx over the last ${b.long}, ` +
          `and over the last ${b.short} too. The availability SLO of ${promNumber(i.availability)}% leaves an error ` +
          `budget of ${promNumber(100 - i.availability)}% of requests; at ${factor}x that rate the 30-day budget is ` +
          `gone in ${String(Math.round((30 / b.factor) * 10) / 10)} days.`,
      },
    );
  });
}

function latencyAlerts(i: Instance): Rule[] {
  const above = (w: string): string =>
    `helloworld:http_request_duration_seconds:p99_${w}{${i.target}} > ${i.latencySeconds}`;
  const slo = `${String(i.latencyP99Ms)} ms`;
  return [
    alertRule(
      i,
      'HelloWorldLatencySLOBreach',
      { expr: `${above('1h')}\nand\n${above('5m')}`, for: '5m', severity: 'critical', slo: 'latency' },
      {
        summary: `${i.shown} answers /hello slower than its p99 latency SLO of ${slo}`,
        description: `The 99th percentile of /hello latency of ${i.shown} is {{ $value | humanizeDuration }} over the last 5 minutes and above ${slo} over the last hour.`,
      },
    ),
    alertRule(
      i,
      'HelloWorldLatencyDegraded',
      { expr: `${above('6h')}\nand\n${above('30m')}`, for: '30m', severity: 'warning', slo: 'latency' },
      {
        summary: `${i.shown} has been slower than its p99 latency SLO of ${slo} for hours`,
        description: `The 99th percentile of /hello latency of ${i.shown} is {{ $value | humanizeDuration }} over the last 30 minutes and above ${slo} over the last 6 hours.`,
      },
    ),
  ];
}

/** On the operator's gauge, 1 while the HelloWorld runs a revision it was rolled back to. */
function rollbackAlert(i: Instance): Rule {
  return alertRule(
    i,
    'HelloWorldRolledBack',
    {
      expr: `max by (namespace, name, reason) (helloworld_rolled_back{namespace="${i.namespace}",name="${i.name}"}) > 0`,
      severity: 'warning',
    },
    {
      summary: `The last rollout of ${i.shown} was rolled back ({{ $labels.reason }})`,
      description: `The operator rolled ${i.shown} back to its stable revision: the new revision ended with {{ $labels.reason }}. Users are served by the previous release; the failed one is not retried until the spec changes or hello.dev/retry is set.`,
    },
  );
}

/** PVC alerts of the managed Redis; an external Redis is somebody else's disk. */
function storageAlerts(i: Instance, pvc: string): Rule[] {
  const volume = `namespace="${i.namespace}",persistentvolumeclaim="${pvc}"`;
  // max by: the kubelet of whichever node mounts the volume reports it; drop node and instance labels.
  const by = 'max by (namespace, persistentvolumeclaim)';
  const capacity = `${by} (kubelet_volume_stats_capacity_bytes{${volume}})`;
  const consequence = 'When it is full Redis stops accepting writes and PUT /hello fails.';
  return [
    alertRule(
      i,
      'HelloWorldRedisStorageFilling',
      {
        expr: `${by} (kubelet_volume_stats_used_bytes{${volume}})\n/\n${capacity}\n> 0.8`,
        for: '15m',
        severity: 'warning',
      },
      {
        summary: `The Redis volume of ${i.shown} is {{ $value | humanizePercentage }} full`,
        description: `PersistentVolumeClaim ${i.namespace}/${pvc} is over 80% full. ${consequence}`,
      },
    ),
    alertRule(
      i,
      'HelloWorldRedisStorageFullIn4Days',
      {
        expr: `${by} (predict_linear(kubelet_volume_stats_used_bytes{${volume}}[6h], 4 * 24 * 3600))\n> ${capacity}`,
        for: '1h',
        severity: 'warning',
      },
      {
        summary: `The Redis volume of ${i.shown} will be full within 4 days`,
        description: `At the growth of the last 6 hours, PersistentVolumeClaim ${i.namespace}/${pvc} runs out of space within 4 days. ${consequence}`,
      },
    ),
  ];
}
