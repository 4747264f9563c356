/**
 * The HelloWorld controller assembled from the runtime parts: informers feed a work queue with
 * HelloWorld keys (children map to their owner), workers reconcile. Level-triggered: handlers only
 * enqueue keys; reconcile reads everything from the caches.
 */
import type { Logger } from '#common/logger.js';
import { createWorkQueue, enqueueObject, enqueueOwner, instrument } from '../runtime/controller-loop.js';
import { EventRecorder } from '../runtime/events.js';
import type { Connection } from '../runtime/connection.js';
import { InformerFactory } from '../runtime/informer-factory.js';
import { KINDS } from '../crd/kinds.js';
import { INSTANCE_LABEL, OPERATOR_NAME } from '../crd/labels.js';
import { KubeClient } from '../runtime/kube.js';
import { HttpKubeRest } from '../runtime/rest.js';
import { gateWrites, type WriteGate } from '../runtime/write-gate.js';
import type { Verifier } from '../verification/types.js';
import { addMonitoringInformers, CacheReader, createOperatorInformers } from './cache-reader.js';
import { CLIENT_OPTIONS } from './client-options.js';
import type { OperatorMetrics } from './metrics.js';
import { PrometheusOperatorDiscovery } from './prometheus-operator.js';
import { RolledBackGauge } from './rollback-gauge.js';
import { reportBackup } from './backup-gauge.js';
import type { BackupStatus, DryRunCheck } from '../crd/types.js';
import { reconcile } from './reconcile.js';
import { StatusWrites } from './status-writes.js';
import type { NotifyConfig } from '../notify/config.js';
import { postWebhook } from '../notify/http.js';
import { NotificationSender } from '../notify/sender.js';
import { systemClock } from '../runtime/clock.js';

export interface ControllerOptions {
  connection: Connection;
  logger: Logger;
  metrics: OperatorMetrics;
  verifier: Verifier;
  workers: number;
  /** Watch and reconcile only these namespaces; all namespaces when undefined. */
  namespaces?: readonly string[];
  /** Identifies this replica on the Events it records. */
  identity: string;
  /** Every API write passes it: the leader's (leader.ts), or `openGate` for a single replica. */
  writeGate: WriteGate;
  now?: () => Date;
  /** Rollout transitions to webhooks; off when absent. */
  notifications?: NotifyConfig;
}

export interface Controller {
  /** Starts the informers (warm caches make a leader change fast); workers wait for `run`. */
  startInformers(): void;
  /** Waits for the caches, then reconciles until `stop`. */
  run(signal: AbortSignal): Promise<void>;
  informersSynced(): boolean;
  stop(): Promise<void>;
  client: KubeClient;
}

export function createController(options: ControllerOptions): Controller {
  const { connection, logger, metrics } = options;
  const rest = gateWrites(new HttpKubeRest(connection), options.writeGate);
  const client = new KubeClient(rest, {
    ...CLIENT_OPTIONS,
    onWrite: (verb, kind) => {
      metrics.kubeWrites.inc({ verb, kind });
    },
  });
  const factory = InformerFactory.fromConnection(connection, logger, metrics, options.namespaces);
  const informers = createOperatorInformers(factory);
  const queue = createWorkQueue(metrics);

  informers.helloWorlds.addHandler(enqueueObject(queue));
  const toOwner = enqueueOwner(queue, { kind: KINDS.HelloWorld.kind, nameLabel: INSTANCE_LABEL });
  for (const informer of informers.children.values()) informer.addHandler(toOwner);
  informers.pods.addHandler(toOwner);
  informers.replicaSets.addHandler(toOwner);

  // Once the Prometheus Operator is installed: watch its kinds, then look at every HelloWorld again.
  const discovery = new PrometheusOperatorDiscovery(rest, logger, {
    firstInstalled: () => {
      for (const informer of addMonitoringInformers(informers, factory)) {
        informer.addHandler(toOwner);
        informer.start();
      }
    },
    changed: () => {
      for (const hw of informers.helloWorlds.list())
        queue.add(`${hw.metadata.namespace}/${hw.metadata.name}`);
    },
  });

  const rolledBack = new RolledBackGauge(metrics.rolledBack);
  const reader = new CacheReader(informers, client);
  const notifier = options.notifications && {
    defaultWebhook: options.notifications.defaultWebhook,
    sender: new NotificationSender({
      post: postWebhook,
      readSecret: (namespace, name) => reader.readUserSecret(namespace, name),
      blocked: options.notifications.blocked,
      limits: options.notifications.limits,
      clock: systemClock,
      onReport: (namespace, name) => {
        queue.add(`${namespace}/${name}`);
      },
      onOutcome: (outcome) => {
        metrics.notifications.inc({ outcome });
      },
    }),
    onDropped: (count: number) => {
      metrics.notifications.inc({ outcome: 'dropped' }, count);
    },
  };
  const deps = {
    notifier,
    reader,
    writer: client,
    statusWrites: new StatusWrites(),
    events: new EventRecorder({ rest, logger, component: OPERATOR_NAME, instance: options.identity }),
    verifier: options.verifier,
    prometheusOperatorInstalled: () => discovery.present(),
    now: options.now ?? (() => new Date()),
    onRolledBack: (namespace: string, name: string, reason: string | undefined) => {
      rolledBack.report(namespace, name, reason);
    },
    onBackup: (
      namespace: string,
      name: string,
      status: BackupStatus | undefined,
      since: Date | undefined,
    ) => {
      reportBackup(metrics.backup, namespace, name, status, since);
    },
    onRollback: (reason: string) => {
      metrics.rollbacks.inc({ reason });
    },
    onDryRunFailure: (namespace: string, name: string, check: DryRunCheck) => {
      metrics.dryRunFailures.inc({ namespace, name, check });
    },
  };
  const handler = instrument((request, log) => reconcile(deps, request, log), { logger, metrics });
  let running: Promise<void> | undefined;

  return {
    client,
    startInformers: () => {
      factory.start();
    },
    informersSynced: () => factory.hasSynced(),
    async run(signal) {
      await discovery.start();
      if (!(await factory.waitForSync(signal))) return;
      logger.info({ workers: options.workers }, 'caches synced; reconciling');
      running = queue.run(options.workers, handler);
      await running;
    },
    async stop() {
      discovery.stop();
      notifier?.sender.stop();
      await queue.shutDown();
      await running;
      await factory.stop();
    },
  };
}
