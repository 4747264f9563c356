/**
 * The reads that decide whose object stands under each child's name. The informer cache answers first;
 * on a miss the API server is asked, since the child informers see only objects with the operator's
 * label and someone else's object of that name is never in them. Each object is read at most once per
 * reconcile; in a steady state every child is cached and nothing is read.
 */
import type { KubernetesObject, V1StatefulSet } from '@kubernetes/client-node';
import { KINDS, typeMeta } from '../crd/kinds.js';
import type { HelloWorld } from '../crd/types.js';
import {
  claimConflict,
  claimNames,
  judgeBackupClaim,
  judgeOwnership,
  keyOf,
  type Ownership,
} from './ownership.js';
import type { ChildRef, ClusterReader } from './cluster-reader.js';

export class ChildReads {
  private readonly found = new Map<string, Promise<KubernetesObject | undefined>>();

  constructor(
    private readonly reader: ClusterReader,
    private readonly hw: HelloWorld,
  ) {}

  /** The object under `ref`'s name: cached, or read live; undefined when the API server has none. */
  find(ref: Omit<ChildRef, 'namespace'>): Promise<KubernetesObject | undefined> {
    const full = { ...ref, namespace: this.hw.metadata.namespace };
    const key = `${ref.kind}/${ref.name}`;
    let found = this.found.get(key);
    if (found === undefined) {
      const cached = this.reader.getChild(full);
      found = cached !== undefined ? Promise.resolve(cached) : this.reader.readChild(full);
      this.found.set(key, found);
    }
    return found;
  }

  /** Whose object stands under each desired child's name. */
  async ownership(desired: readonly KubernetesObject[]): Promise<Map<string, Ownership>> {
    const result = new Map<string, Ownership>();
    for (const obj of desired) {
      const ref = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', name: obj.metadata?.name ?? '' };
      const found = await this.find(ref);
      // The backup claim has no owner reference by design (builders/backup.ts): judged by its labels.
      let own =
        obj.kind === 'PersistentVolumeClaim'
          ? judgeBackupClaim(this.hw, found)
          : judgeOwnership(this.hw, found);
      // A StatefulSet about to be created takes over any claim of its volumes' names.
      if (own.state === 'absent' && obj.kind === 'StatefulSet') own = await this.claims(obj);
      result.set(keyOf(obj), own);
    }
    return result;
  }

  private async claims(sts: V1StatefulSet): Promise<Ownership> {
    for (const name of claimNames(sts)) {
      const claim = await this.find({ ...typeMeta(KINDS.PersistentVolumeClaim), name });
      const conflict = claim && claimConflict(this.hw, claim);
      if (conflict) return { state: 'foreign', conflict };
    }
    return { state: 'absent' };
  }
}
