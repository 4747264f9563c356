/**
 * The plugin's only I/O with the API server: read, watch and annotate one HelloWorld. The kubeconfig is
 * resolved as kubectl does, by client-node's KubeConfig (KUBECONFIG with several files, exec plugins,
 * auth providers, in-cluster); requests go through the operator's own REST and watch code
 * (runtime/rest.ts, runtime/watch.ts), which keep the API server's JSON as it is.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, PLURAL } from '../crd/types.js';
import { HttpKubeRest, isNotFound, type KubeRest } from '../runtime/rest.js';
import { HttpWatcher } from '../runtime/watch.js';
import { FIELD_MANAGER, mergePatch, type AnnotationChange } from './annotate.js';

export interface Target {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A HelloWorld that is not there (or went away while watched): exit code 1 with this message. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class HelloWorlds {
  private readonly rest: KubeRest;

  private constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.rest = new HttpKubeRest(kc);
  }

  /** --kubeconfig, else KUBECONFIG, else ~/.kube/config; --context, else the current one; -n, else its namespace. */
  static connect(target: Target): HelloWorlds {
    const kc = new KubeConfig();
    if (target.kubeconfig !== undefined) kc.loadFromFile(target.kubeconfig);
    else kc.loadFromDefault();
    if (target.context !== undefined) {
      if (kc.getContextObject(target.context) === null) {
        throw new Error(`the kubeconfig has no context "${target.context}"`);
      }
      kc.setCurrentContext(target.context);
    }
    if (kc.getCurrentCluster() === null) throw new Error('the kubeconfig has no current context or cluster');
    const namespace = target.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    return new HelloWorlds(kc, namespace);
  }

  private collection(): string {
    return `/apis/${API_VERSION}/namespaces/${encodeURIComponent(this.namespace)}/${PLURAL}`;
  }

  private path(name: string): string {
    return `${this.collection()}/${encodeURIComponent(name)}`;
  }

  async get(name: string): Promise<unknown> {
    try {
      return await this.rest.request<unknown>('GET', this.path(name));
    } catch (error) {
      throw this.explain(error, name);
    }
  }

  async annotate(name: string, change: AnnotationChange): Promise<unknown> {
    try {
      return await this.rest.request<unknown>('PATCH', this.path(name), {
        query: { fieldManager: FIELD_MANAGER },
        body: mergePatch(change),
        contentType: 'application/merge-patch+json',
      });
    } catch (error) {
      throw this.explain(error, name);
    }
  }

  /**
   * Calls `onObject` with the HelloWorld now and on every change until `signal` aborts: a read, then a
   * watch from its resourceVersion; when the watch ends (the API server closes watches after a while,
   * or the connection broke) the loop reads again and watches anew, so no change is lost. Rejects with
   * NotFoundError when the object is deleted, and with the error of the first read; later failed reads (a
   * blip of the API server) are retried with backoff, told to `onRetry`.
   */
  async follow(
    name: string,
    onObject: (object: unknown) => void,
    signal: AbortSignal,
    onRetry: (error: Error) => void = () => undefined,
  ): Promise<void> {
    const watcher = new HttpWatcher(this.kc, 60_000);
    let first = true;
    let backoffMs = 500;
    while (!signal.aborted) {
      let object: unknown;
      try {
        object = await this.get(name);
      } catch (error) {
        if (first || error instanceof NotFoundError) throw error;
        onRetry(error as Error);
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 10_000);
        continue;
      }
      first = false;
      backoffMs = 500;
      onObject(object);
      const resourceVersion = (object as { metadata?: { resourceVersion?: string } }).metadata
        ?.resourceVersion;
      await new Promise<void>((resolve, reject) => {
        const onEvent = (type: string, changed: unknown): void => {
          if (type === 'DELETED') reject(new NotFoundError(`helloworld ${name} was deleted`));
          else if ((type === 'ADDED' || type === 'MODIFIED') && !signal.aborted) onObject(changed);
        };
        const query = { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: true };
        watcher
          .watch(this.collection(), query, onEvent, () => {
            resolve();
          })
          .then((controller) => {
            if (signal.aborted) controller.abort();
            else
              signal.addEventListener(
                'abort',
                () => {
                  controller.abort();
                },
                { once: true },
              );
          }, reject);
        signal.addEventListener(
          'abort',
          () => {
            resolve();
          },
          { once: true },
        );
      });
      await sleep(500, signal);
    }
  }

  private explain(error: unknown, name: string): Error {
    if (isNotFound(error))
      return new NotFoundError(notFoundText((error as Error).message, name, this.namespace));
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * What a 404 means: no such HelloWorld, or no such resource type at all when the cluster has no HelloWorld
 * CRD (the API server's words for an unknown path: a Status, or plain text for an unknown API group).
 */
export function notFoundText(apiMessage: string, name: string, namespace: string): string {
  const unknownPath = ['the server could not find the requested resource', '404 page not found'];
  return unknownPath.some((words) => apiMessage.includes(words))
    ? `the API server does not serve ${PLURAL}.${API_VERSION}: is the HelloWorld CRD installed?`
    : `helloworld ${name} not found in namespace ${namespace}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
