/**
 * Monitoring of one HelloWorld through the Prometheus Operator: a ServiceMonitor for its API pods and a
 * PrometheusRule with SLO recording rules and alerts. The rules are generated here and nowhere else;
 * config/monitoring/tests/ unit-tests the rendering of a sample with promtool. See docs/monitoring.md.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { ResolvedMonitoring, ResolvedSpec } from '../api/defaults.js';
import type { HelloWorld } from '../api/types.js';
import type { AbsentChild } from './index.js';
import { childMeta, redisName, selectorLabels } from './meta.js';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';
/** The CRDs whose presence turns monitoring on when `spec.monitoring.enabled` is unset. */
export const PROMETHEUS_OPERATOR_CRDS = [
  'servicemonitors.monitoring.coreos.com',
  'prometheusrules.monitoring.coreos.com',
] as const;
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
  /** A CamelCase reason for a condition or event. */
  reason: 'MonitoringEnabled' | 'MonitoringDisabled' | 'PrometheusOperatorNotInstalled';
  message: string;
}

/** Whether to generate the monitoring objects; a missing Prometheus Operator is never an error. */
export function monitoringWanted(monitoring: ResolvedMonitoring, crdsPresent: boolean): MonitoringDecision {
  if (monitoring.enabled === false) {
    return { enabled: false, reason: 'MonitoringDisabled', message: 'spec.monitoring.enabled is false' };
  }
  if (!crdsPresent) {
    const wanted = monitoring.enabled === true ? 'spec.monitoring.enabled is true, but ' : '';
    return {
      enabled: false,
      reason: 'PrometheusOperatorNotInstalled',
      message: `${wanted}the Prometheus Operator's CRDs (${PROMETHEUS_OPERATOR_CRDS.join(', ')}) are not installed; no ServiceMonitor or PrometheusRule was created`,
    };
  }
  return {
    enabled: true,
    reason: 'MonitoringEnabled',
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
    { apiVersion: MONITORING_API_VERSION, kind: 'ServiceMonitor', name },
    { apiVersion: MONITORING_API_VERSION, kind: 'PrometheusRule', name },
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
    apiVersion: MONITORING_API_VERSION,
    kind: 'ServiceMonitor',
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
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
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

const runbook = (alert: string): string => `${RUNBOOK_BASE_URL}#${alert.toLowerCase()}`;

/** The recording and alerting rules of one HelloWorld, as Prometheus rule groups. */
export function ruleGroups(hw: HelloWorld, spec: ResolvedSpec): RuleGroup[] {
  const { namespace, name } = hw.metadata;
  const { availability, latencyP99Ms } = spec.monitoring.slo;
  const target = `namespace="${namespace}",service="${name}"`;
  // Only the API's own routes are the SLI; probes and scrapes would dilute it.
  const requests = `${target},route=~"/hello.*"`;
  const by = 'sum by (namespace, service)';
  const budget = promNumber((100 - availability) / 100);
  const budgetPercent = promNumber(100 - availability);
  const latencySeconds = promNumber(latencyP99Ms / 1000);
  const shown = `${namespace}/${name}`;
  const common = { helloworld: name };

  const rates = SLI_WINDOWS.map((w) => ({
    record: `helloworld:http_requests:rate${w}`,
    expr: `${by} (rate(http_requests_total{${requests}}[${w}]))`,
  }));
  // `or ... * 0` records 0 rather than nothing while there are requests but no 5xx series yet.
  const errorRatio = (w: string): Rule => ({
    record: `helloworld:http_request_errors:ratio_rate${w}`,
    expr:
      `(${by} (rate(http_requests_total{${requests},status_code=~"5.."}[${w}])) or ` +
      `${by} (rate(http_requests_total{${requests}}[${w}])) * 0)\n/\n` +
      `${by} (rate(http_requests_total{${requests}}[${w}]))`,
  });
  const quantile = (percentile: 50 | 95 | 99, w: string): Rule => ({
    record: `helloworld:http_request_duration_seconds:p${String(percentile)}_${w}`,
    expr: `histogram_quantile(${promNumber(percentile / 100)}, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket{${requests}}[${w}])))`,
  });
  const targets: Rule[] = [
    {
      record: 'helloworld:slo_error_budget:ratio',
      expr: `vector(${budget})`,
      labels: { namespace, service: name },
    },
    {
      record: 'helloworld:slo_latency_p99:seconds',
      expr: `vector(${latencySeconds})`,
      labels: { namespace, service: name },
    },
  ];

  const burnAlerts: Rule[] = BURN_RATE_ALERTS.map((b) => ({
    alert: b.alert,
    expr:
      `helloworld:http_request_errors:ratio_rate${b.long}{${target}} > (${promNumber(b.factor)} * ${budget})\n` +
      `and\nhelloworld:http_request_errors:ratio_rate${b.short}{${target}} > (${promNumber(b.factor)} * ${budget})`,
    for: b.for,
    labels: { severity: b.severity, slo: 'availability', ...common },
    annotations: {
      summary: `${shown} is burning its error budget at ${promNumber(b.factor)}x the sustainable rate`,
      description:
        `{{ $value | humanizePercentage }} of /hello requests of ${shown} failed with a 5xx over the last ${b.long}, ` +
        `and over the last ${b.short} too. The availability SLO of ${promNumber(availability)}% leaves an error ` +
        `budget of ${budgetPercent}% of requests; at ${promNumber(b.factor)}x that rate the 30-day budget is gone ` +
        `in ${String(Math.round((30 / b.factor) * 10) / 10)} days.`,
      runbook_url: runbook(b.alert),
    },
  }));

  const p99 = (w: string): string =>
    `helloworld:http_request_duration_seconds:p99_${w}{${target}} > ${latencySeconds}`;
  const latencyAlerts: Rule[] = [
    {
      alert: 'HelloWorldLatencySLOBreach',
      expr: `${p99('1h')}\nand\n${p99('5m')}`,
      for: '5m',
      labels: { severity: 'critical', slo: 'latency', ...common },
      annotations: {
        summary: `${shown} answers /hello slower than its p99 latency SLO of ${String(latencyP99Ms)} ms`,
        description: `The 99th percentile of /hello latency of ${shown} is {{ $value | humanizeDuration }} over the last 5 minutes and above ${String(latencyP99Ms)} ms over the last hour.`,
        runbook_url: runbook('HelloWorldLatencySLOBreach'),
      },
    },
    {
      alert: 'HelloWorldLatencyDegraded',
      expr: `${p99('6h')}\nand\n${p99('30m')}`,
      for: '30m',
      labels: { severity: 'warning', slo: 'latency', ...common },
      annotations: {
        summary: `${shown} has been slower than its p99 latency SLO of ${String(latencyP99Ms)} ms for hours`,
        description: `The 99th percentile of /hello latency of ${shown} is {{ $value | humanizeDuration }} over the last 30 minutes and above ${String(latencyP99Ms)} ms over the last 6 hours.`,
        runbook_url: runbook('HelloWorldLatencyDegraded'),
      },
    },
  ];

  const rollback: Rule = {
    alert: 'HelloWorldRolledBack',
    // Set by the operator while the HelloWorld runs a rolled-back revision (status.lastRollback).
    expr: `max by (namespace, name, reason) (helloworld_rolled_back{namespace="${namespace}",name="${name}"}) > 0`,
    labels: { severity: 'warning', ...common },
    annotations: {
      summary: `The last rollout of ${shown} was rolled back ({{ $labels.reason }})`,
      description: `The operator rolled ${shown} back to its stable revision: the new revision ended with {{ $labels.reason }}. Users are served by the previous release; the failed one is not retried until the spec changes or hello.dev/retry is set.`,
      runbook_url: runbook('HelloWorldRolledBack'),
    },
  };

  return [
    {
      name: `helloworld-${namespace}-${name}.sli`,
      rules: [...rates, ...SLI_WINDOWS.map(errorRatio), errorRatio('3d')],
    },
    {
      name: `helloworld-${namespace}-${name}.latency`,
      rules: [...SLI_WINDOWS.flatMap((w) => [quantile(50, w), quantile(95, w), quantile(99, w)]), ...targets],
    },
    {
      name: `helloworld-${namespace}-${name}.alerts`,
      rules: [...burnAlerts, ...latencyAlerts, rollback, ...storageAlerts(hw, spec)],
    },
  ];
}

/** PVC alerts of the managed Redis; an external Redis is somebody else's disk. */
function storageAlerts(hw: HelloWorld, spec: ResolvedSpec): Rule[] {
  if (spec.redis.mode !== 'Managed') return [];
  const { namespace, name } = hw.metadata;
  const pvc = `data-${redisName(hw)}-0`;
  const volume = `namespace="${namespace}",persistentvolumeclaim="${pvc}"`;
  // max by: the kubelet of whichever node mounts the volume reports it; drop node and instance labels.
  const by = 'max by (namespace, persistentvolumeclaim)';
  const capacity = `${by} (kubelet_volume_stats_capacity_bytes{${volume}})`;
  const labels = (): Record<string, string> => ({ severity: 'warning', helloworld: name });
  return [
    {
      alert: 'HelloWorldRedisStorageFilling',
      expr: `${by} (kubelet_volume_stats_used_bytes{${volume}})\n/\n${capacity}\n> 0.8`,
      for: '15m',
      labels: labels(),
      annotations: {
        summary: `The Redis volume of ${namespace}/${name} is {{ $value | humanizePercentage }} full`,
        description: `PersistentVolumeClaim ${namespace}/${pvc} is over 80% full. When it is full Redis stops accepting writes and PUT /hello fails.`,
        runbook_url: runbook('HelloWorldRedisStorageFilling'),
      },
    },
    {
      alert: 'HelloWorldRedisStorageFullIn4Days',
      expr: `${by} (predict_linear(kubelet_volume_stats_used_bytes{${volume}}[6h], 4 * 24 * 3600))\n> ${capacity}`,
      for: '1h',
      labels: labels(),
      annotations: {
        summary: `The Redis volume of ${namespace}/${name} will be full within 4 days`,
        description: `At the growth of the last 6 hours, PersistentVolumeClaim ${namespace}/${pvc} runs out of space within 4 days. When it is full Redis stops accepting writes and PUT /hello fails.`,
        runbook_url: runbook('HelloWorldRedisStorageFullIn4Days'),
      },
    },
  ];
}
