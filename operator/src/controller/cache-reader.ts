/**
 * ClusterReader over the shared informers: every read the reconciler makes is a map lookup or an index
 * lookup by instance, never a scan of all objects, and never a request to the API server (but for a
 * user's Secret, which the operator does not watch, a Deployment whose rollout is past its deadline, and
 * a child the cache does not hold, which may be someone else's object of that name).
 */
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import type { HelloWorld } from '../api/types.js';
import type { Informer } from '../runtime/informer.js';
import { MANAGED_BY_SELECTOR, WATCH_PATHS, type InformerFactory } from '../runtime/informers.js';
import type { KubeClient } from '../runtime/kube.js';
import type { ChildRef, ClusterReader } from './ports.js';

/** The watched kinds, by kind name, with the collection path their informer lists. */
const CHILD_PATHS: Record<string, string> = {
  Deployment: WATCH_PATHS.deployments,
  StatefulSet: WATCH_PATHS.statefulSets,
  Service: WATCH_PATHS.services,
  Secret: WATCH_PATHS.secrets,
  HorizontalPodAutoscaler: WATCH_PATHS.horizontalPodAutoscalers,
  PodDisruptionBudget: WATCH_PATHS.podDisruptionBudgets,
  NetworkPolicy: WATCH_PATHS.networkPolicies,
};

/** Watched only once the Prometheus Operator's CRDs exist (see prometheus-operator.ts). */
const MONITORING_PATHS: Record<string, string> = {
  ServiceMonitor: '/apis/monitoring.coreos.com/v1/servicemonitors',
  PrometheusRule: '/apis/monitoring.coreos.com/v1/prometheusrules',
};

export interface OperatorInformers {
  helloWorlds: Informer<HelloWorld>;
  children: Map<string, Informer<KubernetesObject>>;
  pods: Informer<V1Pod>;
  replicaSets: Informer<V1ReplicaSet>;
}

/**
 * Creates (but does not start) every informer the HelloWorld controller needs, in the namespaces the
 * factory watches.
 */
export function createOperatorInformers(factory: InformerFactory): OperatorInformers {
  const children = new Map<string, Informer<KubernetesObject>>();
  for (const [kind, path] of Object.entries(CHILD_PATHS))
    children.set(kind, factory.informer(path, MANAGED_BY_SELECTOR));
  return {
    helloWorlds: factory.informer<HelloWorld>(WATCH_PATHS.helloWorlds),
    children,
    pods: factory.informer<V1Pod>(WATCH_PATHS.pods, MANAGED_BY_SELECTOR, cachedPod),
    replicaSets: factory.informer<V1ReplicaSet>(WATCH_PATHS.replicaSets, MANAGED_BY_SELECTOR),
  };
}

/**
 * What the cache keeps of a pod: what the rollout judges by (metadata: revision, deletion; status:
 * readiness, container states and restarts). The spec and the rest of the status, two thirds of a
 * pod's JSON and never read, are dropped, and managedFields, as from every cached object.
 */
export function cachedPod(pod: V1Pod): V1Pod {
  const { conditions, containerStatuses, initContainerStatuses, phase } = pod.status ?? {};
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: withoutManagedFields(pod.metadata),
    status: { conditions, containerStatuses, initContainerStatuses, phase },
  };
}

function withoutManagedFields<T extends { managedFields?: unknown }>(metadata: T | undefined): T | undefined {
  if (metadata === undefined) return undefined;
  const copy = { ...metadata };
  delete copy.managedFields;
  return copy;
}

/** Adds the ServiceMonitor and PrometheusRule informers (not started) and returns them. */
export function addMonitoringInformers(
  informers: OperatorInformers,
  factory: InformerFactory,
): Informer<KubernetesObject>[] {
  return Object.entries(MONITORING_PATHS).map(([kind, path]) => {
    const informer = factory.informer(path, MANAGED_BY_SELECTOR);
    informers.children.set(kind, informer);
    return informer;
  });
}

export class CacheReader implements ClusterReader {
  constructor(
    private readonly informers: OperatorInformers,
    private readonly client: KubeClient,
  ) {}

  getHelloWorld(namespace: string, name: string): HelloWorld | undefined {
    return this.informers.helloWorlds.get(namespace, name);
  }

  getChild(ref: ChildRef): KubernetesObject | undefined {
    return this.informers.children.get(ref.kind)?.get(ref.namespace, ref.name);
  }

  readChild(ref: ChildRef): Promise<KubernetesObject | undefined> {
    return this.client.get(ref.apiVersion, ref.kind, ref.namespace, ref.name);
  }

  listPods(namespace: string, instance: string): V1Pod[] {
    return this.informers.pods.byInstance(namespace, instance).filter(isApi);
  }

  listReplicaSets(namespace: string, instance: string): V1ReplicaSet[] {
    return this.informers.replicaSets.byInstance(namespace, instance).filter(isApi);
  }

  readUserSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.client.get<V1Secret>('v1', 'Secret', namespace, name);
  }

  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    return this.client.get<V1Deployment>('apps/v1', 'Deployment', namespace, name);
  }
}

const isApi = (obj: KubernetesObject): boolean =>
  obj.metadata?.labels?.['app.kubernetes.io/component'] === 'api';
