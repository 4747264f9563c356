/**
 * Storage of dates of birth in Redis. The app only sees the small BirthdayStore interface; every failure
 * surfaces as a StorageError, which the app answers with 503, or 507 when Redis refused a write because
 * it reached its memory limit (`full`).
 */
import { Redis } from 'ioredis';
import type { Logger } from '#common/logger.js';
import type { RedisTarget } from './config.js';

export type StoreOperation = 'get' | 'set' | 'ping';

export interface BirthdayStore {
  /** The stored ISO date, or null for an unknown user. */
  get(username: string): Promise<string | null>;
  /** Saves or replaces the date in one atomic write. */
  set(username: string, isoDate: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
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

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const { target, commandTimeoutMs, logger } = options;
  const cap = options.maxReconnectDelayMs ?? 1000;
  const redis = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    username: target.username,
    password: target.password,
    tls: target.tls ? { servername: target.host } : undefined,
    connectionName: 'helloworld-api',
    // Fail fast while disconnected instead of queueing requests without bound.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    // A hung server (pending replies, no data) gets its socket dropped and a fresh connection.
    socketTimeout: Math.max(1000, commandTimeoutMs * 4),
    connectTimeout: Math.max(1000, commandTimeoutMs * 4),
    retryStrategy: (attempt) => reconnectDelay(attempt, cap),
    // Concurrent requests share one write to the socket: fewer syscalls, same one-command-per-request.
    enableAutoPipelining: true,
  });

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
    logger.info({ host: target.host, port: target.port, tls: target.tls }, 'connected to Redis');
  });
  redis.on('error', (err: Error) => {
    if (healthy || !loggedDown) logger.warn({ err: { message: err.message } }, 'Redis connection error');
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
