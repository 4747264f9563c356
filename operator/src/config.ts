/** The operator's settings, read once from the environment. */
import {
  LOG_LEVELS,
  readBoolean,
  readEnum,
  readInt,
  readOptionalString,
  readString,
  type LogLevel,
} from '#common/env.js';

export interface OperatorConfig {
  logLevel: LogLevel;
  /** Port of /metrics, /healthz and /readyz. */
  opsPort: number;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  workers: number;
  /** Reconcile HelloWorlds of this namespace only; all namespaces when unset. */
  watchNamespace?: string;
  shutdownTimeoutMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv): OperatorConfig {
  return {
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    opsPort: readInt(env, 'METRICS_PORT', 8081, 0, 65535),
    leaderElection: readBoolean(env, 'LEADER_ELECTION', true),
    // In a pod the Downward API gives POD_NAMESPACE; a local process uses `default`.
    leaseNamespace: readString(env, 'LEASE_NAMESPACE', readString(env, 'POD_NAMESPACE', 'default')),
    leaseName: readString(env, 'LEASE_NAME', 'helloworld-operator'),
    workers: readInt(env, 'WORKERS', 4, 1, 64),
    watchNamespace: readOptionalString(env, 'WATCH_NAMESPACE'),
    shutdownTimeoutMs: readInt(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 1000, 600_000),
  };
}
