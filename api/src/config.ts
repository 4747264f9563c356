/**
 * The API's configuration, read from the environment once at start-up. A bad value throws a ConfigError
 * naming the variable; main.ts prints that one line and exits 1.
 */
import {
  ConfigError,
  LOG_LEVELS,
  readEnum,
  readFloat,
  readInt,
  readOptionalString,
  readString,
  type LogLevel,
} from '#common/env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where Redis is, split out of REDIS_URL so that the URL (and its password) never needs logging. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

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

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function parseRedisUrl(value: string, passwordOverride: string | undefined): RedisTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('REDIS_URL must be a URL like redis://host:6379 or rediss://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must use redis:// or rediss://, got "${url.protocol}//"`);
  }
  if (url.hostname === '') throw new ConfigError('REDIS_URL must name a host');
  const dbPath = url.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d{1,2}$/.test(dbPath)) {
    throw new ConfigError('REDIS_URL path must be a database number such as /0');
  }
  const decode = (s: string): string | undefined => {
    if (s === '') return undefined;
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ConfigError('REDIS_URL credentials are not valid percent-encoding');
    }
  };
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // IPv6 literals come bracketed
    port: url.port === '' ? 6379 : Number(url.port),
    tls: url.protocol === 'rediss:',
    db: dbPath === '' ? 0 : Number(dbPath),
    username: decode(url.username),
    password: passwordOverride ?? decode(url.password),
  };
}

export function loadConfig(env: Env): ApiConfig {
  const shutdownDrainMs = readInt(env, 'SHUTDOWN_DRAIN_MS', 5000, 0, 600_000);
  const shutdownTimeoutMs = readInt(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 1000, 3_600_000);
  if (shutdownDrainMs >= shutdownTimeoutMs) {
    throw new ConfigError(
      `SHUTDOWN_DRAIN_MS (${shutdownDrainMs}) must be less than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs})`,
    );
  }
  return {
    port: readInt(env, 'PORT', 8080, 1, 65535),
    redis: parseRedisUrl(
      readString(env, 'REDIS_URL', DEFAULT_REDIS_URL),
      readOptionalString(env, 'REDIS_PASSWORD'),
    ),
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
  return {
    ...rest,
    redis: {
      host: redis.host,
      port: redis.port,
      tls: redis.tls,
      db: redis.db,
      auth: redis.password !== undefined,
    },
  };
}
