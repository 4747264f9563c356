/** Entry point of the API: configuration, wiring, signals. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '#common/env.js';
import { createLogger } from '#common/logger.js';
import { createApp } from './app.js';
import { describeConfig, loadConfig, type ApiConfig } from './config.js';
import { createApiMetrics } from './metrics.js';
import { startServer, type MutableLifecycle } from './server.js';
import { createRedisStore } from './store.js';

const SERVICE = 'helloworld-api';
// Request lines are batched per event-loop turn and flushed synchronously at exit; every logger of the
// process uses the same setting so that lines keep their order.
const LOG = { buffered: true } as const;

function readConfig(): ApiConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger(SERVICE, 'info', LOG).fatal(`invalid configuration: ${err.message}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(SERVICE, config.logLevel, LOG);
  logger.info({ config: describeConfig(config) }, 'starting');
  if (config.chaos.errorRate > 0 || config.chaos.latencyMs > 0) {
    logger.warn(
      { chaos: config.chaos },
      `CHAOS ENABLED: ${config.chaos.errorRate * 100}% of /hello requests will fail with 500 and each ` +
        `will be delayed ${config.chaos.latencyMs} ms. Never run this in production.`,
    );
  }

  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled promise rejection');
    process.exit(1);
  });

  const store = createRedisStore({
    target: config.redis,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    logger,
  });
  // Ready once Redis has answered for the first time (or after STARTUP_STORAGE_WAIT_MS without it, when
  // set): a new pod, or a new HelloWorld whose Redis is still starting, takes no traffic and is not
  // verified before it can serve. After that first answer readiness never depends on Redis, so an outage
  // does not make every pod unready at once (see Lifecycle in routes.ts).
  const lifecycle: MutableLifecycle = { shuttingDown: false, starting: true };
  const startupWait =
    config.startupStorageWaitMs > 0 ? [sleep(config.startupStorageWaitMs, undefined, { ref: false })] : [];
  void Promise.race([store.firstConnection, ...startupWait]).then(() => {
    lifecycle.starting = false;
  });
  const metrics = createApiMetrics();
  const app = createApp({ store, metrics, logger, readiness: lifecycle, chaos: config.chaos });
  const running = await startServer({
    app,
    lifecycle,
    store,
    logger,
    port: config.port,
    shutdownDrainMs: config.shutdownDrainMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    void running.shutdown(signal).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  createLogger(SERVICE, 'info', LOG).fatal({ err }, 'failed to start');
  process.exit(1);
});
