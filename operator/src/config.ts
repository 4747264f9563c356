/** The operator's settings, read once from the environment. */
import {
  ConfigError,
  LOG_LEVELS,
  readBoolean,
  readEnum,
  readInt,
  readOptionalString,
  readString,
  type LogLevel,
} from '#common/env.js';
import {
  LEASE_DURATION_MS,
  leaseTimingProblem,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
  type LeaseTimings,
} from './runtime/leader.js';
import { loadNotifyConfig, type NotifyConfig } from './notify/config.js';

export interface OperatorConfig {
  logLevel: LogLevel;
  /** Port of /metrics, /healthz and /readyz. */
  opsPort: number;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  /** Lease duration, renew deadline and retry period (client-go's 15 s, 10 s, 2 s by default). */
  lease: LeaseTimings;
  workers: number;
  /** Reconcile HelloWorlds of these namespaces only; all namespaces when unset. */
  watchNamespaces?: readonly string[];
  shutdownTimeoutMs: number;
  /** The default webhook, blocked address ranges and delivery limits (docs/notifications.md). */
  notifications: NotifyConfig;
}

export function loadConfig(env: NodeJS.ProcessEnv): OperatorConfig {
  return {
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    opsPort: readInt(env, 'METRICS_PORT', 8081, 0, 65535),
    leaderElection: readBoolean(env, 'LEADER_ELECTION', true),
    // In a pod the Downward API gives POD_NAMESPACE; a local process uses `default`.
    leaseNamespace: readString(env, 'LEASE_NAMESPACE', readString(env, 'POD_NAMESPACE', 'default')),
    leaseName: readString(env, 'LEASE_NAME', 'helloworld-operator'),
    lease: readLeaseTimings(env),
    workers: readInt(env, 'WORKERS', 4, 1, 64),
    watchNamespaces: readNamespaceList(env, 'WATCH_NAMESPACE'),
    shutdownTimeoutMs: readInt(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 1000, 600_000),
    notifications: loadNotifyConfig(env),
  };
}

function readLeaseTimings(env: NodeJS.ProcessEnv): LeaseTimings {
  const timings = {
    leaseDurationMs: readInt(env, 'LEASE_DURATION_MS', LEASE_DURATION_MS, 2000, 600_000),
    renewDeadlineMs: readInt(env, 'RENEW_DEADLINE_MS', RENEW_DEADLINE_MS, 500, 600_000),
    retryPeriodMs: readInt(env, 'RETRY_PERIOD_MS', RETRY_PERIOD_MS, 100, 600_000),
  };
  const problem = leaseTimingProblem(timings);
  if (problem !== undefined) {
    throw new ConfigError(`LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS: ${problem}`);
  }
  return timings;
}

/** A namespace name is a DNS-1123 label: what the API server itself accepts. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL_LENGTH = 63;

/** True for a DNS-1123 label (a namespace name, and every valid HelloWorld name). */
export function isDns1123Label(value: string): boolean {
  return value.length <= MAX_LABEL_LENGTH && DNS_1123_LABEL.test(value);
}

/**
 * A comma-separated list of namespace names (`team-a,team-b`), or undefined when the variable is unset.
 * A name the API server would refuse is an error here: in a URL path it would reach another resource.
 */
export function readNamespaceList(env: NodeJS.ProcessEnv, name: string): readonly string[] | undefined {
  const value = readOptionalString(env, name);
  if (value === undefined) return undefined;
  const namespaces = value.split(',').map((item) => item.trim());
  for (const [index, namespace] of namespaces.entries()) {
    if (namespace === '') {
      throw new ConfigError(
        `${name} has an empty entry (item ${index + 1} of "${value}"); list names like a,b`,
      );
    }
    if (!isDns1123Label(namespace)) {
      throw new ConfigError(
        `${name}: "${namespace}" is not a namespace name (at most ${MAX_LABEL_LENGTH} lower-case letters, ` +
          'digits and "-", starting and ending with a letter or digit)',
      );
    }
    if (namespaces.indexOf(namespace) !== index) {
      throw new ConfigError(`${name} lists "${namespace}" twice`);
    }
  }
  return namespaces;
}
