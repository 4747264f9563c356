/**
 * ClusterReader over the shared informers: every read the reconciler makes is a map lookup or an index
 * lookup by instance, never a scan of all objects, and never a request to the API server (but for a
 * user's Secret, which the operator does not watch, a Deployment whose rollout is past its deadline, and
 * a child the cache does not hold, which may be someone else's object of that name).
 */
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import { KINDS, type Kind } from '../crd/kinds.js';
import { COMPONENT_LABEL, INSTANCE_LABEL, MANAGED_BY_SELECTOR } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { MONITORING_KINDS } from '../builders/monitoring.js';
import type { Informer } from '../runtime/informer.js';
import type { InformerFactory } from '../runtime/informer-factory.js';
import type { KubeClient } from '../runtime/kube.js';
import { collectionPath } from '../runtime/rest.js';
import { labelIndex } from '../runtime/store.js';
import type { ChildRef, ClusterReader } from './cluster-reader.js';
import { gateManagedFields } from '../rollout/gates.js';

/** The children the operator applies, each watched (through the managed-by label) by its kind. */
const CHILD_KINDS: readonly Kind[] = [
  KINDS.Deployment,
  KINDS.StatefulSet,
  KINDS.Service,
  KINDS.Secret,
  KINDS.ServiceAccount,
  KINDS.HorizontalPodAutoscaler,
  KINDS.PodDisruptionBudget,
  KINDS.NetworkPolicy,
  KINDS.CronJob,
  KINDS.PersistentVolumeClaim,
];

/** Pods and ReplicaSets are found by the instance label (their owners are children, not the HelloWorld). */
const INSTANCE_INDEX = 'instance';

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
  for (const kind of CHILD_KINDS)
    children.set(kind.kind, factory.informer(collectionPath(kind), MANAGED_BY_SELECTOR));
  const pods = factory.informer<V1Pod>(collectionPath(KINDS.Pod), MANAGED_BY_SELECTOR, cachedPod);
  const replicaSets = factory.informer<V1ReplicaSet>(collectionPath(KINDS.ReplicaSet), MANAGED_BY_SELECTOR);
  for (const informer of [pods, replicaSets]) informer.addIndex(INSTANCE_INDEX, labelIndex(INSTANCE_LABEL));
  return {
    helloWorlds: factory.informer<HelloWorld>(collectionPath(KINDS.HelloWorld), undefined, cachedHelloWorld),
    children,
    pods,
    replicaSets,
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

/** A HelloWorld keeps of its managedFields only who owns a gate annotation (events name who acted). */
export function cachedHelloWorld(hw: HelloWorld): HelloWorld {
  const metadata = { ...hw.metadata };
  const gates = gateManagedFields(metadata);
  if (gates === undefined) delete metadata.managedFields;
  else metadata.managedFields = gates;
  return { ...hw, metadata };
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
  return MONITORING_KINDS.map((kind) => {
    const informer = factory.informer(collectionPath(kind), MANAGED_BY_SELECTOR);
    informers.children.set(kind.kind, informer);
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
    return this.informers.pods.byIndex(INSTANCE_INDEX, `${namespace}/${instance}`).filter(isApi);
  }

  listBackupPods(namespace: string, instance: string): V1Pod[] {
    return this.informers.pods
      .byIndex(INSTANCE_INDEX, `${namespace}/${instance}`)
      .filter((pod) => pod.metadata?.labels?.[COMPONENT_LABEL] === 'redis-backup');
  }

  listReplicaSets(namespace: string, instance: string): V1ReplicaSet[] {
    return this.informers.replicaSets.byIndex(INSTANCE_INDEX, `${namespace}/${instance}`).filter(isApi);
  }

  readUserSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.client.get<V1Secret>(KINDS.Secret.apiVersion, KINDS.Secret.kind, namespace, name);
  }

  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    return this.client.get<V1Deployment>(KINDS.Deployment.apiVersion, KINDS.Deployment.kind, namespace, name);
  }
}

const isApi = (obj: KubernetesObject): boolean => obj.metadata?.labels?.[COMPONENT_LABEL] === 'api';
