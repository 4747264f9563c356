/**
 * The operator process: configuration, Kubernetes client, operations server, leader election, the
 * HelloWorld controller, and graceful shutdown. Only wiring lives here.
 */
import { ConfigError } from '#common/env.js';
import { createLogger } from '#common/logger.js';
import { loadConfig, type OperatorConfig } from './config.js';
import { createController } from './controller/helloworld-controller.js';
import { OperatorMetrics } from './controller/metrics.js';
import { loadConnection } from './runtime/connection.js';
import { defaultIdentity, LeaderElector } from './runtime/leader.js';
import { HttpKubeRest } from './runtime/rest.js';
import { openGate } from './runtime/write-gate.js';
import { createOpsServer, operatorReadiness } from './runtime/server.js';
import { backgroundVerifier } from './verification/background.js';
import { apiServerProxy } from './verification/pod-http.js';
import { createProber } from './verification/prober.js';
import { createVerifier } from './verification/verifier.js';

async function main(config: OperatorConfig): Promise<void> {
  const logger = createLogger('helloworld-operator', config.logLevel);
  const connection = await loadConnection();
  const identity = defaultIdentity();
  logger.info(
    {
      credentials: connection.source,
      identity,
      leaderElection: config.leaderElection,
      namespaces: config.watchNamespaces?.join(',') ?? '(all)',
      // Whether there is one, never its URL: it carries a token.
      defaultWebhook: config.notifications.defaultWebhook ? 'configured' : 'none',
    },
    'starting',
  );

  const metrics = new OperatorMetrics();
  const podHttp = apiServerProxy(connection);
  const elector = config.leaderElection
    ? new LeaderElector({
        rest: new HttpKubeRest(connection),
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity,
        logger,
        ...config.lease,
        onLeaderChange: (leading) => {
          metrics.leader.set(leading ? 1 : 0);
        },
      })
    : undefined;
  const controller = createController({
    connection,
    logger,
    metrics,
    // Off the workers: a tenant whose pods hang must not stall the others' reconciles.
    // Probe traffic runs on the prober's own timer, beside the background verification.
    verifier: backgroundVerifier({
      ...createVerifier(podHttp),
      prober: createProber(podHttp, {
        onProbe: (outcome, n) => {
          metrics.probes.inc({ outcome }, n);
        },
      }),
    }),
    workers: config.workers,
    namespaces: config.watchNamespaces,
    identity,
    // Every write of the controller (applies, status patches, deletes, Events) passes this gate.
    writeGate: elector?.writeGate() ?? openGate,
    notifications: config.notifications,
  });

  let healthy = true;
  const stopping = new AbortController();
  const server = createOpsServer({
    port: config.opsPort,
    registry: metrics.registry,
    logger,
    healthy: () => healthy,
    ready: operatorReadiness({
      healthy: () => healthy,
      isLeader: () => elector?.isLeader() ?? true,
      informersSynced: () => controller.informersSynced(),
    }),
  });
  const port = await server.listen();
  logger.info({ port }, 'serving /metrics, /healthz and /readyz');

  let exitCode = 0;
  const shutdown = async (reason: string): Promise<void> => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    await controller.stop();
    await elector?.release();
    await server.close();
    logger.info('stopped');
    process.exit(exitCode);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  controller.startInformers();
  const lead = (): void => {
    controller.run(stopping.signal).catch((error: unknown) => {
      healthy = false;
      logger.fatal({ err: error }, 'controller stopped unexpectedly');
      exitCode = 1;
      void shutdown('controller failure');
    });
  };
  if (!elector) {
    metrics.leader.set(1);
    lead();
    return;
  }
  await elector.run({
    onStartedLeading: () => {
      logger.info('became the leader');
      lead();
    },
    onStoppedLeading: () => {
      // Another replica may soon be writing. The write gate already refuses and aborts every write of
      // this process; exit now rather than drain work that can no longer be written.
      logger.error('lost the leader lease; exiting');
      process.exit(1);
    },
  });
}

let config: OperatorConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`helloworld-operator: ${error.message}\n`);
  process.exit(1);
}
await main(config);
