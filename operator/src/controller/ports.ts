/**
 * What the reconciler needs from the world, as small interfaces. main.ts wires them to informer caches
 * and the Kubernetes client; integration tests wire the same real implementations to the local cluster.
 */
import type { KubernetesObject, V1Pod, V1ReplicaSet, V1Secret } from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldStatus } from '../api/types.js';

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
  listPods(namespace: string, selector: Record<string, string>): V1Pod[];
  listReplicaSets(namespace: string, selector: Record<string, string>): V1ReplicaSet[];
  /** A Secret the user owns (external Redis URL): read from the API server, not cached. */
  readUserSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
}

export interface ClusterWriter {
  /** Server-side apply with the operator's field manager; returns the object as stored. */
  apply<T extends KubernetesObject>(desired: T): Promise<T>;
  delete(ref: ChildRef): Promise<void>;
  patchStatus(hw: HelloWorld, status: HelloWorldStatus): Promise<void>;
}

export interface EventSink {
  record(hw: HelloWorld, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
