/**
 * Storage of dates of birth in Redis. The app only sees the small BirthdayStore interface; every failure
 * surfaces as a StorageError, which the app answers with 503, or 507 when Redis refused a write because
 * it reached its memory limit (`full`).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '#common/logger.js';
import { redisMode, type RedisMode, type RedisTarget } from './redis-config.js';

export type StoreOperation = 'get' | 'set' | 'ping';

export interface BirthdayStore {
  /** The stored ISO date, or null for an unknown user. */
  get(username: string): Promise<string | null>;
  /** Saves or replaces the date in one atomic write. */
  set(username: string, isoDate: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Standalone or cluster, TLS or not: what health, readiness and metrics report. */
  readonly mode: RedisMode;
}

/**
 * Redis's answer to a write once used memory exceeds `maxmemory` under `maxmemory-policy noeviction`:
 * "OOM command not allowed when used memory > 'maxmemory'.".
 */
const OUT_OF_MEMORY_REPLY = /^OOM /;

export class StorageError extends Error {
  /** Redis answered, but refused the write: it is at its memory limit. Not an outage; retrying won't help. */
  readonly full: boolean;

  constructor(
    readonly operation: StoreOperation,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`storage ${operation} failed: ${message}`, { cause });
    this.name = 'StorageError';
    this.full = OUT_OF_MEMORY_REPLY.test(message);
  }
}

export const KEY_PREFIX = 'hello:user:';

export interface RedisStoreOptions {
  readonly target: RedisTarget;
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
  /** Reconnect backoff cap; short so the service recovers promptly once Redis is back. */
  readonly maxReconnectDelayMs?: number;
}

/** Capped exponential backoff with jitter, so replicas do not reconnect in lockstep. */
export function reconnectDelay(attempt: number, capMs: number, random: () => number = Math.random): number {
  const base = Math.min(capMs, 50 * 2 ** Math.min(attempt - 1, 10));
  return Math.round(base / 2 + (random() * base) / 2);
}

export interface RedisStore extends BirthdayStore {
  /** Resolves when the client has connected for the first time (never rejects; may never resolve). */
  readonly firstConnection: Promise<void>;
}

/**
 * What a failed connection means to the person reading the log: the cause, and the setting to check. The
 * password never appears in any of these (Redis's own messages do not carry it either).
 */
export function explainConnectionError(error: Error): string {
  // The cluster client reports "Failed to refresh slots cache." and keeps the node's own error aside.
  const err = (error as { lastNodeError?: Error }).lastNodeError ?? error;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (/^WRONGPASS|^NOAUTH|^NOPERM/.test(err.message)) {
    return 'Redis refused the credentials: check REDIS_USERNAME and REDIS_PASSWORD (or REDIS_PASSWORD_FILE)';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return 'the Redis TLS certificate is not issued for the name the API checks: check REDIS_TLS_SERVER_NAME';
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return 'the Redis TLS certificate is not signed by a trusted CA: check REDIS_TLS_CA_FILE';
  }
  if (
    /^ERR_SSL|^EPROTO$/.test(code) ||
    /wrong version number|ssl3_get_record|packet length/i.test(err.message)
  ) {
    return 'the TLS handshake with Redis failed: check that the server speaks TLS on this port (rediss://) or not (redis://)';
  }
  return 'cannot reach Redis';
}

/** Options every connection takes, standalone or to each node of a cluster. */
function connectionOptions(target: RedisTarget, commandTimeoutMs: number): RedisOptions {
  const { tls } = target;
  return {
    username: target.username,
    password: target.password,
    tls:
      tls === undefined
        ? undefined
        : {
            // Node checks the certificate against `servername` when it is set: the override, or the host of
            // REDIS_URL, also for cluster nodes the seed announced by IP address.
            servername: tls.serverName ?? target.host,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          },
    connectionName: 'helloworld-api',
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    // A hung server (pending replies, no data) gets its socket dropped and a fresh connection.
    socketTimeout: Math.max(1000, commandTimeoutMs * 4),
    connectTimeout: Math.max(1000, commandTimeoutMs * 4),
  };
}

function createClient(
  target: RedisTarget,
  commandTimeoutMs: number,
  reconnectCapMs: number,
): Redis | Cluster {
  const retryStrategy = (attempt: number): number => reconnectDelay(attempt, reconnectCapMs);
  if (target.topology === 'standalone') {
    return new Redis({
      ...connectionOptions(target, commandTimeoutMs),
      host: target.host,
      port: target.port,
      db: target.db,
      // Fail fast while disconnected instead of queueing requests without bound.
      enableOfflineQueue: false,
      retryStrategy,
      // Concurrent requests share one write to the socket: fewer syscalls, same one-command-per-request.
      enableAutoPipelining: true,
    });
  }
  // The configuration endpoint is only the seed: the client learns every shard's primary from it and
  // follows MOVED redirections and failovers by itself.
  return new Cluster([{ host: target.host, port: target.port }], {
    redisOptions: connectionOptions(target, commandTimeoutMs),
    enableOfflineQueue: false,
    clusterRetryStrategy: retryStrategy,
    enableAutoPipelining: true,
    // During a failover, retry a few times a little later (each bounded by the command timeout), then 503.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 6,
    slotsRefreshTimeout: Math.max(1000, commandTimeoutMs * 4),
    slotsRefreshInterval: 2000,
    // Managed clusters announce nodes by name; resolving here would lose the name TLS certificates carry.
    dnsLookup: (address, callback) => {
      callback(null, address);
    },
  });
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const { target, commandTimeoutMs, logger } = options;
  const redis = createClient(target, commandTimeoutMs, options.maxReconnectDelayMs ?? 1000);
  const mode = redisMode(target);

  const firstConnection = new Promise<void>((resolve) => {
    redis.once('ready', () => {
      resolve();
    });
  });

  // Log transitions, not every failed reconnect attempt.
  let healthy = false;
  let loggedDown = false;
  redis.on('ready', () => {
    healthy = true;
    loggedDown = false;
    logger.info({ host: target.host, port: target.port, ...mode }, 'connected to Redis');
  });
  redis.on('error', (err: Error) => {
    if (healthy || !loggedDown) {
      logger.warn(
        { err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, ...mode },
        `Redis connection error: ${explainConnectionError(err)}`,
      );
    }
    healthy = false;
    loggedDown = true;
  });
  redis.on('close', () => {
    if (healthy) logger.warn('Redis connection closed; reconnecting');
    healthy = false;
  });

  const run = async <T>(operation: StoreOperation, command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (err) {
      throw new StorageError(operation, err);
    }
  };

  return {
    mode,
    firstConnection,
    get: (username) => run('get', () => redis.get(KEY_PREFIX + username)),
    set: (username, isoDate) =>
      run('set', async () => {
        // A plain SET: one atomic write, and it clears any TTL a key might have had.
        await redis.set(KEY_PREFIX + username, isoDate);
      }),
    ping: () =>
      run('ping', async () => {
        await redis.ping();
      }),
    close: async () => {
      if (redis.status === 'end') return;
      try {
        await Promise.race([
          redis.quit(),
          new Promise((_, reject) => setTimeout(reject, commandTimeoutMs * 4).unref()),
        ]);
      } catch {
        redis.disconnect();
      }
    },
  };
}
