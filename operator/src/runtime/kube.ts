/**
 * The controller's one seam for writes to the API server (and the few reads informers do not cover).
 *
 * Every write is server-side apply with the caller's field manager, or a delete, or an apply to an
 * object's status subresource; each is counted per verb and kind, so tests and the benchmark can prove
 * that a steady state makes zero writes.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { firstDifference, withDesiredHash } from './apply-diff.js';
import type { Connection } from './connection.js';
import { HttpKubeRest, isNotFound, ResourcePaths, type KindInfo, type KubeRest } from './rest.js';

const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

export type WriteVerb = 'apply' | 'patch' | 'delete' | 'status';

/** The writes the reconciler needs; an interface so its unit tests can record calls instead. */
export interface KubeWriter {
  apply<T extends KubernetesObject>(desired: T): Promise<T>;
  applyIfNeeded<T extends KubernetesObject>(desired: T, live: T | undefined): Promise<ApplyOutcome<T>>;
  mergePatch<T extends KubernetesObject>(live: T, patch: object): Promise<T>;
  delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    uid?: string,
  ): Promise<boolean>;
  patchStatus<T extends StatusHolder>(obj: T, status: NonNullable<T['status']>): Promise<T>;
}

/** An object with a status subresource. */
export type StatusHolder = KubernetesObject & { status?: unknown };

export interface ApplyOutcome<T> {
  /** The object after the apply, or `live` when no write was needed. */
  object: T;
  applied: boolean;
  /** The first differing field path that caused the write ("" when the object was missing). */
  reason?: string;
}

export interface KubeClientOptions {
  /** The server-side apply field manager every apply is made as. */
  fieldManager: string;
  /** The annotation `applyIfNeeded` stamps with the hash of the desired object (apply-diff.ts). */
  desiredHashAnnotation: string;
  /** Where the caller's kinds live in the API; other kinds are found by discovery. */
  kinds?: Iterable<KindInfo>;
  /** Called after every successful write (e.g. to count `<prefix>_kube_writes_total`). */
  onWrite?: (verb: WriteVerb, kind: string) => void;
}

export class KubeClient implements KubeWriter {
  private readonly paths: ResourcePaths;
  private readonly writes = new Map<string, number>();

  constructor(
    readonly rest: KubeRest,
    private readonly options: KubeClientOptions,
  ) {
    this.paths = new ResourcePaths(rest, options.kinds);
  }

  static fromKubeConfig(kc: Connection | KubeConfig, options: KubeClientOptions): KubeClient {
    return new KubeClient(new HttpKubeRest(kc), options);
  }

  /** Server-side apply of `desired` (force: the operator owns the fields it sets). */
  async apply<T extends KubernetesObject>(desired: T): Promise<T> {
    const { apiVersion, kind, namespace, name } = identify(desired);
    const path = await this.paths.path(apiVersion, kind, namespace, name);
    const result = await this.rest.request<T>('PATCH', path, {
      query: { fieldManager: this.options.fieldManager, force: true },
      body: desired,
      contentType: APPLY_PATCH,
    });
    this.count('apply', kind);
    return result;
  }

  /**
   * Stamps `desired` with its hash and applies it only when `live` (from an informer cache) is missing or
   * differs in a field `desired` sets: the zero-write steady state and the drift repair in one call.
   * An update carries `live`'s uid, a precondition: if the object was replaced meanwhile (deleted and
   * created again by someone else), the API server refuses the write instead of taking the new one over.
   */
  async applyIfNeeded<T extends KubernetesObject>(desired: T, live: T | undefined): Promise<ApplyOutcome<T>> {
    const stamped = withDesiredHash(desired, this.options.desiredHashAnnotation);
    const reason = firstDifference(stamped, live);
    if (reason === undefined && live !== undefined) return { object: live, applied: false };
    const uid = live?.metadata?.uid;
    const body = uid === undefined ? stamped : { ...stamped, metadata: { ...stamped.metadata, uid } };
    return { object: await this.apply(body), applied: true, reason: reason ?? '' };
  }

  /**
   * A JSON merge patch of `live`, made as the field manager: a list in `patch` replaces the live list
   * whole, which server-side apply cannot do when another manager changed an entry's key (e.g. a
   * Service port's number). Carries `live`'s uid, so it never lands on an object created again meanwhile.
   */
  async mergePatch<T extends KubernetesObject>(live: T, patch: object): Promise<T> {
    const { apiVersion, kind, namespace, name } = identify(live);
    const path = await this.paths.path(apiVersion, kind, namespace, name);
    const uid = live.metadata?.uid;
    const result = await this.rest.request<T>('PATCH', path, {
      query: { fieldManager: this.options.fieldManager },
      body: uid === undefined ? patch : { ...patch, metadata: { uid } },
      contentType: MERGE_PATCH,
    });
    this.count('patch', kind);
    return result;
  }

  /**
   * Deletes an object (dependents are collected in the background); false when it was already gone.
   * With `uid`, only that very object: one created again under the name meanwhile is left alone.
   */
  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    uid?: string,
  ): Promise<boolean> {
    const path = await this.paths.path(apiVersion, kind, namespace, name);
    const body = uid === undefined ? undefined : { preconditions: { uid } };
    try {
      await this.rest.request('DELETE', path, { query: { propagationPolicy: 'Background' }, body });
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    this.count('delete', kind);
    return true;
  }

  /**
   * Server-side apply of `status` on the object's status subresource. The fields the field manager set
   * before and leaves out now are removed, as apply semantics say.
   */
  async patchStatus<T extends StatusHolder>(obj: T, status: NonNullable<T['status']>): Promise<T> {
    const { apiVersion, kind, namespace, name } = identify(obj);
    const path = await this.paths.path(apiVersion, kind, namespace, name);
    const result = await this.rest.request<T>('PATCH', `${path}/status`, {
      query: { fieldManager: this.options.fieldManager, force: true },
      body: { apiVersion, kind, metadata: { name, namespace }, status },
      contentType: APPLY_PATCH,
    });
    this.count('status', kind);
    return result;
  }

  /** Reads one object; undefined when it does not exist. */
  async get<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    const path = await this.paths.path(apiVersion, kind, namespace, name);
    try {
      return await this.rest.request<T>('GET', path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Successful writes so far, per verb (and per `verb/kind`), for tests and benchmarks. */
  writeCount(verb?: WriteVerb, kind?: string): number {
    if (verb === undefined) return this.writes.get('') ?? 0;
    return this.writes.get(kind === undefined ? verb : `${verb}/${kind}`) ?? 0;
  }

  private count(verb: WriteVerb, kind: string): void {
    for (const key of ['', verb, `${verb}/${kind}`]) this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
    this.options.onWrite?.(verb, kind);
  }
}

function identify(obj: KubernetesObject): {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
} {
  const { apiVersion, kind } = obj;
  const name = obj.metadata?.name;
  if (apiVersion === undefined || kind === undefined || name === undefined) {
    throw new Error('an object written by server-side apply needs apiVersion, kind and metadata.name');
  }
  return { apiVersion, kind, namespace: obj.metadata?.namespace, name };
}
