/** The API's Express app on a real Redis store, silent, as the integration tests drive it. */
import { createApp } from '../../api/src/app.js';
import { redisTargetFromUrl, type RedisTarget } from '../../api/src/redis-config.js';
import { createApiMetrics, type ApiMetrics } from '../../api/src/metrics.js';
import { createRedisStore, type BirthdayStore } from '../../api/src/store.js';
import { createLogger } from '#common/logger.js';

export interface AppOnRedis {
  readonly app: ReturnType<typeof createApp>;
  readonly store: BirthdayStore;
  readonly metrics: ApiMetrics;
}

/** A short reconnect cap, so tests see recovery promptly once Redis is back. */
export function appOnRedis(redisUrl: string, commandTimeoutMs = 250): AppOnRedis {
  return appOnTarget(redisTargetFromUrl(redisUrl), commandTimeoutMs);
}

/** The same on any target: a cluster, TLS, an ACL user. */
export function appOnTarget(target: RedisTarget, commandTimeoutMs = 250): AppOnRedis {
  const logger = createLogger('test', 'silent');
  const store = createRedisStore({
    target,
    commandTimeoutMs,
    logger,
    maxReconnectDelayMs: 200,
  });
  const metrics = createApiMetrics();
  const app = createApp({ store, metrics, logger, readiness: { shuttingDown: false } });
  return { app, store, metrics };
}
