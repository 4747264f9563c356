/**
 * The API's configuration, read from the environment once at start-up. A bad value throws a ConfigError
 * naming the variable; main.ts prints that one line and exits 1.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, LOG_LEVELS, readEnum, readFloat, readInt, type LogLevel } from '#common/env.js';
import { describeRedis, loadRedisTarget, type ReadFile, type RedisTarget } from './redis-config.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ApiConfig {
  readonly port: number;
  readonly redis: RedisTarget;
  /** Upper bound on one Redis command, so a hung Redis yields a fast 503 instead of a stuck request. */
  readonly redisCommandTimeoutMs: number;
  /**
   * At start, how long to wait for Redis's first answer before reporting ready without it; 0: until it
   * answers. Only the first answer counts: a pod that has reached Redis once stays ready through outages.
   */
  readonly startupStorageWaitMs: number;
  readonly logLevel: LogLevel;
  /** After SIGTERM, keep serving this long with readiness 503 so endpoints are removed first. */
  readonly shutdownDrainMs: number;
  /** Hard limit from SIGTERM to exit. */
  readonly shutdownTimeoutMs: number;
  readonly chaos: { readonly errorRate: number; readonly latencyMs: number };
}

export function loadConfig(env: Env, readFile: ReadFile = readFileSync): ApiConfig {
  const shutdownDrainMs = readInt(env, 'SHUTDOWN_DRAIN_MS', 5000, 0, 600_000);
  const shutdownTimeoutMs = readInt(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 1000, 3_600_000);
  if (shutdownDrainMs >= shutdownTimeoutMs) {
    throw new ConfigError(
      `SHUTDOWN_DRAIN_MS (${shutdownDrainMs}) must be less than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs})`,
    );
  }
  return {
    port: readInt(env, 'PORT', 8080, 1, 65535),
    redis: loadRedisTarget(env, readFile),
    redisCommandTimeoutMs: readInt(env, 'REDIS_COMMAND_TIMEOUT_MS', 250, 10, 10_000),
    startupStorageWaitMs: readInt(env, 'STARTUP_STORAGE_WAIT_MS', 0, 0, 600_000),
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownDrainMs,
    shutdownTimeoutMs,
    chaos: {
      errorRate: readFloat(env, 'CHAOS_ERROR_RATE', 0, 0, 1),
      latencyMs: readInt(env, 'CHAOS_LATENCY_MS', 0, 0, 60_000),
    },
  };
}

/** The configuration as it may be logged: no URL, no password. */
export function describeConfig(config: ApiConfig): Record<string, unknown> {
  const { redis, ...rest } = config;
  return { ...rest, redis: describeRedis(redis) };
}
