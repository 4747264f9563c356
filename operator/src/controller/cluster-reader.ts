/**
 * What the reconciler reads from the world, as one small interface. CacheReader (cache-reader.ts)
 * backs it with the shared informers' caches; writes go through the runtime's KubeWriter and EventSink.
 */
import type { KubernetesObject, V1Deployment, V1Pod, V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import type { HelloWorld } from '../crd/types.js';

export interface ChildRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Reads, served from informer caches except where noted. */
export interface ClusterReader {
  getHelloWorld(namespace: string, name: string): HelloWorld | undefined;
  getChild(ref: ChildRef): KubernetesObject | undefined;
  /**
   * One object read from the API server, not cached; undefined only when the API server says it does not
   * exist. The child informers select the operator's label, so an object someone else created under a
   * child's name is never in their cache: a cache miss is not proof of absence.
   */
  readChild(ref: ChildRef): Promise<KubernetesObject | undefined>;
  /** The API pods and ReplicaSets of one HelloWorld instance. */
  listPods(namespace: string, instance: string): V1Pod[];
  listReplicaSets(namespace: string, instance: string): V1ReplicaSet[];
  /** The pods the backup CronJob of one HelloWorld instance ran (those its Jobs still keep). */
  listBackupPods(namespace: string, instance: string): V1Pod[];
  /** A Secret the user owns (external Redis URL): read from the API server, not cached. */
  readUserSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /**
   * A Deployment read from the API server, not cached: the rollout's deadline verdict is confirmed on it,
   * since the cache can lag behind a rollout that completed.
   */
  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
}
